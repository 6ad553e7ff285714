"""Every error knows its wire code, and the one map knows every code (as httpx checks that
all its exceptions are mapped)."""

from __future__ import annotations

import importlib
import pkgutil

import grpc
import pytest

import slm_mesh.plugins
import slm_mesh.services
from slm_mesh.services.errors import (
    DeadlineExceeded,
    InvalidRequestError,
    ServiceUnavailable,
    SlmMeshError,
)
from slm_mesh.services.wire_errors import (
    GRPC_STATUS,
    error_json_for,
    grpc_status,
    raise_for_error,
)


def every_error_class() -> list[type[SlmMeshError]]:
    for package in (slm_mesh.services, slm_mesh.plugins):
        for module in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
            if not module.name.endswith("__main__"):
                importlib.import_module(module.name)
    found: list[type[SlmMeshError]] = []
    pending = [SlmMeshError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize("error_class", every_error_class(), ids=lambda c: c.__qualname__)
def test_every_error_class_says_its_own_code_and_the_map_knows_it(
    error_class: type[SlmMeshError],
) -> None:
    declared_by = next(c for c in error_class.__mro__ if "code" in c.__dict__)
    assert error_class is SlmMeshError or declared_by is not SlmMeshError, (
        f"{error_class.__qualname__} inherits `internal` from SlmMeshError: give it a code"
    )
    assert error_class.code in GRPC_STATUS


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (InvalidRequestError("text is empty"), grpc.StatusCode.INVALID_ARGUMENT, "invalid_request"),
        (DeadlineExceeded("no reply"), grpc.StatusCode.DEADLINE_EXCEEDED, "deadline_exceeded"),
        (ServiceUnavailable("none online"), grpc.StatusCode.UNAVAILABLE, "unavailable"),
        (TimeoutError(), grpc.StatusCode.DEADLINE_EXCEEDED, "deadline_exceeded"),
        (KeyError("x"), grpc.StatusCode.INTERNAL, "internal"),
    ],
)
def test_errors_become_one_status_and_one_json_code(
    error: BaseException, status: grpc.StatusCode, code: str
) -> None:
    assert grpc_status(error)[0] == status
    assert error_json_for(error)["error"]["code"] == code


def test_an_internal_error_tells_grpc_callers_nothing_of_its_insides() -> None:
    assert grpc_status(RuntimeError("/etc/secret path"))[1] == "internal error; see the service log"


def test_a_password_in_a_message_never_goes_out() -> None:
    error = ServiceUnavailable("cannot reach http://bob:hunter2@llm/v1")
    assert "hunter2" not in grpc_status(error)[1]
    assert "hunter2" not in error_json_for(error)["error"]["message"]


@pytest.mark.parametrize(
    ("code", "raised"),
    [
        ("invalid_request", InvalidRequestError),
        ("unavailable", ServiceUnavailable),
        ("deadline_exceeded", DeadlineExceeded),
        ("internal", SlmMeshError),
        ("what", SlmMeshError),
    ],
)
def test_a_json_error_answer_comes_back_as_its_error(code: str, raised: type[Exception]) -> None:
    with pytest.raises(raised) as caught:
        raise_for_error("intent", {"error": {"code": code, "message": "boom"}})
    assert type(caught.value) is raised
    raise_for_error("intent", {"results": []})
