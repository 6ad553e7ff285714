"""Which of the home's entities, areas and floors a sentence mentions.

Exact phrases first (longest wins, so "Lounge Blinds" beats the area "Lounge"), then a
fuzzy pass for the rest: an entity is mentioned when the sentence holds enough of its
distinctive words ("lock the front" -> Front Lock), weighted by how rare each word is in
this home, with small spelling slips forgiven ("lamps", "blind").
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass

from rapidfuzz import fuzz

from slm_mesh.services.home.model import Area, Entity, Floor, Home

#: Words that name a kind of device rather than one device; they do not identify an entity.
GENERIC_WORDS = frozenset({
    "the", "a", "an", "my", "our", "of", "in", "on", "light", "lights", "lamp", "lamps",
    "switch", "switches", "sensor", "sensors", "fan", "fans", "lock", "locks", "door", "doors",
    "blind", "blinds", "cover", "covers", "window", "windows", "speaker", "speakers", "tv",
    "temperature", "thermostat", "heater", "heating", "radiator", "strip", "plug", "socket",
})  # fmt: skip


def tokens(text: str) -> list[str]:
    """Words, with a possessive 's dropped ("Robbie's in the way" names Robbie)."""
    return re.findall(r"(?<!')\b[a-z0-9]+(?:'(?!s\b)[a-z]+)?", text.casefold())


@dataclass(frozen=True)
class Mention:
    target: Entity | Area | Floor
    start: int
    end: int
    """Token span [start, end) in the sentence."""
    score: float
    said: str
    """The name as the home spells it that the sentence matched (a name or an alias)."""


@dataclass(frozen=True)
class Mentions:
    entities: tuple[Mention, ...] = ()
    areas: tuple[Mention, ...] = ()
    floors: tuple[Mention, ...] = ()

    def best_entity(self) -> Mention | None:
        return max(self.entities, key=lambda m: m.score, default=None)


class MentionFinder:
    """Built once per home; `find` is pure and cheap."""

    def __init__(self, *, home: Home) -> None:
        self._phrases: list[tuple[tuple[str, ...], Entity | Area | Floor, str]] = []
        for kind in (home.entities, home.areas, home.floors):
            for item in kind:
                for name in (item.name, *item.aliases):
                    self._phrases.append((tuple(tokens(name)), item, name))
        self._phrases.sort(key=lambda p: -len(p[0]))
        places: tuple[Area | Floor, ...] = (*home.areas, *home.floors)
        place_words = {t for item in places for n in _names(item) for t in tokens(n)}
        counts = Counter(t for e in home.entities for t in set(tokens(" ".join(_names(e)))))
        total = max(len(home.entities), 1)
        idf = {t: math.log(1 + total / c) for t, c in counts.items()}
        generic = GENERIC_WORDS | place_words
        spelled = (
            _FuzzyName.of(entity, said, idf=idf, generic=generic)
            for entity in home.entities
            for said in _names(entity)
        )
        self._fuzzy_names = [name for name in spelled if name.distinctive]

    def find(self, text: str) -> Mentions:
        words = tokens(text)
        present = set(words)
        taken = [False] * len(words)
        exact: dict[str, list[Mention]] = {"entity": [], "area": [], "floor": []}
        for phrase, item, said in self._phrases:
            n = len(phrase)
            if n == 0 or phrase[0] not in present:
                continue
            for start in range(len(words) - n + 1):
                if tuple(words[start : start + n]) == phrase and not any(taken[start : start + n]):
                    taken[start : start + n] = [True] * n
                    exact[_kind(item)].append(Mention(item, start, start + n, 1.0 + n, said))
        fuzzy = self._fuzzy_entities(words, taken) if not exact["entity"] else []
        return Mentions(
            entities=tuple(exact["entity"] + fuzzy),
            areas=tuple(_unique(exact["area"])),
            floors=tuple(_unique(exact["floor"])),
        )

    def _fuzzy_entities(self, words: list[str], taken: list[bool]) -> list[Mention]:
        for start, end in _time_phrases(words):
            taken[start:end] = [True] * (end - start)  # "for the night" names no Night Light
        free = [(i, w) for i, w in enumerate(words) if not taken[i]]
        found = []
        for name in self._fuzzy_names:
            hits = {t: _find_word(t, free) for t in name.weights}
            got = sum(weight for t, weight in name.weights.items() if hits[t] is not None)
            missing = [t for t in name.distinctive if hits[t] is None]
            score = got / name.total_weight
            # Every distinctive word ("front" of Front Lock), or most of a long name.
            if (not missing and score >= 0.5) or (
                len(missing) < len(name.distinctive) and score >= 0.75
            ):
                positions = [at for at in hits.values() if at is not None]
                found.append(
                    Mention(name.entity, min(positions), max(positions) + 1, score, name.said)
                )
        return found


@dataclass(frozen=True)
class _FuzzyName:
    """One way the home spells an entity, split into words once, for the fuzzy pass."""

    entity: Entity
    said: str
    weights: dict[str, float]
    """Each word of the name, weighted by how rare it is among the home's entity names."""
    distinctive: tuple[str, ...]
    """The words that identify a device rather than a kind of device."""
    total_weight: float

    @classmethod
    def of(
        cls, entity: Entity, said: str, *, idf: dict[str, float], generic: frozenset[str]
    ) -> _FuzzyName:
        words = tokens(said)
        weights = {t: idf.get(t, 1.0) for t in words}
        distinctive = tuple(t for t in words if t not in generic)
        return cls(entity, said, weights, distinctive, sum(weights.values()))


#: Times of day said as times, not as names: the fuzzy pass leaves them alone.
_TIME_PHRASES = tuple(
    tuple(phrase.split())
    for phrase in (
        "for the night", "through the night", "during the night", "all night", "at night",
        "overnight", "tonight", "in the morning", "this morning", "in the evening",
        "this evening", "this afternoon",
    )
)  # fmt: skip


def _time_phrases(words: list[str]) -> list[tuple[int, int]]:
    return [
        (start, start + len(phrase))
        for phrase in _TIME_PHRASES
        for start in range(len(words) - len(phrase) + 1)
        if tuple(words[start : start + len(phrase)]) == phrase
    ]


def _find_word(word: str, free: list[tuple[int, str]]) -> int | None:
    """Where `word` stands in the sentence: exactly, as a plural, or with a typo."""
    for index, candidate in free:
        if candidate == word or _stem(candidate) == _stem(word):
            return index
    if len(word) < 6:
        return None
    for index, candidate in free:
        if len(candidate) >= 6 and candidate[0] == word[0] and fuzz.ratio(candidate, word) >= 90:
            return index
    return None


@functools.lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def _names(item: Entity | Area | Floor) -> tuple[str, ...]:
    return (item.name, *item.aliases)


def _kind(item: Entity | Area | Floor) -> str:
    if isinstance(item, Entity):
        return "entity"
    return "area" if isinstance(item, Area) else "floor"


def _unique(mentions: list[Mention]) -> list[Mention]:
    seen: set[str] = set()
    kept = []
    for mention in mentions:
        if mention.target.id not in seen:
            seen.add(mention.target.id)
            kept.append(mention)
    return kept
