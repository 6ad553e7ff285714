"""One settings object, built once at start-up and passed down.

Sources, strongest first: command-line options, environment variables with the
`SLM_MESH_` prefix (as compose files set them), a YAML config file (`--config` or
`SLM_MESH_CONFIG`), then the defaults below.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

ENV_PREFIX = "SLM_MESH_"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "slm-mesh"


class MqttSettings(BaseModel):
    """The mesh's broker: SLM_MESH_MQTT_URL, SLM_MESH_MQTT_PREFIX, ..."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(
        None, description="broker, mqtt://[user@]host[:port] or mqtts://; none: no MQTT"
    )
    password: SecretStr | None = Field(None, description="broker password (never logged)")
    tls_ca_file: Path | None = Field(None, description="CA bundle for mqtts:// brokers")
    protocol: Literal["5", "3.1.1"] = Field("5", description="MQTT protocol version")
    shared_subscriptions: bool = Field(True, description="replicas share requests")
    prefix: str = Field("slm-mesh", description="root of the mesh's topic tree")
    logins_file: Path | None = Field(
        None,
        description="per-role broker logins; default: the embedded broker's, on this machine",
    )


class BrokerSettings(BaseModel):
    """The embedded broker `slm-mesh up` starts: SLM_MESH_BROKER_PORT, ..."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(
        "127.0.0.1", description="embedded broker's address; 0.0.0.0 opens it to the LAN"
    )
    port: int = Field(1883, ge=0, le=65535, description="embedded broker's port")
    allow_anonymous: bool = Field(
        False, description="embedded broker: let clients in without a login (logged loudly)"
    )


class MeshKeySettings(BaseModel):
    """The key service instances sign with: SLM_MESH_MESH_KEY, SLM_MESH_MESH_KEY_FILE."""

    model_config = ConfigDict(extra="forbid")

    key: SecretStr | None = Field(
        None, description="hex key services sign status and answers with (never logged)"
    )
    key_file: Path | None = Field(
        None, description="file holding the mesh key; default: <cache_dir>/mesh.key, made once"
    )


class BatchSettings(BaseModel):
    """Micro-batches of the services that read sentences: SLM_MESH_BATCH_MAX_SIZE, ..."""

    model_config = ConfigDict(extra="forbid")

    max_size: int = Field(32, ge=1, description="micro-batch size limit")
    # 2,000: 32 commands of 60 characters fit; about 30 ms of model on the 2-core x86 box,
    # which bounds how long a call that arrives meanwhile waits for its turn.
    max_chars: int = Field(2000, ge=1, description="micro-batch limit in characters")
    max_wait_ms: float = Field(2.0, ge=0.0, description="micro-batch wait while forming")


class UnansweredSettings(BaseModel):
    """The router's log of what no local tier answered: SLM_MESH_UNANSWERED_LOG, ..."""

    model_config = ConfigDict(extra="forbid")

    log: Path | None = Field(
        None, description="log of requests no local tier answered; default: in cache_dir"
    )
    log_max_bytes: int = Field(1_000_000, ge=1024, description="then it rotates")


class SentimentSettings(BaseModel):
    """The sentiment service: SLM_MESH_SENTIMENT_MODEL."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        "",
        description="the head file to use, or path:/dir of a sequence-classification "
        "ONNX export; empty: the head that ships, on the shared encoder",
    )


class WyomingSettings(BaseModel):
    """Home Assistant Assist's conversation agent: SLM_MESH_WYOMING_PORT, ..."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="`up` serves Home Assistant's Wyoming protocol")
    host: str = Field(
        "127.0.0.1", description="Wyoming listen address; 0.0.0.0 lets Home Assistant elsewhere in"
    )
    port: int = Field(10700, ge=0, le=65535, description="Wyoming port (0: any free port)")
    zeroconf: bool = Field(
        True, description="announce it over mDNS for Home Assistant, when not on loopback"
    )


class CodeSettings(BaseModel):
    """The code-snippet service: SLM_MESH_CODE_PLUGIN, ..."""

    model_config = ConfigDict(extra="forbid")

    plugin: str = Field(
        "retrieval",
        description="retrieval (the snippet library), smollm2 (after `slm-mesh models build "
        "smollm2`), or path:DIR of an onnxruntime-genai model folder",
    )
    model_first: bool = Field(
        False,
        description="with a generative plugin: the model writes every answer (true), or only "
        "those the snippet library has nothing close for (false)",
    )
    max_new_tokens: int = Field(400, ge=16, le=4096, description="most tokens one answer writes")
    time_limit_s: float = Field(30.0, gt=0, description="longest one generation may take")


class HomeAssistantSettings(BaseModel):
    """The home read from Home Assistant instead of a file: SLM_MESH_HOMEASSISTANT_URL, ..."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(
        None, description="e.g. http://homeassistant.local:8123; none: the home file"
    )
    token: SecretStr | None = Field(None, description="long-lived access token (never logged)")
    token_file: Path | None = Field(None, description="file holding the access token")


class LlmSettings(BaseModel):
    """The optional LLM fallback (any OpenAI-compatible chat-completions server):
    SLM_MESH_LLM_URL, SLM_MESH_LLM_MODEL, ..."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, description="e.g. http://localhost:11434/v1; none: off")
    model: str = Field("llama3.2", description="model name the server knows")
    api_key: SecretStr | None = Field(None, description="API key (never logged)")
    api_key_file: Path | None = Field(None, description="file holding the API key")
    timeout_s: float = Field(10.0, gt=0, description="per call, within the deadline")
    per_minute: int = Field(20, ge=0, description="budget: calls per minute")
    per_day: int = Field(500, ge=0, description="budget: calls per day")
    max_text_chars: int = Field(4000, ge=1, description="longer requests are not sent")


class GrpcSettings(BaseModel):
    """gRPC across the LAN: SLM_MESH_GRPC_TLS, SLM_MESH_GRPC_TOKEN_FILE, ..."""

    model_config = ConfigDict(extra="forbid")

    tls: Literal["auto", "on", "off"] = Field(
        "auto", description="gRPC TLS: auto (beyond loopback only), on, off"
    )
    cert_file: Path | None = Field(
        None, description="server certificate chain (PEM); none: the mesh's own CA makes one"
    )
    key_file: Path | None = Field(None, description="the server certificate's key (PEM)")
    names: list[str] = Field(
        default_factory=list,
        description="DNS names and IPs clients dial, for the certificate the mesh makes",
    )
    client_ca_file: Path | None = Field(
        None, description="require client certificates signed by this CA"
    )
    ca_file: Path | None = Field(
        None, description="clients: the CA to trust; default: the mesh's own, else the system's"
    )
    client_cert_file: Path | None = Field(None, description="clients: certificate to present")
    client_key_file: Path | None = Field(None, description="clients: its key")
    server_name: str | None = Field(
        None, description="clients: the name the server's certificate carries, if not the host"
    )
    token: SecretStr | None = Field(
        None, description="bearer token every call but health checks carries (never logged)"
    )
    token_file: Path | None = Field(None, description="file holding the bearer token")


#: The groups, by the prefix of their flat names (`mqtt_url` is `mqtt.url`).
_GROUPS = (
    "mqtt", "broker", "mesh", "batch", "unanswered", "sentiment", "code", "wyoming",
    "homeassistant", "llm", "grpc",
)  # fmt: skip


def _grouped(data: dict[str, Any]) -> dict[str, Any]:
    """Flat names put in their groups; a flat name wins over the same one nested."""
    grouped: dict[str, Any] = {}
    flat: dict[str, dict[str, Any]] = {}
    for name, value in data.items():
        group, _, rest = name.partition("_")
        if group in _GROUPS and rest:
            flat.setdefault(group, {})[rest] = value
        else:
            grouped[name] = value
    for group, values in flat.items():
        nested = grouped.get(group, {})
        grouped[group] = {**nested, **values} if isinstance(nested, dict) else nested
    return grouped


class _GroupedYamlSource(YamlConfigSettingsSource):
    """The file's flat names grouped before sources merge, so the environment's
    SLM_MESH_MQTT_URL still beats the file's `mqtt_url`."""

    def __call__(self) -> dict[str, Any]:
        return _grouped(super().__call__())


class Settings(BaseSettings):
    """Every setting has one name: SLM_MESH_MQTT_URL in the environment, `mqtt_url` as an
    option (and in `Settings(...)`), `settings.mqtt.url` in code; a component's settings
    are one group."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="_", env_nested_max_split=1, extra="forbid"
    )

    home: Path | None = Field(None, description="home file (HA fixture shape); default: the demo")
    plugin: str = Field("minilm", description="model plugin name, or path:/dir of an ONNX export")
    cache_dir: Path = Field(default_factory=_default_cache_dir, description="trained heads")
    precision: Literal["auto", "int8", "fp32"] = Field(
        "auto", description="model precision; auto: int8 where this CPU runs it faster"
    )
    intra_op_threads: int | None = Field(
        None, ge=1, description="model threads: per call (fp32), or parts of a large batch (int8)"
    )
    max_text_chars: int = Field(1000, ge=1, description="longest accepted request text")
    min_confidence: float = Field(0.3, ge=0.0, le=1.0, description="below it, no intent")
    # 16,000: 64 texts of 250 characters (a long spoken command has under 200), or 16 at the
    # text limit; about 0.25 s of model on the 2-core x86 box, where 64 x 1,000 took a second.
    max_call_chars: int = Field(
        16_000, ge=1, description="most characters in one call, all its texts together"
    )
    batch: BatchSettings = Field(default_factory=BatchSettings)
    host: str = Field("127.0.0.1", description="gRPC listen address")
    port: int = Field(50051, ge=0, le=65535, description="gRPC port (0: any free port)")
    grpc: GrpcSettings = Field(default_factory=GrpcSettings)
    log_format: Literal["auto", "json", "console"] = Field("auto", description="log rendering")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="least severe log messages shown"
    )
    sentiment: SentimentSettings = Field(default_factory=SentimentSettings)
    code: CodeSettings = Field(default_factory=CodeSettings)

    # The mesh.
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    broker: BrokerSettings = Field(default_factory=BrokerSettings)
    mesh: MeshKeySettings = Field(default_factory=MeshKeySettings)
    trusted_instances: list[str] = Field(
        default_factory=list,
        description="instance ids (fnmatch patterns) the router accepts; empty: any signed",
    )
    reply_topics: list[str] = Field(
        default_factory=list,
        description="topic filters answers may go to; empty: <mqtt_prefix>/reply/#",
    )

    # The router.
    deadline_ms: int = Field(5000, ge=10, le=600_000, description="default request deadline")
    attempt_timeout_ms: int = Field(1000, ge=10, description="re-send a service request after")
    devices: dict[str, str] = Field(
        default_factory=dict, description="device id -> its area, when events do not say"
    )
    unanswered: UnansweredSettings = Field(default_factory=UnansweredSettings)
    hermes: bool = Field(False, description="also speak Rhasspy's Hermes NLU topics")
    discovery: bool = Field(False, description="learn entities from HA MQTT discovery")
    discovery_prefix: str = Field("homeassistant", description="HA MQTT discovery prefix")
    execute_domains: list[str] = Field(
        default_factory=list, description="domains whose resolved intents are sent to devices"
    )
    wyoming: WyomingSettings = Field(default_factory=WyomingSettings)
    homeassistant: HomeAssistantSettings = Field(default_factory=HomeAssistantSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)

    @model_validator(mode="before")
    @classmethod
    def _group_flat_names(cls, data: Any) -> Any:
        """`mqtt_url=...` (an option, a test) is `mqtt={"url": ...}`."""
        return _grouped(data) if isinstance(data, dict) else data

    def updated(self, **values: Any) -> Settings:
        """These settings with some values changed, by their flat names (`mqtt_url`)."""
        data = self.model_dump()
        for name, value in values.items():
            group, _, rest = name.partition("_")
            if group in _GROUPS and rest:
                data[group][rest] = value
            else:
                data[name] = value
        return Settings.model_validate(data)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = os.environ.get(f"{ENV_PREFIX}CONFIG")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_file:
            sources.append(_GroupedYamlSource(settings_cls, yaml_file=config_file))
        return tuple(sources)


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as `SLM_MESH_*` variables, to start another process with the same ones."""
    flat: dict[str, Any] = {}
    for name, value in settings.model_dump().items():
        if name in _GROUPS:
            flat |= {f"{name}_{field}": inner for field, inner in value.items()}
        else:
            flat[name] = value
    env = {}
    for name, value in flat.items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, dict | list):
            value = json.dumps(value)
        env[f"{ENV_PREFIX}{name.upper()}"] = str(value)
    return env


def settings_help() -> list[str]:
    """Every environment variable with its default and meaning, for `slm-mesh --help`."""
    lines = []
    for name, field_info in Settings.model_fields.items():
        group = field_info.default_factory if name in _GROUPS else None
        if isinstance(group, type) and issubclass(group, BaseModel):
            for inner, inner_info in group.model_fields.items():
                lines.append(_help_line(f"{name}_{inner}", inner_info))
        else:
            lines.append(_help_line(name, field_info))
    return lines


def _help_line(name: str, field_info: FieldInfo) -> str:
    default = field_info.get_default(call_default_factory=True)
    shown = "" if default is None or default == "" else f" (default: {default})"
    return f"  {ENV_PREFIX}{name.upper()}{shown}: {field_info.description or name}"


def load_settings(*, config_file: Path | None = None, **options: Any) -> Settings:
    """Settings from options given (None means: not given), env, config file, defaults."""
    if config_file is not None:
        if not config_file.is_file():
            raise FileNotFoundError(f"config file {config_file} does not exist")
        os.environ[f"{ENV_PREFIX}CONFIG"] = str(config_file)
    return Settings(**{k: v for k, v in options.items() if v is not None})
