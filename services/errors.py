"""Errors of slm-mesh, one small tree; the edges (gRPC, CLI) translate them.

SlmMeshError
├── InvalidRequestError   the caller sent something we refuse (INVALID_ARGUMENT, exit 2)
│   └── UnreadablePayload  bytes that are no JSON we can read (too big, too deep, not UTF-8)
├── HomeFileError         the home file is missing or malformed (exit 2, with its line)
├── ModelError            a model file is missing, altered, or of an unknown layout
├── PluginError           no plugin by that name, or it breaks its contract
├── DeadlineExceeded      no answer came before the request's deadline
└── ServiceUnavailable    no instance of the service a request needs is running
"""


class SlmMeshError(Exception):
    """Base of every error slm-mesh raises on purpose."""


class InvalidRequestError(SlmMeshError):
    """A request we refuse; `field` names the offending part."""

    def __init__(self, message: str, *, field: str = "text") -> None:
        super().__init__(message)
        self.field = field


class UnreadablePayload(InvalidRequestError):
    """A message's bytes cannot be read as JSON; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="payload")


class HomeFileError(SlmMeshError):
    """The home file cannot be used; the message names the file and line."""


class ModelError(SlmMeshError):
    """A model cannot be loaded; the message says which file and what to do."""


class PluginError(SlmMeshError):
    """A plugin is unknown or broken."""


class DeadlineExceeded(SlmMeshError):
    """No answer came before the request's deadline."""


class ServiceUnavailable(SlmMeshError):
    """No instance of the service a request needs is running; the message says how to start one."""
