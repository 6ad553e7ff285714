"""Errors on the wire: the one map from an error's code (`errors.py`) to a gRPC status
and to the JSON error answer MQTT and the command line give, and back.

    {"error": {"code": "invalid_request", "message": "text is empty"}}

An error we did not raise on purpose is `internal`; its message stays in the service's
log, and the caller is told only that (over gRPC) or its type and text (over MQTT, where
the requester is the mesh's own router). Messages lose any URL password (`redact`).
"""

from __future__ import annotations

from typing import Any

import grpc

from slm_mesh.services.errors import (
    DeadlineExceeded,
    ErrorCode,
    InvalidRequestError,
    ServiceUnavailable,
    SlmMeshError,
)
from slm_mesh.services.redact import scrub

GRPC_STATUS: dict[ErrorCode, grpc.StatusCode] = {
    "invalid_request": grpc.StatusCode.INVALID_ARGUMENT,
    "deadline_exceeded": grpc.StatusCode.DEADLINE_EXCEEDED,
    "unavailable": grpc.StatusCode.UNAVAILABLE,
    "misconfigured": grpc.StatusCode.FAILED_PRECONDITION,
    "internal": grpc.StatusCode.INTERNAL,
}
_FROM_CODE: dict[str, type[SlmMeshError]] = {
    "invalid_request": InvalidRequestError,
    "deadline_exceeded": DeadlineExceeded,
    "unavailable": ServiceUnavailable,
}


def error_code(err: BaseException) -> ErrorCode:
    if isinstance(err, SlmMeshError):
        return err.code
    if isinstance(err, TimeoutError):
        return "deadline_exceeded"
    return "internal"


def error_json(code: ErrorCode, message: str) -> dict[str, Any]:
    """The JSON error answer."""
    return {"error": {"code": code, "message": scrub(message)}}


def error_json_for(err: BaseException) -> dict[str, Any]:
    if isinstance(err, SlmMeshError):
        return error_json(err.code, str(err))
    if isinstance(err, TimeoutError):
        return error_json("deadline_exceeded", "deadline exceeded")
    return error_json("internal", f"{type(err).__name__}: {err}")


def grpc_status(err: BaseException) -> tuple[grpc.StatusCode, str]:
    """The status and details a gRPC call ends with."""
    code = error_code(err)
    if code == "internal":
        return GRPC_STATUS[code], "internal error; see the service log"
    return GRPC_STATUS[code], scrub(str(err) or code.replace("_", " "))


def raise_for_error(service: str, reply: dict[str, Any]) -> None:
    """A service's JSON error answer as the error it stands for; nothing if none."""
    error = reply.get("error")
    if not error:
        return
    code = error.get("code") if isinstance(error, dict) else None
    message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
    error_class = _FROM_CODE.get(str(code))
    if error_class is None:
        raise SlmMeshError(f"the {service} service failed: {message}")
    raise error_class(message)
