"""Errors of the summarizer: invalid requests, so the edges already map them.

InvalidRequestError (slm_mesh.services.errors)
└── EventError   one device event cannot be read; it names the event's index and key
"""

from __future__ import annotations

from slm_mesh.services.errors import InvalidRequestError


class EventError(InvalidRequestError):
    """Event `index` has a missing or malformed `key` ("" when the event is no object)."""

    def __init__(self, message: str, *, index: int, key: str) -> None:
        where = f"events[{index}].{key}" if key else f"events[{index}]"
        super().__init__(f"{where}: {message}" if key else f"{where} {message}", field=where)
        self.index = index
        self.key = key
