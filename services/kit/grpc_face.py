"""Every service's gRPC face, from its contract: the batch method and `Describe`, added to
the shared `GrpcServer` (health, reflection, size limits).

Protobuf messages become the contract's dataclasses here and the core's answers go back
the same way; the batch size is checked before the core runs; the call's deadline bounds
the core's work, which is cancelled (and its queued texts dropped) when the caller goes;
every failure ends that one call with a status code (`wire_errors`), never the server.
A core that streams (`StreamingCore`) also gets the contract's streaming method.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Generic, TypeVar

import grpc
import structlog

from slm_mesh.services.contracts.info import ServiceInfo
from slm_mesh.services.kit.contract import Contract
from slm_mesh.services.kit.service import Core, StreamingCore
from slm_mesh.services.wire_errors import error_code, grpc_status
from slm_mesh.v1 import service_info_pb2

log = structlog.get_logger(__name__)
Req = TypeVar("Req")
Ans = TypeVar("Ans")


class GrpcFace(Generic[Req, Ans]):
    def __init__(self, *, contract: Contract[Req, Ans], core: Core[Req, Ans], info: ServiceInfo):
        self._contract = contract
        self._core = core
        self._info = info.to_proto()

    def register(self, server: grpc.aio.Server) -> list[str]:
        """For `GrpcServer(register=...)`; returns the service's full name."""
        binding = self._contract.grpc
        handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {
            binding.method: grpc.unary_unary_rpc_method_handler(
                self._call,
                request_deserializer=binding.request_type.FromString,
                response_serializer=binding.response_type.SerializeToString,
            ),
            "Describe": grpc.unary_unary_rpc_method_handler(
                self._describe,
                request_deserializer=service_info_pb2.DescribeRequest.FromString,
                response_serializer=service_info_pb2.ServiceInfo.SerializeToString,
            ),
        }
        if binding.stream is not None and isinstance(self._core, StreamingCore):
            handlers[binding.stream.method] = grpc.unary_stream_rpc_method_handler(
                self._stream,
                request_deserializer=binding.stream.request_type.FromString,
                response_serializer=binding.stream.response_type.SerializeToString,
            )
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(binding.service, handlers),)
        )
        return [binding.service]

    async def _describe(
        self,
        request: service_info_pb2.DescribeRequest,
        context: grpc.aio.ServicerContext[
            service_info_pb2.DescribeRequest, service_info_pb2.ServiceInfo
        ],
    ) -> service_info_pb2.ServiceInfo:
        return self._info

    async def _call(self, message: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        binding = self._contract.grpc
        try:
            requests = binding.requests_from_proto(message)
            self._contract.check_batch(len(requests))
            remaining = context.time_remaining()
            if remaining is not None and remaining <= 0:
                raise TimeoutError
            async with asyncio.timeout(remaining):  # unlike wait_for, no task of its own
                answers = await self._core.handle(requests)
            if len(answers) != len(requests):
                raise RuntimeError(f"{len(answers)} answers for {len(requests)} requests")
            return binding.answers_to_proto(answers)
        except Exception as err:
            request_id = getattr(message, "request_id", "")
            await self._abort(err, context, method=binding.method, request_id=request_id)
            raise AssertionError("context.abort returned") from err  # abort always raises

    async def _stream(
        self, message: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        stream = self._contract.grpc.stream
        if stream is None or not isinstance(self._core, StreamingCore):
            raise RuntimeError("registered without a streaming core")
        try:
            request = stream.request_from_proto(message)
            remaining = context.time_remaining()
            if remaining is not None and remaining <= 0:
                raise TimeoutError
            async with asyncio.timeout(remaining):
                async for part in self._core.stream(request):
                    yield stream.part_to_proto(part)
        except Exception as err:
            await self._abort(err, context, method=stream.method)

    async def _abort(
        self,
        err: Exception,
        context: grpc.aio.ServicerContext[Any, Any],
        *,
        method: str,
        request_id: str = "",
    ) -> None:
        """End the call with the error's status (called while handling `err`: a bug is
        logged with its traceback)."""
        bound = log.bind(rpc=method, request_id=request_id)
        if error_code(err) == "internal":
            bound.exception("call failed", service=self._contract.grpc.service)
        code, details = grpc_status(err)
        bound.info("call refused", code=code.name, details=details)
        await context.abort(code, details)
