"""What the router takes: device events and direct requests, validated at the edge.

    {"text": "lights off", "site": "home", "device": "satellite-lounge", "area": "Lounge",
     "id": "optional request id", "task": "optional: intent|summarize|sentiment|code",
     "deadline_ms": 5000, "sent_at": 1764370000.25}

`context.area` is accepted for `area`, as `slm-mesh ask` writes it. Everything but `text`
is optional; the device's area, when absent, comes from the router's device table.
`sent_at` (seconds since the Unix epoch, from a clock kept in time) starts the deadline
when the request was sent, not when the router got round to it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

from slm_mesh.services.errors import InvalidRequestError

Task = Literal["intent", "summarize", "sentiment", "code"]
TASKS: tuple[str, ...] = get_args(Task)
MAX_DEADLINE_MS = 600_000


@dataclass(frozen=True)
class RouterRequest:
    id: str
    text: str
    task: Task | None = None
    """As asked; None lets the router pick by the request's form."""
    site: str | None = None
    device: str | None = None
    area: str | None = None
    deadline_s: float | None = None
    """None: the router's default."""
    sent_at: float | None = None
    """When the device sent it, by its own wall clock (seconds since the epoch)."""
    deadline_at: float | None = None
    """When the answer is due, on the router's monotonic clock (set by the edge)."""

    def context_json(self) -> dict[str, Any]:
        return {"site": self.site, "device": self.device, "area": self.area}


def _optional_text(body: dict[str, Any], key: str, *, limit: int = 200) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequestError(f"'{key}' must be a string", field=key)
    if len(value) > limit:
        raise InvalidRequestError(f"'{key}' is over {limit} characters", field=key)
    return value or None


def parse_request(body: dict[str, Any], *, device: str | None = None) -> RouterRequest:
    """A request from a JSON object; `device` comes from the topic when the body has none.

    The text itself (empty, too long, control characters) is checked by the service that
    answers it, so every service applies its own limits.
    """
    text = body.get("text")
    if not isinstance(text, str):
        raise InvalidRequestError("the request needs 'text', a string")
    context = body.get("context") or {}
    if not isinstance(context, dict):
        raise InvalidRequestError("'context' must be an object", field="context")
    task = body.get("task")
    if task is not None and task not in TASKS:
        raise InvalidRequestError(f"unknown task {task!r}; one of {', '.join(TASKS)}", field="task")
    deadline_ms = body.get("deadline_ms")
    if deadline_ms is not None and (
        isinstance(deadline_ms, bool)
        or not isinstance(deadline_ms, int | float)
        or not 0 < deadline_ms <= MAX_DEADLINE_MS
    ):
        raise InvalidRequestError(
            f"'deadline_ms' must be a number in (0, {MAX_DEADLINE_MS}]", field="deadline_ms"
        )
    sent_at = body.get("sent_at")
    if sent_at is not None and (
        isinstance(sent_at, bool) or not isinstance(sent_at, int | float) or sent_at <= 0
    ):
        raise InvalidRequestError(
            "'sent_at' must be the send time in seconds since the Unix epoch", field="sent_at"
        )
    request_id = _optional_text(body, "id") or uuid.uuid4().hex[:16]
    return RouterRequest(
        id=request_id,
        text=text,
        task=task,
        site=_optional_text(body, "site") or _optional_text(context, "site"),
        device=_optional_text(body, "device") or _optional_text(context, "device") or device,
        area=_optional_text(body, "area") or _optional_text(context, "area"),
        deadline_s=deadline_ms / 1000 if deadline_ms is not None else None,
        sent_at=float(sent_at) if sent_at is not None else None,
    )


def with_deadline(
    request: RouterRequest,
    *,
    default_s: float,
    received_at: float,
    expiry_s: int | None,
    now: float,
    wall_now: float,
) -> RouterRequest:
    """The request with its `deadline_at`: counted from when it was sent, if it says
    (`sent_at`), else from when it reached the mesh (`received_at`, on the same monotonic
    clock as `now`), and never after its MQTT 5 message expiry, which the broker counts
    down while the message waits."""
    start = received_at
    if request.sent_at is not None:
        start = min(start, now - max(0.0, wall_now - request.sent_at))
    due = start + (request.deadline_s or default_s)
    if expiry_s is not None:
        due = min(due, received_at + expiry_s)
    return replace(request, deadline_at=due)
