"""JSON from the wire, read in one place: every way a payload can be unreadable (too big,
not UTF-8, not JSON, nested too deeply for the parser, a number too long to convert)
becomes one `UnreadablePayload`, so a handler catches one error and loses one message.

`json.loads` raises `RecursionError` on a few thousand nested brackets, which is neither
a ValueError nor something a handler expects: uncaught, it killed the task reading the
broker's messages.
"""

from __future__ import annotations

import json
from typing import Any

from slm_mesh.services.errors import UnreadablePayload

MAX_PAYLOAD_BYTES = 64 * 1024


def load_json(data: bytes, *, max_bytes: int = MAX_PAYLOAD_BYTES) -> Any:
    """The JSON value in `data`, or UnreadablePayload saying what is wrong with it."""
    if len(data) > max_bytes:
        raise UnreadablePayload(f"payload of {len(data)} bytes is over the {max_bytes} byte limit")
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError as err:
        raise UnreadablePayload(f"payload is not UTF-8: {err}") from None
    except RecursionError:
        raise UnreadablePayload("payload is nested too deeply to read") from None
    except ValueError as err:  # JSONDecodeError, and integers over Python's digit limit
        raise UnreadablePayload(f"payload is not JSON: {err}") from None


def _refuse_constant(name: str) -> Any:
    """NaN and Infinity are not JSON, though Python's reader takes them."""
    raise ValueError(f"{name} is not a JSON value")


def load_json_object(data: bytes, *, max_bytes: int = MAX_PAYLOAD_BYTES) -> dict[str, Any]:
    """As `load_json`, for messages that must be a JSON object."""
    body = load_json(data, max_bytes=max_bytes)
    if not isinstance(body, dict):
        raise UnreadablePayload("payload must be a JSON object")
    return body
