"""The sentiment contract: texts in, positive / negative with calibrated probabilities out.

    request  {"text": "that's not what I asked"}
    answer   {"text", "label": "negative", "scores": {"positive": 0.08, "negative": 0.92},
              "tier": "slm"}

Over gRPC: `slm_mesh.v1.Sentiment/Classify` (`protos/slm_mesh/v1/sentiment.proto`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.kit.contract import Contract, GrpcBinding, json_object
from slm_mesh.v1 import sentiment_pb2

#: Texts are feedback, reviews and messages: longer ones are refused, never cut short.
MAX_TEXT_CHARS = 5000


@dataclass(frozen=True)
class SentimentRequest:
    text: str


@dataclass(frozen=True)
class SentimentResult:
    text: str
    label: str
    """The likeliest label: "positive" or "negative" (a user's own model may name others)."""
    scores: Mapping[str, float]
    """Calibrated probability of each label; they sum to 1."""


def request_from_json(body: Any, where: str = "request") -> SentimentRequest:
    text = json_object(body, where).get("text")
    if not isinstance(text, str):
        raise InvalidRequestError(f"{where} needs a string 'text'")
    return SentimentRequest(text)


def answer_to_json(result: SentimentResult) -> dict[str, Any]:
    return {
        "text": result.text,
        "label": result.label,
        "scores": {label: round(p, 4) for label, p in result.scores.items()},
        "tier": "slm",
    }


def answer_from_json(body: dict[str, Any]) -> SentimentResult:
    return SentimentResult(
        text=str(body["text"]),
        label=str(body["label"]),
        scores={str(k): float(v) for k, v in dict(body.get("scores") or {}).items()},
    )


def _requests_to_proto(
    requests: Sequence[SentimentRequest], request_id: str
) -> sentiment_pb2.ClassifyRequest:
    return sentiment_pb2.ClassifyRequest(texts=[r.text for r in requests], request_id=request_id)


CONTRACT: Contract[SentimentRequest, SentimentResult] = Contract(
    request_from_json=request_from_json,
    request_to_json=lambda request: {"text": request.text},
    answer_to_json=answer_to_json,
    answer_from_json=answer_from_json,
    grpc=GrpcBinding(
        service=sentiment_pb2.DESCRIPTOR.services_by_name["Sentiment"].full_name,
        method="Classify",
        request_type=sentiment_pb2.ClassifyRequest,
        response_type=sentiment_pb2.ClassifyResponse,
        requests_from_proto=lambda m: [SentimentRequest(text) for text in m.texts],
        requests_to_proto=_requests_to_proto,
        answers_to_proto=lambda answers: sentiment_pb2.ClassifyResponse(
            results=[
                sentiment_pb2.SentimentResult(text=a.text, label=a.label, scores=dict(a.scores))
                for a in answers
            ]
        ),
        answers_from_proto=lambda m: [
            SentimentResult(text=r.text, label=r.label, scores=dict(r.scores)) for r in m.results
        ],
    ),
)
