"""Device events as JSON objects, read and checked one by one.

An event is `{"time": ISO 8601, "entity": "domain.object_id"}` with either `"state"` or
`"attribute"` and `"value"`, and optionally a friendly `"name"` and an `"area"`. Other keys
are ignored. A malformed event is an error that names its index and key: a digest leaves
nothing out silently, so it refuses what it cannot place rather than skip it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slm_mesh.services.summarizer.errors import EventError

_ENTITY = re.compile(r"[a-z0-9_]+\.[a-z0-9_]+")
_Value = str | int | float | bool


@dataclass(frozen=True)
class Event:
    index: int
    """Position in the list the caller gave."""
    time: datetime
    entity: str
    name: str | None
    area: str | None
    attribute: str | None
    """None for a state change."""
    value: _Value
    """The new state, or the attribute's new value."""

    @property
    def domain(self) -> str:
        return self.entity.partition(".")[0]


def read_events(raw: Sequence[Any]) -> list[Event]:
    """Every event checked; times must all carry a UTC offset, or none may."""
    events = [_read(index, item) for index, item in enumerate(raw)]
    if events:
        aware = events[0].time.tzinfo is not None
        for event in events:
            if (event.time.tzinfo is not None) != aware:
                raise EventError(
                    "mixes times with and without a UTC offset; give every time an offset "
                    "(2024-05-01T08:00:00+02:00) or none",
                    index=event.index,
                    key="time",
                )
    return events


def _read(index: int, item: Any) -> Event:
    if not isinstance(item, Mapping):
        raise EventError(f"is a {type(item).__name__}, not a JSON object", index=index, key="")
    time = _time(index, item.get("time"))
    entity = item.get("entity")
    if not isinstance(entity, str) or not _ENTITY.fullmatch(entity):
        raise EventError(
            f"entity {entity!r} is no entity id; write it like binary_sensor.front_door",
            index=index,
            key="entity",
        )
    name = _optional_text(index, item, "name")
    area = _optional_text(index, item, "area")
    has_state, has_attribute = "state" in item, "attribute" in item
    if has_state == has_attribute:
        raise EventError(
            "needs either a state or an attribute with a value, and not both",
            index=index,
            key="state",
        )
    if has_state:
        return Event(index, time, entity, name, area, None, _value(index, item, "state"))
    attribute = _optional_text(index, item, "attribute")
    if "value" not in item:
        raise EventError("has an attribute but no value", index=index, key="value")
    return Event(index, time, entity, name, area, attribute, _value(index, item, "value"))


def _time(index: int, raw: Any) -> datetime:
    if not isinstance(raw, str):
        raise EventError(
            "needs a time as an ISO 8601 string, like 2024-05-01T08:00:00+02:00",
            index=index,
            key="time",
        )
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise EventError(
            f"time {raw!r} is not ISO 8601; write it like 2024-05-01T08:00:00+02:00",
            index=index,
            key="time",
        ) from None


def _optional_text(index: int, item: Mapping[str, Any], key: str) -> str | None:
    raw = item.get(key)
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        raise EventError(f"{key} must be a non-empty string, got {raw!r}", index=index, key=key)
    return raw.strip()


def _value(index: int, item: Mapping[str, Any], key: str) -> _Value:
    raw = item[key]
    if isinstance(raw, str) and raw.strip():
        return raw.strip()
    if isinstance(raw, bool | int | float) and raw == raw:  # NaN is no reading
        return raw
    raise EventError(
        f"{key} must be a non-empty string, a number or true/false, got {raw!r}",
        index=index,
        key=key,
    )
