"""Settings: one name per setting, whether it comes as an option, a variable or a file line."""

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from slm_mesh.services.settings import Settings, load_settings, settings_env, settings_help


@pytest.fixture(autouse=True)
def no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SLM_MESH_"):
            monkeypatch.delenv(name)
    # load_settings(config_file=...) names the file in SLM_MESH_CONFIG: removed again after.
    monkeypatch.setenv("SLM_MESH_CONFIG", "")
    monkeypatch.delenv("SLM_MESH_CONFIG")


def test_a_flat_option_lands_in_its_group() -> None:
    settings = load_settings(mqtt_url="mqtt://gateway.local", batch_max_size=8, llm_model="phi")

    assert settings.mqtt.url == "mqtt://gateway.local"
    assert settings.batch.max_size == 8
    assert settings.llm.model == "phi"


def test_environment_names_are_the_flat_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLM_MESH_MQTT_URL", "mqtt://gateway.local")
    monkeypatch.setenv("SLM_MESH_MESH_KEY_FILE", "/etc/slm-mesh/mesh.key")
    monkeypatch.setenv("SLM_MESH_LOG_LEVEL", "debug")

    settings = load_settings()

    assert settings.mqtt.url == "mqtt://gateway.local"
    assert settings.mesh.key_file == Path("/etc/slm-mesh/mesh.key")
    assert settings.log_level == "debug"


def test_a_file_may_write_a_group_nested_or_flat(tmp_path: Path) -> None:
    config = tmp_path / "slm-mesh.yaml"
    config.write_text("mqtt:\n  url: mqtt://gateway.local\n  prefix: house\nllm_url: http://x/v1\n")

    settings = load_settings(config_file=config)

    assert (settings.mqtt.url, settings.mqtt.prefix) == ("mqtt://gateway.local", "house")
    assert settings.llm.url == "http://x/v1"


def test_options_beat_the_environment_which_beats_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "slm-mesh.yaml"
    config.write_text("mqtt_url: mqtt://from-file\nmqtt_prefix: file\nllm_model: file\n")
    monkeypatch.setenv("SLM_MESH_MQTT_URL", "mqtt://from-env")
    monkeypatch.setenv("SLM_MESH_LLM_MODEL", "env")

    settings = load_settings(config_file=config, llm_model="option")

    assert settings.mqtt.url == "mqtt://from-env"
    assert settings.mqtt.prefix == "file"
    assert settings.llm.model == "option"


def test_a_misspelt_setting_is_refused_with_its_name() -> None:
    with pytest.raises(ValidationError, match="prefx"):
        load_settings(mqtt_prefx="house")


def test_updated_changes_only_what_it_names() -> None:
    settings = Settings().updated(mqtt_prefix="house")

    changed = settings.updated(mqtt_url="mqtt://127.0.0.1:1883", port=0)

    assert (changed.mqtt.url, changed.mqtt.prefix, changed.port) == (
        "mqtt://127.0.0.1:1883",
        "house",
        0,
    )
    assert settings.mqtt.url is None


def test_settings_env_round_trips_through_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings(
        mqtt_url="mqtt://gateway.local", mqtt_password="s3cret", batch_max_chars=500, hermes=True
    )

    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)

    assert load_settings() == settings


def test_help_lists_every_variable_with_a_meaning() -> None:
    lines = settings_help()

    assert set(settings_env(load_settings(mqtt_url="mqtt://x", mesh_key="00"))) <= {
        line.split()[0].rstrip(":") for line in lines
    }
    assert "SLM_MESH_MQTT_PREFIX (default: slm-mesh): root of the mesh's topic tree" in (
        line.strip() for line in lines
    )
