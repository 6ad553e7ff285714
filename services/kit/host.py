"""The host: one or more services in one process, each with the same faces.

    async with hosting(settings, [intent, sentiment]) as hosted:
        hosted.port                  # gRPC: every service, health and reflection, one port
        hosted.core("sentiment")     # for a caller in the same process (the router)

It starts each service's core (they share one sentence encoder, `Shared`), serves all of
them over one gRPC server, and, when a broker is set, puts each on the mesh as a replica
of its own shared group. Health reports SERVING once every core is ready, and
NOT_SERVING from the moment the host begins to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
import structlog

from slm_mesh.services.kit.grpc_face import GrpcFace
from slm_mesh.services.kit.mqtt_face import (
    MqttServiceEdge,
    StreamHandler,
    json_handler,
    json_stream_handler,
    on_mqtt,
)
from slm_mesh.services.kit.service import Core, Service, Started, StreamingCore
from slm_mesh.services.kit.shared import Shared
from slm_mesh.services.runtime.grpc_server import GrpcServer
from slm_mesh.services.runtime.grpc_tls import config_from_settings, server_security
from slm_mesh.services.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Hosted:
    port: int
    """The bound gRPC port."""
    started: dict[str, Started[Any, Any]]
    on_mqtt: dict[str, MqttServiceEdge]
    """Each service's MQTT face, when a broker is set (for its counts)."""

    def core(self, service: str) -> Core[Any, Any]:
        return self.started[service].core


@asynccontextmanager
async def hosting(
    settings: Settings, services: Sequence[Service[Any, Any]], *, shared: Shared | None = None
) -> AsyncIterator[Hosted]:
    async with contextlib.AsyncExitStack() as stack:
        if shared is None:
            shared = await stack.enter_async_context(Shared(settings))
        started: dict[str, Started[Any, Any]] = {}
        for service in services:
            started[service.name] = await stack.enter_async_context(service.start(settings, shared))
        faces = [
            GrpcFace(contract=s.contract, core=started[s.name].core, info=started[s.name].info)
            for s in services
        ]

        def register(server: grpc.aio.Server) -> list[str]:
            return [name for face in faces for name in face.register(server)]

        security = server_security(
            config_from_settings(settings.grpc, cache_dir=settings.cache_dir), host=settings.host
        )
        server = GrpcServer(
            register=register, host=settings.host, port=settings.port, security=security
        )
        port = await server.start()
        stack.push_async_callback(server.stop, 2.0)
        stack.push_async_callback(server.set_serving, False)
        edges: dict[str, MqttServiceEdge] = {}
        if settings.mqtt.url:
            for service in services:
                ready = started[service.name]
                edges[service.name] = await stack.enter_async_context(
                    on_mqtt(
                        settings,
                        service=service.name,
                        handle=json_handler(service.contract, ready.core),
                        info=ready.info,
                        max_in_flight=4 * settings.batch.max_size,
                        max_payload_bytes=service.contract.max_payload_bytes,
                        stream=_stream_handler(service, ready.core),
                    )
                )
        await server.set_serving(True)
        log.info(
            "serving",
            services=",".join(s.name for s in services),
            address=f"{settings.host}:{port}",
        )
        yield Hosted(port=port, started=started, on_mqtt=edges)
    log.info("stopped", services=",".join(s.name for s in services))


def _stream_handler(service: Service[Any, Any], core: Core[Any, Any]) -> StreamHandler | None:
    if service.contract.grpc.stream is None or not isinstance(core, StreamingCore):
        return None
    return json_stream_handler(service.contract, core)


async def wait_for_stop_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


async def serve(
    settings: Settings,
    services: Sequence[Service[Any, Any]],
    *,
    ready: asyncio.Future[int] | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM or cancellation; `ready` gets the gRPC port."""
    async with hosting(settings, services) as hosted:
        if ready is not None:
            ready.set_result(hosted.port)
        await wait_for_stop_signal()
