"""Frames to the mesh's JSON and back (pure).

A text event becomes the router's device event (`services/router/request.py`):

    {"text": "lights off", "device": "esp32-lounge", "id": "esp32-lounge/3/17",
     "deadline_ms": 5000, "area": "Lounge", "sent_at": 1764370000.25}

`id` names the device, its boot (the bridge's session number for it) and the frame's
sequence number, so the router answers a re-sent request once; `sent_at` is given only
when the device's clock agrees with the bridge's within five minutes. The router's answer
comes back to the device as an Answer, cut to fit one frame.
"""

from __future__ import annotations

import json
import math
from typing import Any

from slm_mesh.firmware_bridge.frames import FrameError, is_name
from slm_mesh.v1.bridge_pb2 import Answer, Button, Frame

MAX_TEXT_CHARS = 600
"""The longest text event taken (a transcript of a few sentences)."""
MAX_AREA_CHARS = 200
CLOCK_SKEW_S = 300.0
"""A device's timestamp further than this from the bridge's clock is not believed."""
MAX_ANSWER_BYTES = 900
"""An Answer this size still fits a frame with its header, tag and CRC."""
MAX_SLOTS = 8
PRESS_NAMES = {
    Button.PRESS_UNSPECIFIED: "unspecified",
    Button.PRESS_SHORT: "short",
    Button.PRESS_LONG: "long",
    Button.PRESS_DOUBLE: "double",
    Button.PRESS_RELEASE: "release",
}


def check_event(frame: Frame) -> None:
    """FrameError("body") for an event the mesh cannot take."""
    event = frame.event
    kind = event.WhichOneof("kind")
    if len(event.area) > MAX_AREA_CHARS:
        raise FrameError("body", f"area over {MAX_AREA_CHARS} characters", device=frame.device)
    if kind == "text":
        if not event.text.strip():
            raise FrameError("body", "an empty text event", device=frame.device)
        if len(event.text) > MAX_TEXT_CHARS:
            raise FrameError("body", f"text over {MAX_TEXT_CHARS} characters", device=frame.device)
    elif kind == "button":
        if not is_name(event.button.name):
            raise FrameError("body", "a button name is [A-Za-z0-9_.-]{1,64}", device=frame.device)
    elif kind == "sensor":
        if not is_name(event.sensor.name):
            raise FrameError("body", "a sensor name is [A-Za-z0-9_.-]{1,64}", device=frame.device)
        if not math.isfinite(event.sensor.value):
            raise FrameError("body", "a sensor value must be finite", device=frame.device)
    else:
        raise FrameError("body", "an event with no kind", device=frame.device)


def event_id(frame: Frame, session: int) -> str:
    return f"{frame.device}/{session}/{frame.seq}"


def router_event(
    frame: Frame, *, session: int, deadline_ms: int, wall_now: float
) -> dict[str, Any]:
    """The router's device event for a text event."""
    body: dict[str, Any] = {
        "text": frame.event.text,
        "device": frame.device,
        "id": event_id(frame, session),
        "deadline_ms": deadline_ms,
    }
    if frame.event.area:
        body["area"] = frame.event.area
    sent_at = device_time(frame, wall_now=wall_now)
    if sent_at is not None:
        body["sent_at"] = sent_at
    return body


def device_time(frame: Frame, *, wall_now: float) -> float | None:
    """When the device sent the frame, when it has a clock that agrees with ours."""
    if not frame.timestamp_ms:
        return None
    sent_at = frame.timestamp_ms / 1000
    return sent_at if abs(wall_now - sent_at) <= CLOCK_SKEW_S else None


def button_json(frame: Frame, *, session: int, wall_now: float) -> dict[str, Any]:
    button = frame.event.button
    return {
        "device": frame.device,
        "button": button.name,
        "press": PRESS_NAMES.get(button.press, "unspecified"),
        "id": event_id(frame, session),
        "at": round(device_time(frame, wall_now=wall_now) or wall_now, 3),
        **({"area": frame.event.area} if frame.event.area else {}),
    }


def sensor_json(frame: Frame, *, session: int, wall_now: float) -> dict[str, Any]:
    sensor = frame.event.sensor
    return {
        "device": frame.device,
        "sensor": sensor.name,
        "value": sensor.value,
        "unit": sensor.unit or None,
        "id": event_id(frame, session),
        "at": round(device_time(frame, wall_now=wall_now) or wall_now, 3),
        **({"area": frame.event.area} if frame.event.area else {}),
    }


def answer_from_reply(reply: dict[str, Any], *, seq: int) -> Answer:
    """The router's answer, as one frame can carry it."""
    error = reply.get("error")
    code = ""
    text = reply.get("answer") if isinstance(reply.get("answer"), str) else ""
    if isinstance(error, dict):
        code = str(error.get("code") or "internal")
        text = text or str(error.get("message") or "")
    slots = reply.get("slots")
    if not isinstance(slots, dict):
        slots = {}
    confidence = reply.get("confidence")
    answer = Answer(
        seq=seq,
        intent=_clip(reply.get("intent"), 64),
        tier=_clip(reply.get("tier"), 16),
        confidence=float(confidence) if isinstance(confidence, int | float) else 0.0,
        error=_clip(code, 32),
    )
    for key, value in list(slots.items())[:MAX_SLOTS]:
        answer.slots[_clip(key, 32)] = _clip(_slot_text(value), 64)
    answer.text = _fit_utf8(text or "", MAX_ANSWER_BYTES - answer.ByteSize() - 8)
    return answer


def error_answer(code: str, message: str, *, seq: int) -> Answer:
    return Answer(seq=seq, error=code, text=_fit_utf8(message, 200))


def _slot_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _clip(value: Any, chars: int) -> str:
    return value[:chars] if isinstance(value, str) else ""


def _fit_utf8(text: str, limit: int) -> str:
    """`text` cut to at most `limit` bytes of UTF-8, on a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: max(0, limit)].decode("utf-8", "ignore")
