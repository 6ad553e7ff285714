"""The gRPC server every service shares: asyncio, health checking, reflection, size limits.

A service hands in a `register` function that adds its servicers and returns their full
names; this module adds the standard health service (NOT_SERVING until the caller says
otherwise, so a load balancer waits for the model to load) and server reflection (so
`grpcurl` works without the .proto files). A request whose bytes do not parse (corrupt
wire format, bad UTF-8 in a string) gets INVALID_ARGUMENT rather than grpc's UNKNOWN.
`security` (`grpc_tls.server_security`) puts it on a TLS port and asks for a token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeAlias, cast

import grpc
from google.protobuf.message import DecodeError
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from slm_mesh.services.runtime.grpc_tls import ServerSecurity

Register = Callable[[grpc.aio.Server], Iterable[str]]
"""Adds servicers to the server and returns their full names, e.g. "slm_mesh.v1.Intent"."""

# Quoted: grpc's classes are generic in the stubs only.
_Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
_AioUnary: TypeAlias = "Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]"


@dataclass(frozen=True)
class _Malformed:
    error: DecodeError


class _RejectMalformed(grpc.aio.ServerInterceptor):
    """Turn a request that fails to parse into INVALID_ARGUMENT (unary-unary methods).

    The wrapped handler is built once per method: the services registered never change.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, _Handler] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[_Handler | None]],
        details: grpc.HandlerCallDetails,
    ) -> _Handler | None:
        handler = self._handlers.get(details.method)
        if handler is None:
            handler = await continuation(details)
            if handler is not None:
                handler = self._handlers[details.method] = _lenient(handler)
        return handler


def _lenient(handler: _Handler) -> _Handler:
    if handler.unary_unary is None or handler.request_deserializer is None:
        return handler
    parse = handler.request_deserializer
    # The stubs type a handler's behaviour for the sync server; under grpc.aio it is a
    # coroutine function that takes the aio context.
    behaviour = cast(_AioUnary, handler.unary_unary)

    def lenient_parse(data: bytes) -> Any:
        try:
            return parse(data)
        except DecodeError as exc:
            return _Malformed(exc)

    async def checked(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        if isinstance(request, _Malformed):
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"malformed request: {request.error}"
            )
        return await behaviour(request, context)

    return grpc.unary_unary_rpc_method_handler(
        checked,
        request_deserializer=lenient_parse,
        response_serializer=handler.response_serializer,
    )


class GrpcServer:
    """One grpc.aio server on `host:port` (port 0 picks a free one; `port` tells which)."""

    def __init__(
        self,
        *,
        register: Register,
        host: str = "127.0.0.1",
        port: int = 0,
        max_message_bytes: int = 1 << 20,
        max_concurrent_rpcs: int = 512,
        security: ServerSecurity | None = None,
    ) -> None:
        """Calls past `max_concurrent_rpcs` at once get RESOURCE_EXHAUSTED at once, so a
        flood of callers costs them, not the server's memory. `security`: TLS credentials
        and a token (None: a plain port, open to whoever reaches it)."""
        if max_message_bytes <= 0:
            raise ValueError(f"max_message_bytes must be positive, got {max_message_bytes}")
        if max_concurrent_rpcs < 1:
            raise ValueError(f"max_concurrent_rpcs must be at least 1, got {max_concurrent_rpcs}")
        self._max_concurrent_rpcs = max_concurrent_rpcs
        self._register = register
        self._security = security
        self._address = f"{host}:{port}"
        self._options = [
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
        ]
        self._server: grpc.aio.Server | None = None
        self._health = health.aio.HealthServicer()
        self._service_names: tuple[str, ...] = ()
        self._port = 0

    @property
    def port(self) -> int:
        """The bound port, once started."""
        if self._server is None:
            raise RuntimeError("the gRPC server is not started")
        return self._port

    @property
    def service_names(self) -> tuple[str, ...]:
        """The services registered by the caller (health and reflection not included)."""
        return self._service_names

    async def start(self) -> int:
        """Bind, start, and report every service NOT_SERVING; returns the bound port."""
        if self._server is not None:
            raise RuntimeError("the gRPC server is already started")
        server = grpc.aio.server(
            options=self._options,
            interceptors=[
                *(self._security.interceptors() if self._security else ()),
                _RejectMalformed(),
            ],
            maximum_concurrent_rpcs=self._max_concurrent_rpcs,
        )
        self._service_names = tuple(self._register(server))
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            (*self._service_names, health.SERVICE_NAME, reflection.SERVICE_NAME), server
        )
        # RuntimeError if it cannot bind.
        credentials = self._security.credentials if self._security else None
        port: int = (
            server.add_secure_port(self._address, credentials)
            if credentials is not None
            else server.add_insecure_port(self._address)
        )
        await self.set_serving(False)
        await server.start()
        self._server, self._port = server, port
        return port

    async def set_serving(self, serving: bool) -> None:
        """Mark the overall server ("") and every registered service SERVING or NOT_SERVING."""
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ("", *self._service_names):
            await self._health.set(name, status)

    async def wait_for_termination(self) -> None:
        if self._server is None:
            raise RuntimeError("the gRPC server is not started")
        await self._server.wait_for_termination()

    async def stop(self, grace: float | None = 5.0) -> None:
        """Report NOT_SERVING for good, then let calls in flight finish within `grace` s."""
        if self._server is None:
            return
        await self._health.enter_graceful_shutdown()
        await self._server.stop(grace)
        self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
