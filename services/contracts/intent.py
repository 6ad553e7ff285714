"""The intent contract: utterances in, Home Assistant intents and slots out.

    request  {"text": "lights off", "area": "Lounge"}   (or {"text", "context": {"area"}})
    answer   {"text", "intent", "slots", "confidence", "tier", "reason", "out_of_scope"}

Over gRPC: `slm_mesh.v1.Intent/Recognize` (`protos/slm_mesh/v1/intent.proto`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.kit.contract import Contract, GrpcBinding, json_object, optional_text
from slm_mesh.v1 import intent_pb2

Tier = Literal["template", "slm", "llm", "none"]
SlotValue = str | int | float


@dataclass(frozen=True)
class IntentRequest:
    text: str
    area: str | None = None
    """The requesting device's area (its name, alias or id), used as context."""


@dataclass(frozen=True)
class IntentResult:
    text: str
    intent: str | None
    """Home Assistant intent name, or None when nothing local should answer."""
    slots: dict[str, SlotValue] = field(default_factory=dict)
    confidence: float = 0.0
    tier: Tier = "none"
    reason: str = ""
    """Why this tier answered, or why none did (for logs and the router)."""
    out_of_scope: float | None = None
    """The SLM's probability that the request is outside what the home can do (None when
    a template answered and the SLM did not run)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "intent": self.intent,
            "slots": dict(self.slots),
            "confidence": round(self.confidence, 4),
            "tier": self.tier,
        }

    def as_answer_json(self) -> dict[str, Any]:
        """The fuller form services send over MQTT: also why, and the out-of-scope score."""
        out_of_scope = None if self.out_of_scope is None else round(self.out_of_scope, 4)
        return {**self.as_json(), "reason": self.reason, "out_of_scope": out_of_scope}

    @classmethod
    def from_answer_json(cls, body: dict[str, Any]) -> IntentResult:
        """The inverse of `as_answer_json` (for a router that trusts its own services)."""
        return cls(
            text=str(body["text"]),
            intent=body.get("intent"),
            slots=dict(body.get("slots") or {}),
            confidence=float(body.get("confidence") or 0.0),
            tier=body.get("tier", "none"),
            reason=str(body.get("reason", "")),
            out_of_scope=body.get("out_of_scope"),
        )


def request_from_json(body: Any, where: str = "request") -> IntentRequest:
    body = json_object(body, where)
    text = body.get("text")
    if not isinstance(text, str):
        raise InvalidRequestError(f"{where} needs a string 'text'")
    context = body.get("context", {})
    if not isinstance(context, dict):
        raise InvalidRequestError(f"{where}: 'context' must be an object", field="context")
    area = optional_text(body, "area", where) or optional_text(context, "area", where)
    return IntentRequest(text=text, area=area)


def request_to_json(request: IntentRequest) -> dict[str, Any]:
    return {"text": request.text, "area": request.area}


TIER_TO_PROTO: dict[Tier, intent_pb2.Tier] = {
    "template": intent_pb2.TIER_TEMPLATE,
    "slm": intent_pb2.TIER_SLM,
    "llm": intent_pb2.TIER_LLM,
    "none": intent_pb2.TIER_NONE,
}
TIER_FROM_PROTO = {v: k for k, v in TIER_TO_PROTO.items()}


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


def _requests_to_proto(
    requests: Sequence[IntentRequest], request_id: str
) -> intent_pb2.RecognizeRequest:
    return intent_pb2.RecognizeRequest(
        utterances=[request_to_proto(r) for r in requests], request_id=request_id
    )


CONTRACT: Contract[IntentRequest, IntentResult] = Contract(
    request_from_json=request_from_json,
    request_to_json=request_to_json,
    answer_to_json=IntentResult.as_answer_json,
    answer_from_json=IntentResult.from_answer_json,
    grpc=GrpcBinding(
        service=intent_pb2.DESCRIPTOR.services_by_name["Intent"].full_name,
        method="Recognize",
        request_type=intent_pb2.RecognizeRequest,
        response_type=intent_pb2.RecognizeResponse,
        requests_from_proto=lambda m: [request_from_proto(u) for u in m.utterances],
        requests_to_proto=_requests_to_proto,
        answers_to_proto=lambda answers: intent_pb2.RecognizeResponse(
            results=[result_to_proto(a) for a in answers]
        ),
        answers_from_proto=lambda m: [result_from_proto(r) for r in m.results],
    ),
)
