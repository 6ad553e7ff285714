"""Errors of slm-mesh, one small tree. Each class knows its wire code (`code`) and the
exit code the command line ends with (`exit_code`); `wire_errors.py` holds the one map
from codes to gRPC status codes and JSON error answers, used by every edge.

SlmMeshError                    code
├── InvalidRequestError         invalid_request     the caller sent something we refuse
│   └── UnreadablePayload       invalid_request     bytes that are no JSON we can read
├── HomeFileError               misconfigured       the home file is missing or malformed
├── ModelError                  misconfigured       a model file is missing or altered
├── PluginError                 misconfigured       no plugin by that name, or a broken one
├── DeadlineExceeded            deadline_exceeded   no answer came before the deadline
└── ServiceUnavailable          unavailable         no instance of the needed service runs

Packages add their own below these (`BrokerError`, `DiscoveryError`, the fallback's), each
with its code; `tests/test_errors.py` checks that every class has one the map knows.
"""

from __future__ import annotations

from typing import ClassVar, Literal

ErrorCode = Literal[
    "invalid_request",
    "deadline_exceeded",
    "unavailable",
    "misconfigured",
    "internal",
]
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class SlmMeshError(Exception):
    """Base of every error slm-mesh raises on purpose."""

    code: ClassVar[ErrorCode] = "internal"
    exit_code: ClassVar[int] = EXIT_FAILED


class InvalidRequestError(SlmMeshError):
    """A request we refuse; `field` names the offending part."""

    code = "invalid_request"
    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, field: str = "text") -> None:
        super().__init__(message)
        self.field = field


class UnreadablePayload(InvalidRequestError):
    """A message's bytes cannot be read as JSON; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="payload")


class HomeFileError(SlmMeshError):
    """The home file cannot be used; the message names the file and line."""

    code = "misconfigured"
    exit_code = EXIT_BAD_INPUT


class ModelError(SlmMeshError):
    """A model cannot be loaded; the message says which file and what to do."""

    code = "misconfigured"


class PluginError(SlmMeshError):
    """A plugin is unknown or broken."""

    code = "misconfigured"


class DeadlineExceeded(SlmMeshError):
    """No answer came before the request's deadline."""

    code = "deadline_exceeded"


class ServiceUnavailable(SlmMeshError):
    """No instance of the service a request needs is running; the message says how to start one."""

    code = "unavailable"
