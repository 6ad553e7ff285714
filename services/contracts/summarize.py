"""The summarizer contract: a long text, or a list of device events, in; a short summary
out, every sentence of which is the source's own, with where it stands there.

    request  {"text": "...", "max_sentences": 3, "max_chars": 400}
             {"events": [{"time", "entity", "state" | "attribute" + "value", ...}, ...]}
    answer   {"summary": "...", "sentences": [{"text", "start", "end"}], "tier": "slm"}

For a text, `start`/`end` are character offsets into it (`text[start:end]` is the
sentence). For events, they are offsets into `summary`, and each sentence also lists the
indexes of the `events` it tells of. Over gRPC: `slm_mesh.v1.Summarizer/Summarize`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.kit.contract import Contract, GrpcBinding, json_object
from slm_mesh.services.runtime.json_payload import load_json
from slm_mesh.v1 import summarize_pb2

#: A request's text, or its events as JSON, may be this long; longer is refused, never
#: cut short (a summary of part of a text would not say so).
MAX_SOURCE_CHARS = 100_000
MAX_EVENTS = 10_000


@dataclass(frozen=True)
class SummarizeRequest:
    text: str | None = None
    events: tuple[Any, ...] | None = None
    """Device events as JSON values, checked by the core (`summarizer/events.py`)."""
    max_sentences: int | None = None
    max_chars: int | None = None


@dataclass(frozen=True)
class SummarySentence:
    text: str
    start: int
    end: int
    events: tuple[int, ...] = ()


@dataclass(frozen=True)
class SummaryAnswer:
    summary: str
    sentences: tuple[SummarySentence, ...]
    omitted: int = 0
    """For a digest: groups of events left out to keep within the budget."""


def _budget(body: dict[str, Any], key: str, where: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequestError(
            f"{where}: '{key}' must be a whole number of at least 1", field=key
        )
    return value


def request_from_json(body: Any, where: str = "request") -> SummarizeRequest:
    body = json_object(body, where)
    text, events = body.get("text"), body.get("events")
    if (text is None) == (events is None):
        raise InvalidRequestError(f"{where} needs 'text' (a string) or 'events' (a list)")
    if text is not None and not isinstance(text, str):
        raise InvalidRequestError(f"{where}: 'text' must be a string")
    if events is not None and not isinstance(events, list):
        raise InvalidRequestError(f"{where}: 'events' must be a list", field="events")
    return checked(
        SummarizeRequest(
            text=text,
            events=tuple(events) if events is not None else None,
            max_sentences=_budget(body, "max_sentences", where),
            max_chars=_budget(body, "max_chars", where),
        )
    )


def checked(request: SummarizeRequest) -> SummarizeRequest:
    """The limits every face enforces, refused with the numbers."""
    if request.text is not None and len(request.text) > MAX_SOURCE_CHARS:
        raise InvalidRequestError(
            f"text is {len(request.text):,} characters; the limit is {MAX_SOURCE_CHARS:,} "
            "(it is refused, not cut short: summarize it in parts)"
        )
    if request.events is not None and len(request.events) > MAX_EVENTS:
        raise InvalidRequestError(
            f"{len(request.events):,} events; the limit is {MAX_EVENTS:,}", field="events"
        )
    return request


def request_to_json(request: SummarizeRequest) -> dict[str, Any]:
    body: dict[str, Any] = (
        {"text": request.text} if request.events is None else {"events": list(request.events)}
    )
    for key in ("max_sentences", "max_chars"):
        if getattr(request, key) is not None:
            body[key] = getattr(request, key)
    return body


def answer_to_json(answer: SummaryAnswer) -> dict[str, Any]:
    body: dict[str, Any] = {
        "summary": answer.summary,
        "sentences": [_sentence_json(sentence) for sentence in answer.sentences],
        "tier": "slm",
    }
    if answer.omitted:
        body["omitted"] = answer.omitted
    return body


def _sentence_json(sentence: SummarySentence) -> dict[str, Any]:
    body: dict[str, Any] = {"text": sentence.text, "start": sentence.start, "end": sentence.end}
    if sentence.events:
        body["events"] = list(sentence.events)
    return body


def answer_from_json(body: dict[str, Any]) -> SummaryAnswer:
    return SummaryAnswer(
        summary=str(body["summary"]),
        sentences=tuple(
            SummarySentence(
                text=str(s["text"]),
                start=int(s["start"]),
                end=int(s["end"]),
                events=tuple(int(i) for i in s.get("events", ())),
            )
            for s in body.get("sentences", ())
        ),
        omitted=int(body.get("omitted", 0)),
    )


def _document_from_proto(document: summarize_pb2.Document) -> SummarizeRequest:
    max_sentences = document.max_sentences or None
    max_chars = document.max_chars or None
    if document.WhichOneof("source") == "events_json":
        events = load_json(document.events_json.encode(), max_bytes=4 * MAX_SOURCE_CHARS)
        if not isinstance(events, list):
            raise InvalidRequestError("events_json must be a JSON array", field="events")
        return checked(
            SummarizeRequest(events=tuple(events), max_sentences=max_sentences, max_chars=max_chars)
        )
    return checked(
        SummarizeRequest(text=document.text, max_sentences=max_sentences, max_chars=max_chars)
    )


def _document_to_proto(request: SummarizeRequest) -> summarize_pb2.Document:
    max_sentences = request.max_sentences or 0
    max_chars = request.max_chars or 0
    if request.events is not None:
        return summarize_pb2.Document(
            events_json=json.dumps(list(request.events)),
            max_sentences=max_sentences,
            max_chars=max_chars,
        )
    return summarize_pb2.Document(
        text=request.text or "", max_sentences=max_sentences, max_chars=max_chars
    )


def _summary_to_proto(answer: SummaryAnswer) -> summarize_pb2.Summary:
    return summarize_pb2.Summary(
        summary=answer.summary,
        sentences=[
            summarize_pb2.SummarySentence(text=s.text, start=s.start, end=s.end, events=s.events)
            for s in answer.sentences
        ],
    )


def _summary_from_proto(message: summarize_pb2.Summary) -> SummaryAnswer:
    return SummaryAnswer(
        summary=message.summary,
        sentences=tuple(
            SummarySentence(text=s.text, start=s.start, end=s.end, events=tuple(s.events))
            for s in message.sentences
        ),
    )


def _requests_to_proto(
    requests: Sequence[SummarizeRequest], request_id: str
) -> summarize_pb2.SummarizeRequest:
    return summarize_pb2.SummarizeRequest(
        documents=[_document_to_proto(r) for r in requests], request_id=request_id
    )


CONTRACT: Contract[SummarizeRequest, SummaryAnswer] = Contract(
    request_from_json=request_from_json,
    request_to_json=request_to_json,
    answer_to_json=answer_to_json,
    answer_from_json=answer_from_json,
    grpc=GrpcBinding(
        service=summarize_pb2.DESCRIPTOR.services_by_name["Summarizer"].full_name,
        method="Summarize",
        request_type=summarize_pb2.SummarizeRequest,
        response_type=summarize_pb2.SummarizeResponse,
        requests_from_proto=lambda m: [_document_from_proto(d) for d in m.documents],
        requests_to_proto=_requests_to_proto,
        answers_to_proto=lambda answers: summarize_pb2.SummarizeResponse(
            summaries=[_summary_to_proto(a) for a in answers]
        ),
        answers_from_proto=lambda m: [_summary_from_proto(s) for s in m.summaries],
    ),
    max_batch=16,
    max_payload_bytes=512 * 1024,
)
