"""An asyncio client for any service, speaking its contract's dataclasses, not wire messages.

    async with ServiceClient(intent.CONTRACT, target="127.0.0.1:50051") as client:
        await client.wait_until_serving(10.0)
        results = await client.call([IntentRequest("turn on the kitchen light")])

A status with a code the mesh knows comes back as its error (`InvalidRequestError` for
INVALID_ARGUMENT, ...); any other failure raises `grpc.aio.AioRpcError`. `security`
(`grpc_tls.channel_security`) dials over TLS and sends a token; None dials plain.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from slm_mesh.services.errors import (
    DeadlineExceeded,
    InvalidRequestError,
    ServiceUnavailable,
    SlmMeshError,
)
from slm_mesh.services.kit.contract import Contract, Piece
from slm_mesh.services.runtime.grpc_tls import ChannelSecurity, open_channel
from slm_mesh.v1 import service_info_pb2

Req = TypeVar("Req")
Ans = TypeVar("Ans")
_ERRORS: dict[grpc.StatusCode, type[SlmMeshError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidRequestError,
}


class ServiceClient(Generic[Req, Ans]):
    """One channel to one service; `timeout` (seconds) is each call's deadline."""

    def __init__(
        self,
        contract: Contract[Req, Ans],
        *,
        target: str,
        timeout: float = 5.0,
        security: ChannelSecurity | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self._contract = contract
        self._target = target
        self._timeout = timeout
        self._security = security
        self._channel: grpc.aio.Channel | None = None
        self._call: Any = None
        self._stream: Any = None
        self._describe: Any = None

    async def __aenter__(self) -> Self:
        binding = self._contract.grpc
        self._channel = open_channel(self._target, self._security)
        # Made once per channel: building a callable per call costs as much as the call.
        self._call = self._channel.unary_unary(
            f"/{binding.service}/{binding.method}",
            request_serializer=binding.request_type.SerializeToString,
            response_deserializer=binding.response_type.FromString,
        )
        if binding.stream is not None:
            self._stream = self._channel.unary_stream(
                f"/{binding.service}/{binding.stream.method}",
                request_serializer=binding.stream.request_type.SerializeToString,
                response_deserializer=binding.stream.response_type.FromString,
            )
        self._describe = self._channel.unary_unary(
            f"/{binding.service}/Describe",
            request_serializer=service_info_pb2.DescribeRequest.SerializeToString,
            response_deserializer=service_info_pb2.ServiceInfo.FromString,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = self._call = self._stream = self._describe = None

    def _channel_open(self) -> grpc.aio.Channel:
        if self._channel is None:
            raise RuntimeError("use ServiceClient inside `async with`")
        return self._channel

    async def call(
        self, requests: Sequence[Req], *, request_id: str = "", timeout: float | None = None
    ) -> list[Ans]:
        """One call for the whole batch; answers in the order of `requests`."""
        self._channel_open()
        message = self._contract.grpc.requests_to_proto(requests, request_id)
        try:
            response = await self._call(message, timeout=timeout or self._timeout)
        except grpc.aio.AioRpcError as err:
            _raise_known(err)
            raise
        return self._contract.grpc.answers_from_proto(response)

    async def stream(
        self, request: Req, *, timeout: float | None = None
    ) -> AsyncIterator[Piece | Ans]:
        """The answer's pieces as the service writes them, then the answer, last."""
        self._channel_open()
        binding = self._contract.grpc.stream
        if binding is None or self._stream is None:
            raise ValueError(f"{self._contract.grpc.service} has no streaming method")
        call = self._stream(binding.request_to_proto(request), timeout=timeout or self._timeout)
        try:
            async for message in call:
                yield binding.part_from_proto(message)
        except grpc.aio.AioRpcError as err:
            _raise_known(err)
            raise

    async def describe(self) -> service_info_pb2.ServiceInfo:
        self._channel_open()
        info: service_info_pb2.ServiceInfo = await self._describe(
            service_info_pb2.DescribeRequest(), timeout=self._timeout
        )
        return info

    async def health(self, *, timeout: float | None = None) -> int:
        """The service's status (a `HealthCheckResponse.ServingStatus`), as the standard
        health service reports it."""
        stub = health_pb2_grpc.HealthStub(self._channel_open())
        # types-grpcio-health-checking declares `HealthStub` without its methods.
        response: health_pb2.HealthCheckResponse = await stub.Check(  # type: ignore[attr-defined]
            health_pb2.HealthCheckRequest(service=self._contract.grpc.service),
            timeout=timeout or self._timeout,
        )
        return response.status

    async def wait_until_serving(self, timeout: float, *, poll: float = 0.05) -> None:
        """Poll health until SERVING; TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                status = await self.health(timeout=min(remaining, self._timeout))
            except grpc.aio.AioRpcError as exc:
                last = exc.code().name
            else:
                if status == health_pb2.HealthCheckResponse.SERVING:
                    return
                last = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
            await asyncio.sleep(poll)
        raise TimeoutError(f"{self._target} not SERVING after {timeout} s (last: {last})")


def _raise_known(err: grpc.aio.AioRpcError) -> None:
    """Raise the mesh's error for a status it knows; return for any other."""
    error = _ERRORS.get(err.code())
    if error is not None:
        raise error(err.details() or err.code().name) from err


def remote_failure(service: str, target: str, err: grpc.aio.AioRpcError) -> SlmMeshError:
    """What the user is told, in one line, when the service at `target` gave no answer."""
    status = " ".join(f"{err.code().name}: {err.details() or ''}".split())
    if err.code() == grpc.StatusCode.UNAVAILABLE:
        return ServiceUnavailable(
            f"cannot reach the {service} service at {target} ({status}); is it running?"
            f" (slm-mesh serve {service})"
        )
    if err.code() == grpc.StatusCode.UNAUTHENTICATED:
        return SlmMeshError(
            f"the {service} service at {target} wants a token ({status}): set "
            "SLM_MESH_GRPC_TOKEN_FILE (or SLM_MESH_GRPC_TOKEN)"
        )
    if err.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
        return DeadlineExceeded(
            f"the {service} service at {target} did not answer in time ({status})"
        )
    return SlmMeshError(f"the {service} service at {target} failed ({status})")
