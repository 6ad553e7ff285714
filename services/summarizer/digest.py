"""A digest of a home's events: what happened, how often and when, in a few sentences.

Events are grouped per entity and state (or attribute and value); numbers read from one
entity form one group (a temperature sensor's readings become one range). Each group is one
sentence, "Front door opened 3 times between 08:02 and 17:40.", that carries the indexes of
the events it counts, so every word can be checked against them. Sentences come in the
order of each group's first event. Over budget, alarms, locks and doors are kept before
lights and readings, and `omitted` says how many groups were left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slm_mesh.services.summarizer.events import Event, read_events
from slm_mesh.services.summarizer.phrases import importance, phrase
from slm_mesh.services.summarizer.summary import check_budget


@dataclass(frozen=True)
class DigestSentence:
    text: str
    events: tuple[int, ...]
    """Indexes (in the caller's list) of the events this sentence counts."""


@dataclass(frozen=True)
class Digest:
    sentences: tuple[DigestSentence, ...]
    since: datetime | None
    """The earliest event's time (None without events)."""
    omitted: int
    """Groups of events left out to keep within the budget."""

    @property
    def text(self) -> str:
        return " ".join(sentence.text for sentence in self.sentences)


def digest(
    events: Sequence[Any], *, max_sentences: int | None = None, max_chars: int | None = None
) -> Digest:
    """Grouped, counted sentences about `events` (JSON objects; see `events.py`)."""
    check_budget(max_sentences, max_chars)
    read = sorted(read_events(events), key=lambda e: (e.time, e.index))
    if not read:
        return Digest(sentences=(), since=None, omitted=0)
    several_days = read[0].time.date() != read[-1].time.date()
    groups = _groups(read)
    kept: list[tuple[list[Event], str]] = []
    used = -1
    for group in sorted(groups, key=lambda g: (-importance(g[0]), g[0].time, g[0].index)):
        text = _sentence(group, several_days=several_days)
        if max_sentences is not None and len(kept) >= max_sentences:
            break
        if max_chars is not None and used + 1 + len(text) > max_chars:
            continue
        kept.append((group, text))
        used += 1 + len(text)
    kept.sort(key=lambda item: (item[0][0].time, item[0][0].index))
    sentences = tuple(
        DigestSentence(text, tuple(sorted(e.index for e in group))) for group, text in kept
    )
    return Digest(sentences=sentences, since=read[0].time, omitted=len(groups) - len(kept))


def _groups(events: list[Event]) -> list[list[Event]]:
    """Events per (entity, attribute, value); numbers per (entity, attribute) alone."""
    groups: dict[tuple[str, str | None, object], list[Event]] = {}
    for event in events:
        value = None if _is_number(event.value) else (type(event.value), event.value)
        groups.setdefault((event.entity, event.attribute, value), []).append(event)
    return list(groups.values())


def _sentence(group: list[Event], *, several_days: bool) -> str:
    first, last = group[0], group[-1]
    if _is_number(first.value):
        low = min(float(e.value) for e in group)
        high = max(float(e.value) for e in group)
        subject = phrase(first).subject
        if len(group) == 1:
            return f"{subject} was {_number(first.value)} at {_clock(first.time, several_days)}."
        return (
            f"{subject} was between {_number(low)} and {_number(high)} "
            f"({len(group)} readings from {_clock(first.time, several_days)} "
            f"to {_clock(last.time, several_days)})."
        )
    words = phrase(first)
    if len(group) == 1:
        return f"{words.subject} {words.verb} at {_clock(first.time, several_days)}."
    return (
        f"{words.subject} {words.verb} {len(group)} times between "
        f"{_clock(first.time, several_days)} and {_clock(last.time, several_days)}."
    )


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        return math.isfinite(float(str(value)))
    except ValueError:
        return False


def _number(value: object) -> str:
    number = float(str(value))
    return str(int(number)) if number.is_integer() else f"{number:g}"


def _clock(time: datetime, several_days: bool) -> str:
    return time.strftime("%a %H:%M" if several_days else "%H:%M")
