"""Sentences the intent head learned from use: what the fallback answered (checked against
the home) and what a person corrected, written by `slm-mesh factory learn` and read by the
head's training, so what the large model had to answer yesterday the SLM answers today.

    <cache_dir>/learned/intent.yaml     (0600: they are what people said at home)
    sentences:
      - {text: give the desk lamp a rest, intent: HassTurnOff, slots: {name: Desk Lamp},
         area: Study, source: fallback}
      - {text: the pendant can have a break, intent: OutOfScope, source: correction}

Each is trained as a sentence of its intent, with variants that say another of the home's
names where it says one, and filler words (`training.py`).
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from slm_mesh.services.contracts.intent import SlotValue
from slm_mesh.services.errors import EXIT_BAD_INPUT, SlmMeshError
from slm_mesh.services.home.model import Home
from slm_mesh.services.intent.slots import OUT_OF_SCOPE, Label

Source = Literal["fallback", "correction"]
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


class LearnedFileError(SlmMeshError):
    """The learned sentences cannot be read; the message says which file and what to do."""

    code = "misconfigured"
    exit_code = EXIT_BAD_INPUT


@dataclass(frozen=True)
class LearnedSentence:
    text: str
    """As said, in lower case with single spaces (as the training sentences are)."""
    intent: str
    """A Home Assistant intent, or `OutOfScope` for a sentence the home must not act on."""
    slots: dict[str, SlotValue] = field(default_factory=dict)
    area: str | None = None
    """The area the request came from (its device's), which the slots may rely on."""
    source: Source = "fallback"

    @property
    def label(self) -> str:
        """What the head predicts for it. A named device brings its own domain, so the
        label leaves the domain out then, as Home Assistant's `{name}` templates do."""
        if self.intent == OUT_OF_SCOPE:
            return OUT_OF_SCOPE
        shaping = {
            k: v for k, v in self.slots.items() if not (k == "domain" and "name" in self.slots)
        }
        return Label.of(self.intent, shaping).key

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"text": self.text, "intent": self.intent}
        if self.slots:
            found["slots"] = dict(self.slots)
        if self.area:
            found["area"] = self.area
        found["source"] = self.source
        return found


def normalized(text: str) -> str:
    return " ".join(text.split()).casefold()


def learned_path(cache_dir: Path) -> Path:
    return cache_dir / "learned" / "intent.yaml"


def read_learned(path: Path) -> list[LearnedSentence]:
    """The learned sentences, none when the file does not exist."""
    if not path.exists():
        return []
    how = f"fix it, or delete it and run `slm-mesh factory learn` again: {path}"
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise LearnedFileError(f"cannot read the learned sentences ({err}); {how}") from None
    items = data.get("sentences") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise LearnedFileError(f"the learned sentences file has no `sentences` list; {how}")
    found = []
    for number, item in enumerate(items, 1):
        try:
            found.append(_sentence(item))
        except (KeyError, TypeError, ValueError) as err:
            raise LearnedFileError(f"learned sentence {number} is damaged ({err}); {how}") from None
    return found


def _sentence(item: Any) -> LearnedSentence:
    if not isinstance(item, dict):
        raise TypeError("not a mapping")
    text, intent = item["text"], item["intent"]
    slots = item.get("slots") or {}
    if not isinstance(text, str) or not text.strip() or not isinstance(intent, str):
        raise ValueError("`text` and `intent` must be text")
    if not isinstance(slots, dict) or not all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in slots.values()
    ):
        raise ValueError("`slots` must map names to text or numbers")
    source = item.get("source", "fallback")
    if source not in ("fallback", "correction"):
        raise ValueError(f"unknown source {source!r}")
    area = item.get("area")
    return LearnedSentence(
        text=normalized(text),
        intent=intent,
        slots={str(k): v for k, v in slots.items()},
        area=area if isinstance(area, str) else None,
        source=source,
    )


def write_learned(path: Path, sentences: Sequence[LearnedSentence]) -> None:
    """Replace the file at once (a reader sees the old one or the new one), owner-only."""
    if not path.parent.exists():
        path.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    header = "# Written by `slm-mesh factory learn`; corrections go in your own file.\n"
    body = yaml.safe_dump(
        {"sentences": [s.as_json() for s in sentences]}, allow_unicode=True, sort_keys=False
    )
    partial = path.with_name(path.name + ".tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
        os.write(descriptor, (header + body).encode("utf-8"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    partial.replace(path)


def renamed(sentence: LearnedSentence, home: Home, rng: random.Random) -> list[str]:
    """The sentence saying another of the home's names where it says one, of the same kind
    (a light for a light, an area for an area): up to 6, drawn with `rng`."""
    found: list[str] = []
    for said, others in _names_said(sentence, home):
        pattern = re.compile(rf"\b{re.escape(said)}\b")
        for other in rng.sample(others, min(len(others), 6)):
            found.append(pattern.sub(other.casefold(), sentence.text, count=1))
    return found[:6]


def _names_said(sentence: LearnedSentence, home: Home) -> list[tuple[str, list[str]]]:
    """(the name as said, the names that may replace it) for the device, area and floor
    the slots name, where the sentence says them."""
    name, area, floor = (sentence.slots.get(k) for k in ("name", "area", "floor"))
    devices = [(e.names, e.domain) for e in home.entities if e.name == name]
    groups: list[tuple[tuple[str, ...], list[tuple[str, ...]]]] = [
        (names, [e.names for e in home.entities if e.domain == domain]) for names, domain in devices
    ]
    for slot, kind in ((area, home.areas), (floor, home.floors)):
        everyone = [(x.name, *x.aliases) for x in kind]
        groups.extend((names, everyone) for names in everyone if names[0] == slot)
    said = []
    for names, kin in groups:
        for candidate in sorted((n.casefold() for n in names), key=len, reverse=True):
            if re.search(rf"\b{re.escape(candidate)}\b", sentence.text):
                said.append((candidate, [n for same in kin if same != names for n in same]))
                break
    return said
