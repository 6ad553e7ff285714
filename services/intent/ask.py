"""`slm-mesh ask intent`: requests in (arguments, or stdin one a line), JSON lines out.

A stdin line is plain text, or a JSON object `{"text": ..., "context": {"area": ...}}`.
Answers come out in input order. A line that cannot be used gets an `error` object in its
place, so the output stays aligned with the input, and the exit code tells it happened.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from slm_mesh.services.contracts.intent import IntentRequest, IntentResult
from slm_mesh.services.errors import InvalidRequestError

#: Lines are answered in chunks of this many, so a long stdin streams.
CHUNK = 64


@dataclass(frozen=True)
class BadLine:
    text: str
    error: str

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "error": self.error}


def parse_line(raw: bytes, *, area: str | None = None) -> IntentRequest | BadLine:
    """One stdin line -> a request, or the reason it is not one."""
    try:
        line = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as err:
        shown = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        return BadLine(shown, f"line is not valid UTF-8 (byte {err.start})")
    if not line.lstrip().startswith("{"):
        return IntentRequest(text=line, area=area)
    try:
        data = json.loads(line)
    except json.JSONDecodeError as err:
        return BadLine(line, f"line starts with '{{' but is not JSON: {err.msg}")
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str):
        return BadLine(line, 'a JSON line needs "text" (a string)')
    context = data.get("context") or {}
    context_area = context.get("area") if isinstance(context, dict) else None
    if context_area is not None and not isinstance(context_area, str):
        return BadLine(line, '"context.area" must be a string')
    return IntentRequest(text=text, area=context_area or area)


Recognize = Callable[[Sequence[IntentRequest]], list[IntentResult]]


def answer_lines(
    items: Iterable[IntentRequest | BadLine], *, recognize: Recognize, write: Callable[[str], None]
) -> int:
    """Answer every item in order; returns how many could not be answered.

    Items go in chunks (one batch each); a chunk with a refused request is answered
    item by item, so the refusal lands on its own line.
    """
    failures = 0
    chunk: list[IntentRequest | BadLine] = []

    def flush() -> None:
        nonlocal failures
        for answer in _answer_chunk(chunk, recognize):
            failures += isinstance(answer, BadLine)
            write(json.dumps(answer.as_json(), ensure_ascii=False))
        chunk.clear()

    for item in items:
        chunk.append(item)
        if len(chunk) >= CHUNK:
            flush()
    flush()
    return failures


def _answer_chunk(
    chunk: Sequence[IntentRequest | BadLine], recognize: Recognize
) -> list[IntentResult | BadLine]:
    requests = [item for item in chunk if isinstance(item, IntentRequest)]
    try:
        results = iter(recognize(requests) if requests else [])
        return [item if isinstance(item, BadLine) else next(results) for item in chunk]
    except InvalidRequestError:
        if len(requests) == 1:
            return [_answer_one(item, recognize) for item in chunk]
    return [_answer_one(item, recognize) for item in chunk]


def _answer_one(item: IntentRequest | BadLine, recognize: Recognize) -> IntentResult | BadLine:
    if isinstance(item, BadLine):
        return item
    try:
        return recognize([item])[0]
    except InvalidRequestError as err:
        return BadLine(item.text, str(err))
