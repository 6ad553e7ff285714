"""The code-snippet contract: a description in, a snippet out that uses the home's own
entities and says whether it passed its format's validation.

    request  {"prompt": "when motion is detected in the hallway after sunset, turn on the
              hallway light for five minutes", "format": "homeassistant-automation"}
    answer   {"prompt", "format", "code": "...", "language": "yaml", "valid": true,
              "problems": [], "tier": "retrieval", "source": "motion-light-after-sunset",
              "notes": []}

`format` may be left out: it is read from the prompt ("an ESPHome config ...", "a shell
one-liner ..."), else it is a Home Assistant automation. Over gRPC:
`slm_mesh.v1.Code/Write` (a batch) and `Code/WriteStream` (one request, its code streamed
as it is written, then the answer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.kit.contract import (
    Contract,
    GrpcBinding,
    Piece,
    StreamBinding,
    json_object,
)
from slm_mesh.v1 import code_pb2

MAX_PROMPT_CHARS = 1000
"""A request describes one snippet; longer prompts are refused, never cut short."""
LANGUAGES = {
    "homeassistant-automation": "yaml",
    "esphome": "yaml",
    "micropython": "python",
    "python": "python",
    "shell": "bash",
}
FORMATS = tuple(LANGUAGES)


@dataclass(frozen=True)
class CodeRequest:
    prompt: str
    format: str | None = None
    """One of `FORMATS`; None: read from the prompt."""


@dataclass(frozen=True)
class CodeAnswer:
    prompt: str
    format: str
    code: str
    valid: bool
    """Whether the code passed its format's checks."""
    problems: tuple[str, ...] = ()
    tier: str = "retrieval"
    """Which plugin wrote it: "retrieval" (the snippet library) or "generative"."""
    source: str = ""
    """The library snippet or the model it came from."""
    notes: tuple[str, ...] = ()
    """What happened on the way (a generative answer replaced, an entity not in the home)."""

    @property
    def language(self) -> str:
        return LANGUAGES[self.format]


def request_from_json(body: Any, where: str = "request") -> CodeRequest:
    body = json_object(body, where)
    prompt = body.get("prompt", body.get("text"))
    if not isinstance(prompt, str):
        raise InvalidRequestError(f"{where} needs a string 'prompt'", field="prompt")
    fmt = body.get("format")
    if fmt is not None and not isinstance(fmt, str):
        raise InvalidRequestError(f"{where}: 'format' must be a string", field="format")
    return CodeRequest(prompt=prompt, format=fmt or None)


def request_to_json(request: CodeRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"prompt": request.prompt}
    if request.format is not None:
        body["format"] = request.format
    return body


def answer_to_json(answer: CodeAnswer) -> dict[str, Any]:
    return {
        "prompt": answer.prompt,
        "format": answer.format,
        "code": answer.code,
        "language": answer.language,
        "valid": answer.valid,
        "problems": list(answer.problems),
        "tier": answer.tier,
        "source": answer.source,
        "notes": list(answer.notes),
    }


def answer_from_json(body: dict[str, Any]) -> CodeAnswer:
    return CodeAnswer(
        prompt=str(body["prompt"]),
        format=str(body["format"]),
        code=str(body["code"]),
        valid=bool(body["valid"]),
        problems=tuple(str(p) for p in body.get("problems") or ()),
        tier=str(body.get("tier", "")),
        source=str(body.get("source", "")),
        notes=tuple(str(n) for n in body.get("notes") or ()),
    )


def request_from_proto(message: code_pb2.CodeRequest) -> CodeRequest:
    return CodeRequest(prompt=message.prompt, format=message.format or None)


def request_to_proto(request: CodeRequest) -> code_pb2.CodeRequest:
    return code_pb2.CodeRequest(prompt=request.prompt, format=request.format or "")


def answer_to_proto(answer: CodeAnswer) -> code_pb2.CodeAnswer:
    return code_pb2.CodeAnswer(
        prompt=answer.prompt,
        format=answer.format,
        code=answer.code,
        language=answer.language,
        valid=answer.valid,
        problems=list(answer.problems),
        tier=answer.tier,
        source=answer.source,
        notes=list(answer.notes),
    )


def answer_from_proto(message: code_pb2.CodeAnswer) -> CodeAnswer:
    return CodeAnswer(
        prompt=message.prompt,
        format=message.format,
        code=message.code,
        valid=message.valid,
        problems=tuple(message.problems),
        tier=message.tier,
        source=message.source,
        notes=tuple(message.notes),
    )


def _part_to_proto(part: Piece | CodeAnswer) -> code_pb2.CodeChunk:
    if isinstance(part, Piece):
        return code_pb2.CodeChunk(text=part.text, attempt=part.attempt)
    return code_pb2.CodeChunk(answer=answer_to_proto(part))


def _part_from_proto(message: code_pb2.CodeChunk) -> Piece | CodeAnswer:
    if message.WhichOneof("part") == "answer":
        return answer_from_proto(message.answer)
    return Piece(message.text, message.attempt)


def _requests_to_proto(requests: Sequence[CodeRequest], request_id: str) -> code_pb2.WriteRequest:
    return code_pb2.WriteRequest(
        requests=[request_to_proto(r) for r in requests], request_id=request_id
    )


CONTRACT: Contract[CodeRequest, CodeAnswer] = Contract(
    request_from_json=request_from_json,
    request_to_json=request_to_json,
    answer_to_json=answer_to_json,
    answer_from_json=answer_from_json,
    grpc=GrpcBinding(
        service=code_pb2.DESCRIPTOR.services_by_name["Code"].full_name,
        method="Write",
        request_type=code_pb2.WriteRequest,
        response_type=code_pb2.WriteResponse,
        requests_from_proto=lambda m: [request_from_proto(r) for r in m.requests],
        requests_to_proto=_requests_to_proto,
        answers_to_proto=lambda answers: code_pb2.WriteResponse(
            results=[answer_to_proto(a) for a in answers]
        ),
        answers_from_proto=lambda m: [answer_from_proto(r) for r in m.results],
        stream=StreamBinding(
            method="WriteStream",
            request_type=code_pb2.CodeRequest,
            response_type=code_pb2.CodeChunk,
            request_from_proto=request_from_proto,
            request_to_proto=request_to_proto,
            part_to_proto=_part_to_proto,
            part_from_proto=_part_from_proto,
        ),
    ),
    max_batch=8,
)
