"""A service's wire contract: its request and answer types and their two codecs, JSON
(MQTT, the command line) and protobuf (gRPC), with the limits every face enforces.

The core works on the frozen dataclasses only; the faces convert at the edge with these
functions, as wyoming's `event()` / `from_event()` pairs do. Over MQTT and the command
line every service takes the same JSON envelope:

    {...one request...}                      -> {...one answer...}
    {"requests": [{...}, {...}]}             -> {"results": [{...}, {...}]}

A service that writes its answer bit by bit (code, as a model generates it) also streams
it: over gRPC a server-streaming method (`StreamBinding`), over MQTT `{..., "stream": true}`,
answered with `{"chunk": "...", "attempt": 0}` messages and then the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message as ProtoMessage

from slm_mesh.services.errors import InvalidRequestError

Req = TypeVar("Req")
Ans = TypeVar("Ans")


@dataclass(frozen=True)
class Piece:
    """A bit of an answer as it is written; a new `attempt` replaces what came before."""

    text: str
    attempt: int = 0


@dataclass(frozen=True)
class StreamBinding(Generic[Req, Ans]):
    """The protobuf side of a server-streaming method: one request in, `Piece`s out as
    they are written, then the complete answer as the last message."""

    method: str
    request_type: type[ProtoMessage]
    response_type: type[ProtoMessage]
    request_from_proto: Callable[[Any], Req]
    request_to_proto: Callable[[Req], ProtoMessage]
    part_to_proto: Callable[[Piece | Ans], ProtoMessage]
    part_from_proto: Callable[[Any], Piece | Ans]


@dataclass(frozen=True)
class GrpcBinding(Generic[Req, Ans]):
    """The protobuf side: one batch method of one gRPC service, plus `Describe`."""

    service: str
    """Full name, e.g. `slm_mesh.v1.Sentiment`."""
    method: str
    """The batch method, e.g. `Classify`."""
    request_type: type[ProtoMessage]
    response_type: type[ProtoMessage]
    requests_from_proto: Callable[[Any], list[Req]]
    requests_to_proto: Callable[[Sequence[Req], str], ProtoMessage]
    """The requests and the call's request id, as the batch request message."""
    answers_to_proto: Callable[[Sequence[Ans]], ProtoMessage]
    answers_from_proto: Callable[[Any], list[Ans]]
    stream: StreamBinding[Req, Ans] | None = None
    """A streaming method beside the batch one, for a core that can stream."""


@dataclass(frozen=True)
class Contract(Generic[Req, Ans]):
    """What a service takes and gives, on every face."""

    request_from_json: Callable[[Any, str], Req]
    """One request from a JSON value; `InvalidRequestError` naming `where` if it is not one."""
    request_to_json: Callable[[Req], dict[str, Any]]
    answer_to_json: Callable[[Ans], dict[str, Any]]
    answer_from_json: Callable[[dict[str, Any]], Ans]
    grpc: GrpcBinding[Req, Ans]
    max_batch: int = 64
    """Requests one call may carry, on every face."""
    max_payload_bytes: int = 64 * 1024
    """The largest JSON message of requests the service reads: an MQTT message, an `ask` line."""

    def requests_from_envelope(self, body: dict[str, Any]) -> tuple[list[Req], bool]:
        """The requests of a JSON message, and whether it was a batch (`requests`)."""
        if "requests" not in body:
            return [self.request_from_json(body, "request")], False
        items = body["requests"]
        if not isinstance(items, list) or not items:
            raise InvalidRequestError("'requests' must be a non-empty list", field="requests")
        self.check_batch(len(items))
        requests = [self.request_from_json(item, f"requests[{i}]") for i, item in enumerate(items)]
        return requests, True

    def answers_to_envelope(self, answers: Sequence[Ans], *, batch: bool) -> dict[str, Any]:
        if batch:
            return {"results": [self.answer_to_json(answer) for answer in answers]}
        (answer,) = answers
        return self.answer_to_json(answer)

    def check_batch(self, count: int) -> None:
        if count == 0:
            raise InvalidRequestError("empty batch: send at least one request", field="requests")
        if count > self.max_batch:
            raise InvalidRequestError(
                f"{count} requests in one call; the limit is {self.max_batch}", field="requests"
            )


def json_object(body: Any, where: str) -> dict[str, Any]:
    """`body` if it is a JSON object, else the error every contract gives."""
    if not isinstance(body, dict):
        raise InvalidRequestError(f"{where} must be a JSON object", field="payload")
    return body


def optional_text(body: dict[str, Any], key: str, where: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidRequestError(f"{where}: '{key}' must be a string", field=key)
    return value or None
