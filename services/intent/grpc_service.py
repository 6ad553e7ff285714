"""The intent service's gRPC edge: wire messages to core calls and core errors to status codes.

The core (`RecognizerLike`) knows nothing of gRPC; this module converts protobuf messages
to `IntentRequest` / `IntentResult` and back (wyoming's `event()` / `from_event()` pair),
checks what only the edge can see (batch size, deadline), and turns every failure into a
status code for that one call, so a bad request never takes the server down. The core
bounds what a call may cost (its characters, all texts together) for every face; over it is
INVALID_ARGUMENT like any refused input. A call that is cancelled or runs out of time is
cancelled in the core too, and its texts still queued for the model are dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import grpc
import structlog

from slm_mesh.services.intent.result import IntentRequest, IntentResult, SlotValue, Tier
from slm_mesh.services.runtime.grpc_server import ServiceInfoLike, service_info_message
from slm_mesh.services.wire_errors import error_code, grpc_status
from slm_mesh.v1 import intent_pb2, intent_pb2_grpc, service_info_pb2

SERVICE_NAME = intent_pb2.DESCRIPTOR.services_by_name["Intent"].full_name

TIER_TO_PROTO: dict[Tier, intent_pb2.Tier.ValueType] = {
    "template": intent_pb2.TIER_TEMPLATE,
    "slm": intent_pb2.TIER_SLM,
    "llm": intent_pb2.TIER_LLM,
    "none": intent_pb2.TIER_NONE,
}
TIER_FROM_PROTO = {v: k for k, v in TIER_TO_PROTO.items()}

log = structlog.get_logger()


class RecognizerLike(Protocol):
    async def recognize_many(self, requests: Sequence[IntentRequest]) -> list[IntentResult]:
        """One result per request, in order; raises InvalidRequestError for bad input."""
        ...


def request_to_proto(request: IntentRequest) -> intent_pb2.Utterance:
    return intent_pb2.Utterance(
        text=request.text, context=intent_pb2.Context(area=request.area or "")
    )


def request_from_proto(utterance: intent_pb2.Utterance) -> IntentRequest:
    # Context.device is carried on the wire for logs and routing; the core needs only the area.
    return IntentRequest(text=utterance.text, area=utterance.context.area or None)


def result_to_proto(result: IntentResult) -> intent_pb2.IntentResult:
    message = intent_pb2.IntentResult(
        text=result.text,
        confidence=result.confidence,
        tier=TIER_TO_PROTO[result.tier],
        reason=result.reason,
    )
    if result.intent is not None:
        message.intent = result.intent
    for name, value in result.slots.items():
        if isinstance(value, str):
            message.slots[name].text = value
        else:
            message.slots[name].number = float(value)
    return message


def result_from_proto(message: intent_pb2.IntentResult) -> IntentResult:
    return IntentResult(
        text=message.text,
        intent=message.intent if message.HasField("intent") else None,
        slots={name: _slot_from_proto(value) for name, value in message.slots.items()},
        # The wire carries float32; rounding drops the noise that adds (0.9 -> 0.8999999761).
        confidence=round(message.confidence, 6),
        tier=TIER_FROM_PROTO.get(message.tier, "none"),
        reason=message.reason,
    )


def _slot_from_proto(value: intent_pb2.SlotValue) -> SlotValue:
    if value.WhichOneof("kind") == "text":
        return value.text
    # Numbers travel as doubles; whole ones (brightness 50) come back as int.
    number = value.number
    return int(number) if number.is_integer() else number


class IntentServicer(intent_pb2_grpc.IntentServicer):  # type: ignore[misc]
    """Serves `slm_mesh.v1.Intent` over one recognizer."""

    def __init__(
        self,
        *,
        recognizer: RecognizerLike,
        info: ServiceInfoLike | Mapping[str, Any],
        max_text_chars: int = 1000,
        max_batch: int = 64,
    ) -> None:
        if max_text_chars <= 0 or max_batch <= 0:
            raise ValueError(
                f"max_text_chars and max_batch must be positive, got {max_text_chars}, {max_batch}"
            )
        self._recognizer = recognizer
        self._info = service_info_message(info)
        self._max_text_chars = max_text_chars
        self._max_batch = max_batch

    def register(self, server: grpc.aio.Server) -> list[str]:
        """For `GrpcServer(register=...)`."""
        intent_pb2_grpc.add_IntentServicer_to_server(self, server)
        return [SERVICE_NAME]

    async def Describe(
        self, request: service_info_pb2.DescribeRequest, context: grpc.aio.ServicerContext
    ) -> service_info_pb2.ServiceInfo:
        return self._info

    async def Recognize(
        self, request: intent_pb2.RecognizeRequest, context: grpc.aio.ServicerContext
    ) -> intent_pb2.RecognizeResponse:
        bound = log.bind(rpc="Recognize", request_id=request.request_id)
        code, details = self._check_batch(request)
        if code is None:
            try:
                results = await self._recognize(request, context)
                return intent_pb2.RecognizeResponse(results=[result_to_proto(r) for r in results])
            except Exception as exc:
                if error_code(exc) == "internal":
                    bound.exception("intent.recognize_failed", batch=len(request.utterances))
                code, details = grpc_status(exc)
        bound.info("intent.recognize_refused", code=code.name, details=details)
        await context.abort(code, details)
        raise AssertionError("context.abort returned")  # abort always raises

    def _check_batch(
        self, request: intent_pb2.RecognizeRequest
    ) -> tuple[grpc.StatusCode | None, str]:
        count = len(request.utterances)
        if count == 0:
            return grpc.StatusCode.INVALID_ARGUMENT, "empty batch: send at least one utterance"
        if count > self._max_batch:
            return (
                grpc.StatusCode.INVALID_ARGUMENT,
                f"batch of {count} utterances is over the limit of {self._max_batch}",
            )
        for index, utterance in enumerate(request.utterances):
            if len(utterance.text) > self._max_text_chars:
                return (
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"utterances[{index}].text has {len(utterance.text)} characters, "
                    f"over the limit of {self._max_text_chars}",
                )
        return None, ""

    async def _recognize(
        self, request: intent_pb2.RecognizeRequest, context: grpc.aio.ServicerContext
    ) -> list[IntentResult]:
        requests = [request_from_proto(u) for u in request.utterances]
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            raise TimeoutError
        async with asyncio.timeout(remaining):  # unlike wait_for, no task of its own
            results = await self._recognizer.recognize_many(requests)
        if len(results) != len(requests):
            raise RuntimeError(
                f"recognizer returned {len(results)} results for {len(requests)} requests"
            )
        return results
