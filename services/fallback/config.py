"""The fallback's configuration as one frozen value; the service's Settings map onto it
with `FallbackConfig.from_values` at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from slm_mesh.services.fallback.errors import FallbackConfigError
from slm_mesh.services.redact import redact_url

API_KEY_ENV = "SLM_MESH_LLM_API_KEY"


@dataclass(frozen=True)
class FallbackConfig:
    base_url: str = field(repr=False)
    """e.g. `http://localhost:11434/v1` (Ollama), `http://localhost:8080/v1` (llama.cpp)."""
    model: str
    api_key: SecretStr | None = None
    """Sent as a Bearer token; SecretStr keeps it out of reprs and logs."""
    timeout_s: float = 10.0
    """Per call; a request's own deadline shortens it."""
    per_minute: int = 20
    per_day: int = 500
    breaker_threshold: int = 3
    """Consecutive failures that open the breaker."""
    breaker_cooldown_s: float = 30.0
    """How long the breaker stays open before one trial call."""
    cache_size: int = 256
    cache_ttl_s: float = 300.0
    max_text_chars: int = 4000
    """Longer requests are not sent: each call's cost grows with its text."""

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise FallbackConfigError(
                f"llm_url must start with http:// or https://, not {redact_url(self.base_url)!r}"
            )
        if not self.model.strip():
            raise FallbackConfigError("llm_model must not be empty")
        if self.timeout_s <= 0:
            raise FallbackConfigError(f"llm_timeout_s must be positive, not {self.timeout_s}")

    @classmethod
    def from_values(
        cls,
        *,
        base_url: str,
        model: str,
        api_key: SecretStr | str | None = None,
        api_key_file: Path | str | None = None,
        environ: Mapping[str, str] | None = None,
        timeout_s: float = 10.0,
        per_minute: int = 20,
        per_day: int = 500,
        breaker_threshold: int = 3,
        breaker_cooldown_s: float = 30.0,
        cache_size: int = 256,
        cache_ttl_s: float = 300.0,
        max_text_chars: int = 4000,
    ) -> FallbackConfig:
        """The key comes from `api_key`, else `api_key_file`, else `environ[API_KEY_ENV]`;
        giving both a key and a key file is refused as ambiguous."""
        return cls(
            base_url=base_url,
            model=model,
            api_key=resolve_api_key(api_key, api_key_file, environ or {}),
            timeout_s=timeout_s,
            per_minute=per_minute,
            per_day=per_day,
            breaker_threshold=breaker_threshold,
            breaker_cooldown_s=breaker_cooldown_s,
            cache_size=cache_size,
            cache_ttl_s=cache_ttl_s,
            max_text_chars=max_text_chars,
        )


def resolve_api_key(
    api_key: SecretStr | str | None,
    api_key_file: Path | str | None,
    environ: Mapping[str, str],
) -> SecretStr | None:
    if api_key is not None and api_key_file is not None:
        raise FallbackConfigError("give the LLM API key or a file holding it, not both")
    if api_key_file is not None:
        return _read_key_file(Path(api_key_file))
    if api_key is None:
        api_key = environ.get(API_KEY_ENV)
    if isinstance(api_key, str):
        api_key = SecretStr(api_key.strip())
    if api_key is None or not api_key.get_secret_value():
        return None
    return api_key


def _read_key_file(path: Path) -> SecretStr:
    try:
        key = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise FallbackConfigError(f"llm_api_key_file {path}: no such file") from None
    except OSError as err:
        raise FallbackConfigError(f"llm_api_key_file {path}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise FallbackConfigError(f"llm_api_key_file {path} is not UTF-8 text") from None
    if not key:
        raise FallbackConfigError(f"llm_api_key_file {path} is empty")
    return SecretStr(key)
