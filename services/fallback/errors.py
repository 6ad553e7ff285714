"""Errors of the LLM fallback. The fallback itself never lets server trouble escape
(`LlmFallback.ask` turns it into a "cannot help" answer); these travel between its parts.

SlmMeshError
└── FallbackError              anything the fallback refuses or cannot do
    ├── FallbackConfigError    the configuration is unusable (missing key file, bad URL)
    ├── FallbackUnavailable    the server cannot be reached, is too slow, or answers 4xx/5xx
    │   └── FallbackTimeout    the call ran past its time limit
    └── FallbackGarbage        the server answered, but not with what the schema asks for
"""

from __future__ import annotations

from typing import ClassVar

from slm_mesh.services.errors import ErrorCode, SlmMeshError


class FallbackError(SlmMeshError):
    """Base of the fallback's errors."""

    # Declared again: unannotated, `code` would narrow to this one literal for the subclasses.
    code: ClassVar[ErrorCode] = "unavailable"


class FallbackConfigError(FallbackError):
    """The fallback's configuration cannot be used; the message says which value and why."""

    code = "misconfigured"


class FallbackUnavailable(FallbackError):
    """The server did not give a usable HTTP answer; `status` is its HTTP status, if any."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class FallbackTimeout(FallbackUnavailable):
    """The call took longer than `timeout_s`."""

    code = "deadline_exceeded"

    def __init__(self, timeout_s: float) -> None:
        super().__init__(f"timeout after {timeout_s:.1f} s")
        self.timeout_s = timeout_s


class FallbackGarbage(FallbackError):
    """The server's answer is not JSON or does not follow the schema."""
