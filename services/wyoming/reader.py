"""Wyoming events read with bounds: a header line of JSON, then optional data and payload
bytes whose lengths the header gives.

The `wyoming` package's own reader trusts those lengths (a client could make it read
gigabytes) and lets deep nesting or a non-object header raise what nothing catches, so
events from the network are read here and only built with its types.
"""

from __future__ import annotations

import asyncio

from wyoming.event import Event

from slm_mesh.services.errors import UnreadablePayload
from slm_mesh.services.runtime.json_payload import load_json_object

MAX_LINE_BYTES = 64 * 1024
"""The header line, and the StreamReader limit the server is started with."""
MAX_DATA_BYTES = 64 * 1024
MAX_PAYLOAD_BYTES = 64 * 1024
"""Text events carry no audio; a little payload is let through and ignored."""


async def read_event(reader: asyncio.StreamReader) -> Event | None:
    """The next event; None at a clean end of the stream. UnreadablePayload says what is
    wrong with an event that cannot be read, after which the stream cannot be trusted."""
    try:
        line = await reader.readline()
    except ValueError:  # LimitOverrunError: no newline within the limit
        raise UnreadablePayload(f"event header over {MAX_LINE_BYTES} bytes") from None
    if not line:
        return None
    if not line.endswith(b"\n"):
        raise UnreadablePayload("connection closed in the middle of an event header")
    header = load_json_object(line, max_bytes=MAX_LINE_BYTES)
    event_type = header.get("type")
    if not isinstance(event_type, str) or not 0 < len(event_type) <= 64:
        raise UnreadablePayload("event 'type' must be a short string")
    data = header.get("data") or {}
    if not isinstance(data, dict):
        raise UnreadablePayload("event 'data' must be an object")
    data_bytes = await _read_exactly(reader, header.get("data_length"), "data", MAX_DATA_BYTES)
    if data_bytes:
        data = {**data, **load_json_object(data_bytes, max_bytes=MAX_DATA_BYTES)}
    payload = await _read_exactly(
        reader, header.get("payload_length"), "payload", MAX_PAYLOAD_BYTES
    )
    return Event(type=event_type, data=data, payload=payload or None)


async def _read_exactly(
    reader: asyncio.StreamReader, length: object, name: str, limit: int
) -> bytes:
    if length is None:
        return b""
    if not isinstance(length, int) or isinstance(length, bool) or not 0 <= length <= limit:
        raise UnreadablePayload(f"event '{name}_length' must be a whole number up to {limit}")
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        raise UnreadablePayload(f"connection closed in the middle of an event's {name}") from None
