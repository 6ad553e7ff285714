"""A service, described once: its name, its contract and how its core starts. The host
(`host.py`) gives every service the same faces from that; the command line finds the
installed services through the `slm_mesh.services` entry points, built-in ones included.

    [project.entry-points."slm_mesh.services"]
    sentiment = "slm_mesh.services.sentiment.service:SERVICE"

A core is batch in, batch out, and knows nothing of gRPC or MQTT: it raises
`InvalidRequestError` for what it refuses, and the faces turn that into their own words.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, runtime_checkable

from slm_mesh.services.contracts.info import ServiceInfo
from slm_mesh.services.errors import PluginError
from slm_mesh.services.kit.contract import Contract, Piece
from slm_mesh.services.settings import Settings

if TYPE_CHECKING:  # loading the encoder's modules (numpy) waits until a service starts
    from slm_mesh.services.kit.shared import Shared

GROUP = "slm_mesh.services"
Req = TypeVar("Req")
Ans = TypeVar("Ans")
Req_contra = TypeVar("Req_contra", contravariant=True)
Ans_co = TypeVar("Ans_co", covariant=True)


class Core(Protocol[Req_contra, Ans_co]):
    async def handle(self, requests: Sequence[Req_contra]) -> Sequence[Ans_co]:
        """One answer per request, in order; InvalidRequestError for what is refused."""
        ...


@runtime_checkable
class StreamingCore(Core[Req_contra, Ans_co], Protocol[Req_contra, Ans_co]):
    def stream(self, request: Req_contra) -> AsyncIterator[Piece | Ans_co]:
        """The answer's pieces as they are written, then the answer itself, last."""
        ...


@dataclass(frozen=True)
class Started(Generic[Req, Ans]):
    """A service's core, ready to answer, and what `Describe` says of it."""

    core: Core[Req, Ans]
    info: ServiceInfo


Start = Callable[[Settings, "Shared"], AbstractAsyncContextManager[Started[Any, Any]]]


@dataclass(frozen=True)
class Service(Generic[Req, Ans]):
    name: str
    """Its MQTT topics, status, broker login and command-line name: "sentiment"."""
    summary: str
    """One line for `--help`."""
    contract: Contract[Req, Ans]
    start: Start
    """Loads the model(s) and yields the started core, until the context exits."""


def installed_names() -> list[str]:
    """The installed services' names, without loading them (for `--help`)."""
    return sorted({point.name for point in entry_points(group=GROUP)})


def installed_services() -> dict[str, Service[Any, Any]]:
    """The services installed as entry points, by name."""
    found: dict[str, Service[Any, Any]] = {}
    for point in entry_points(group=GROUP):
        try:
            service = point.load()
        except Exception as err:  # a broken third-party service must not look like our bug
            why = f"service {point.name!r} ({point.value}) failed to load: {err}"
            raise PluginError(why) from err
        if not isinstance(service, Service):
            raise PluginError(f"{point.value} is a {type(service).__name__}, not a Service")
        found[point.name] = service
    return dict(sorted(found.items()))


def service_named(name: str) -> Service[Any, Any]:
    services = installed_services()
    if name not in services:
        raise PluginError(f"no service named {name!r}; installed: {', '.join(services)}")
    return services[name]


def data_file(module_file: str, *parts: str) -> Path:
    """A file shipped beside a service's module (its trained head, its data)."""
    return Path(module_file).resolve().parent.joinpath(*parts)
