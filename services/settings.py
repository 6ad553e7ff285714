"""One settings object, built once at start-up and passed down.

Sources, strongest first: command-line options, environment variables with the
`SLM_MESH_` prefix (as compose files set them), a YAML config file (`--config` or
`SLM_MESH_CONFIG`), then the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    home: Path | None = Field(None, description="home file (HA fixture shape); default: the demo")
    plugin: str = Field("minilm", description="model plugin name, or path:/dir of an ONNX export")
    cache_dir: Path = Field(default_factory=_default_cache_dir, description="trained heads")
    precision: Literal["auto", "int8", "fp32"] = Field(
        "auto", description="model precision; auto: int8 where this CPU runs it faster"
    )
    intra_op_threads: int | None = Field(None, ge=1, description="ONNX Runtime threads per call")
    max_text_chars: int = Field(1000, ge=1, description="longest accepted request text")
    min_confidence: float = Field(0.3, ge=0.0, le=1.0, description="below it, no intent")
    batch_max_size: int = Field(32, ge=1, description="micro-batch size limit")
    batch_max_wait_ms: float = Field(2.0, ge=0.0, description="micro-batch wait while forming")
    host: str = Field("127.0.0.1", description="gRPC listen address")
    port: int = Field(50051, ge=0, le=65535, description="gRPC port (0: any free port)")
    log_format: Literal["auto", "json", "console"] = Field("auto", description="log rendering")
    log_level: Literal["debug", "info", "warning", "error"] = "info"

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
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)


def load_settings(*, config_file: Path | None = None, **options: Any) -> Settings:
    """Settings from options given (None means: not given), env, config file, defaults."""
    if config_file is not None:
        if not config_file.is_file():
            raise FileNotFoundError(f"config file {config_file} does not exist")
        os.environ[f"{ENV_PREFIX}CONFIG"] = str(config_file)
    return Settings(**{k: v for k, v in options.items() if v is not None})
