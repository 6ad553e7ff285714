"""An asyncio client for the intent service, speaking core dataclasses, not wire messages.

    async with IntentClient(target="127.0.0.1:50051") as client:
        await client.wait_until_serving(10.0)
        results = await client.recognize([IntentRequest("turn on the kitchen light")])

INVALID_ARGUMENT comes back as `InvalidRequestError`, as the core raised it; any other
failure raises `grpc.aio.AioRpcError` with its status code.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Self

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.intent.grpc_service import (
    SERVICE_NAME,
    request_to_proto,
    result_from_proto,
)
from slm_mesh.services.intent.result import IntentRequest, IntentResult
from slm_mesh.v1 import intent_pb2, intent_pb2_grpc, service_info_pb2


class IntentClient:
    """One channel to one intent service; `timeout` (seconds) is each call's deadline."""

    def __init__(self, *, target: str, timeout: float = 5.0) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self._target = target
        self._timeout = timeout
        self._channel: grpc.aio.Channel | None = None
        self._stub: intent_pb2_grpc.IntentStub | None = None

    async def __aenter__(self) -> Self:
        self._channel = grpc.aio.insecure_channel(self._target)
        self._stub = intent_pb2_grpc.IntentStub(self._channel)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = self._stub = None

    def _open_channel(self) -> grpc.aio.Channel:
        if self._channel is None:
            raise RuntimeError("use IntentClient inside `async with`")
        return self._channel

    def _intent_stub(self) -> intent_pb2_grpc.IntentStub:
        """Made once per channel: a stub builds a callable per method each time it is made."""
        if self._stub is None:
            raise RuntimeError("use IntentClient inside `async with`")
        return self._stub

    async def recognize(
        self,
        requests: Sequence[IntentRequest],
        *,
        request_id: str = "",
        timeout: float | None = None,
    ) -> list[IntentResult]:
        """One call for the whole batch; results in the order of `requests`."""
        stub = self._intent_stub()
        message = intent_pb2.RecognizeRequest(
            utterances=[request_to_proto(r) for r in requests], request_id=request_id
        )
        try:
            response = await stub.Recognize(message, timeout=timeout or self._timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:
                raise InvalidRequestError(exc.details() or "invalid request") from exc
            raise
        return [result_from_proto(r) for r in response.results]

    async def describe(self) -> service_info_pb2.ServiceInfo:
        stub = self._intent_stub()
        info: service_info_pb2.ServiceInfo = await stub.Describe(
            service_info_pb2.DescribeRequest(), timeout=self._timeout
        )
        return info

    async def health(
        self, *, timeout: float | None = None
    ) -> health_pb2.HealthCheckResponse.ServingStatus.ValueType:
        """The intent service's health status, as the standard health service reports it."""
        stub = health_pb2_grpc.HealthStub(self._open_channel())
        response = await stub.Check(
            health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=timeout or self._timeout
        )
        status: health_pb2.HealthCheckResponse.ServingStatus.ValueType = response.status
        return status

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
