"""What the model is asked for, and how its reply is checked against the home."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from slm_mesh.services.contracts.intent import IntentResult
from slm_mesh.services.fallback import (
    API_KEY_ENV,
    INTENTS,
    FallbackConfig,
    FallbackConfigError,
    FallbackGarbage,
    Rejection,
    parse_reply,
    reply_schema,
    response_format,
    validate_intent,
)
from slm_mesh.services.fallback.schema import system_prompt
from slm_mesh.services.home.model import Home, parse_home

HOME = """
floors:
  - {name: Downstairs, id: downstairs, aliases: [ground floor]}
areas:
  - {name: Kitchen, id: kitchen, floor: downstairs}
  - {name: Lounge, id: lounge, floor: downstairs, aliases: [living room]}
entities:
  - {name: Pendant, id: light.kitchen_pendant, area: kitchen, aliases: [ceiling light]}
  - {name: Floor Lamp, id: light.lounge_floor_lamp, area: lounge}
  - {name: Lounge Blinds, id: cover.lounge_blinds, area: lounge}
  - {name: Speaker, id: media_player.lounge_speaker, area: lounge}
"""


@pytest.fixture(scope="module")
def home() -> Home:
    return parse_home(HOME)


def intent(intent_name: str, /, **slots: object) -> str:
    return json.dumps({"kind": "intent", "intent": intent_name, "slots": slots, "answer": None})


def check(home: Home, payload: str) -> IntentResult | Rejection:
    return validate_intent(parse_reply(payload), home, text="say it")


def test_schema_is_strict_and_lists_the_homes_areas_floors_and_domains(home: Home) -> None:
    schema = reply_schema(home)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(schema["properties"])
    slots = schema["properties"]["slots"]
    assert set(slots["required"]) == set(slots["properties"])
    assert slots["properties"]["area"]["enum"] == ["Kitchen", "Lounge", None]
    assert slots["properties"]["floor"]["enum"] == ["Downstairs", None]
    assert slots["properties"]["domain"]["enum"] == ["cover", "light", "media_player", None]
    assert slots["properties"]["brightness"]["maximum"] == 100
    assert {"HassTurnOn", "HassLightSet", "HassGetCurrentTime"} <= set(INTENTS)
    assert response_format(home)["json_schema"]["strict"] is True


def test_prompt_lists_every_entity_area_and_the_requesting_devices_area(home: Home) -> None:
    prompt = system_prompt(home, area="living room")
    for name in ("Pendant", "ceiling light", "Floor Lamp", "Kitchen", "Downstairs"):
        assert name in prompt
    assert "from a device in Lounge" in prompt


def test_a_valid_intent_uses_the_homes_own_spelling(home: Home) -> None:
    result = check(home, intent("HassLightSet", name="CEILING LIGHT", brightness=40.0))
    assert isinstance(result, IntentResult)
    assert result.intent == "HassLightSet"
    assert result.slots == {"name": "Pendant", "brightness": 40}
    assert result.tier == "llm" and result.text == "say it"


def test_area_floor_and_domain_map_to_the_home(home: Home) -> None:
    result = check(home, intent("HassTurnOff", area="living room", domain="Light"))
    assert isinstance(result, IntentResult)
    assert result.slots == {"area": "Lounge", "domain": "light"}
    result = check(home, intent("HassTurnOff", floor="ground floor"))
    assert isinstance(result, IntentResult) and result.slots == {"floor": "Downstairs"}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (intent("HassTurnOn", name="Garage Door"), "entity the home does not have: Garage Door"),
        (intent("HassTurnOn", area="Garage"), "area the home does not have: Garage"),
        (intent("HassTurnOn", floor="Attic"), "floor the home does not have: Attic"),
        (intent("HassTurnOn", domain="lock"), "domain the home does not have: lock"),
        (intent("HassTurnOn", name="Pendant", area="Lounge"), "no Pendant in Lounge"),
        (intent("HassLightSet", name="Speaker", brightness=5), "cannot act on Speaker"),
        (intent("HassTurnOn"), "without a device, area, floor or domain"),
    ],
)
def test_what_the_home_does_not_have_is_rejected(home: Home, payload: str, reason: str) -> None:
    result = check(home, payload)
    assert isinstance(result, Rejection)
    assert reason in result.reason


def test_a_timer_name_is_not_an_entity(home: Home) -> None:
    result = check(home, intent("HassStartTimer", name="pasta", minutes=8))
    assert isinstance(result, IntentResult)
    assert result.slots == {"name": "pasta", "minutes": 8}


def test_nulls_are_dropped_and_answers_parsed() -> None:
    reply = parse_reply(intent("HassTurnOn", name="Pendant", area=None))
    assert reply.slots == {"name": "Pendant"}
    reply = parse_reply('{"kind": "answer", "intent": null, "slots": {}, "answer": " Paris. "}')
    assert reply.kind == "answer" and reply.answer == "Paris."


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        ("Sure, I turned it on!", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"kind": "maybe"}', "unknown kind"),
        (intent("HassOpenThePodBayDoors"), "unknown intent"),
        (intent("HassLightSet", name="Pendant", brightness=140), "within 0-100"),
        (intent("HassLightSet", name="Pendant", brightness="bright"), "must be a number"),
        (intent("HassLightSet", name="Pendant", brightness=True), "must be a number"),
        (intent("HassLightSet", name="Pendant", brightness=40.5), "whole number"),
        (intent("HassTurnOn", entity_id="light.x"), "unknown slot"),
        (intent("HassTurnOn", name=""), "non-empty text"),
        ('{"kind": "answer", "answer": null}', "without answer text"),
    ],
)
def test_garbage_is_refused_with_a_reason(payload: str, why: str) -> None:
    with pytest.raises(FallbackGarbage, match=why):
        parse_reply(payload)


def test_config_reads_the_key_from_a_file_and_keeps_it_out_of_repr(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("sk-very-secret\n", encoding="utf-8")
    config = FallbackConfig.from_values(
        base_url="http://localhost:11434/v1", model="llama3.2", api_key_file=key_file
    )
    assert config.api_key is not None
    assert config.api_key.get_secret_value() == "sk-very-secret"
    assert "sk-very-secret" not in repr(config)


def test_config_takes_the_key_from_the_environment_when_given_none() -> None:
    config = FallbackConfig.from_values(
        base_url="http://x/v1", model="m", environ={API_KEY_ENV: "sk-env"}
    )
    assert config.api_key == SecretStr("sk-env")
    assert FallbackConfig.from_values(base_url="http://x/v1", model="m").api_key is None


def test_config_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(FallbackConfigError, match="no such file"):
        FallbackConfig.from_values(base_url="http://x/v1", model="m", api_key_file=tmp_path / "k")
    with pytest.raises(FallbackConfigError, match="not both"):
        FallbackConfig.from_values(
            base_url="http://x/v1", model="m", api_key="a", api_key_file=tmp_path / "k"
        )
    with pytest.raises(FallbackConfigError, match="http://"):
        FallbackConfig.from_values(base_url="localhost:11434", model="m")
