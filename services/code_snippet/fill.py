"""What a request names, read into a snippet's parameters: the home's entities (found as the
intent service finds them: names, aliases, areas), durations, times, thresholds, pins,
topics, names and messages. Pure.

An entity parameter takes the entity of its domain (and device class) that the request
names, else the one in the area it names, else the only one the home has; when none fits,
the parameter stays empty and a problem says what the home lacks ("the home has no motion
sensor in Garage"), so an answer never names what the home does not have.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from slm_mesh.services.code_snippet.library import Param
from slm_mesh.services.home.model import Area, Entity, Floor, Home
from slm_mesh.services.language.mentions import GENERIC_WORDS, MentionFinder, Mentions, tokens
from slm_mesh.services.language.numbers import normalize
from slm_mesh.services.language.values import duration

Value = str | int | float

_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600}
_D_PINS = {0: 16, 1: 5, 2: 4, 3: 0, 4: 2, 5: 14, 6: 12, 7: 13, 8: 15}
"""NodeMCU / Wemos D1 labels -> ESP8266 GPIO numbers."""
_DURATION = re.compile(
    r"(?:(?P<lead>every|each|for|after|within|over|than|last|past)\s+)?(?:(?:more|less|at least)\s+"
    r"than\s+)?(?P<count>\d+(?:\.\d+)?|an?)\s*(?P<unit>hours?|hrs?|h|minutes?|mins?|m|seconds?|"
    r"secs?|s)\b"
)
_COMPARISON = re.compile(
    r"\b(?:above|over|exceeds?|exceeding|more than|greater than|higher than|hits|reaches|"
    r"below|under|less than|lower than|drops? (?:below|under|to)|falls? (?:below|under|to)|"
    r"rises? (?:above|over|to)|goes (?:above|over|below|under)|at least|at most|past|to)\s+"
    r"(-?\d+(?:\.\d+)?)"
)
_NUMBER = re.compile(r"(?<![\w:./-])(-?\d+(?:\.\d+)?)(?![\w:/])")
_TOPIC = re.compile(r"(?<![\w/])([a-z0-9_+#-]+(?:/[a-z0-9_+#-]+)+)/?(?![\w/])", re.IGNORECASE)
_QUOTED = re.compile(r"[\"“']([^\"”']{2,120})[\"”']")
_NAMED = re.compile(
    r"\b(?:named|called|id)\s+[\"“']?([a-z0-9][a-z0-9_-]{0,40}?)[\"”']?(?:\s|$|,|\.|\))"
)
#: An identifier written the way ids are (`gate_open_btn`), and not an entity id.
_SNAKE = re.compile(r"(?<![\w./])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?![\w./])")


@dataclass(frozen=True)
class Filled:
    values: dict[str, Value]
    """Parameter -> value read from the request; parameters not read keep their default."""
    problems: tuple[str, ...] = ()
    """What the request needs that the home lacks."""
    notes: tuple[str, ...] = ()
    """Guesses made where the request was not specific."""


class Filler:
    """Built once per home; `fill` is pure."""

    def __init__(self, *, home: Home) -> None:
        self.home = home
        self._mentions = MentionFinder(home=home)
        named: tuple[Floor | Area | Entity, ...] = (*home.floors, *home.areas, *home.entities)
        spelled = [
            s for item in named for s in (item.name, *item.aliases, item.id.replace("_", " "))
        ]
        self._vocabulary = {_stem(word) for text in spelled for word in tokens(text)}
        """Every word the home's names use: a place outside it is one the home lacks."""

    def mentions(self, prompt: str) -> Mentions:
        """What the request names: exactly, then (in what is left) loosely. The intent
        finder tries the loose pass only when nothing is named exactly, as a command names
        one device; a request for an automation names several."""
        first = self._mentions.find(prompt)
        words = tokens(prompt)
        for mention in first.entities:
            words[mention.start : mention.end] = ["_"] * (mention.end - mention.start)
        second = self._mentions.find(" ".join(words))
        found = {m.target.id: m for m in (*first.entities, *second.entities)}
        return Mentions(entities=tuple(found.values()), areas=first.areas, floors=first.floors)

    def fill(
        self, prompt: str, params: Sequence[Param], *, mentions: Mentions | None = None
    ) -> Filled:
        """`params` read from `prompt`; `mentions`, when the caller has found them already
        (`mentions`), are not looked for again."""
        # Times of day are read from the prompt as written (`clock_times`); the rest, with
        # them taken out, from its normalised words, so "6:45" is no count of anything.
        said = normalize(_spelled_out(_CLOCK.sub(" ", prompt.casefold())))
        if mentions is None:
            mentions = self.mentions(prompt)
        said_words = [_stem(word) for word in tokens(prompt)]
        values: dict[str, Value] = {}
        problems: list[str] = []
        notes: list[str] = []
        taken: set[str] = set()
        for param in params:
            if param.kind != "entity":
                continue
            entities, why = self._entities(param, mentions, taken, said_words)
            if not entities:
                problems.append(why)
                continue
            ids = [entity.id for entity in entities]
            values[param.name] = ids[0] if len(ids) == 1 else f"[{', '.join(ids)}]"
            taken.update(ids)
            if why:
                notes.append(why)
        spans = _Spans(said)
        seen: Counter[str] = Counter()
        for param in params:
            kind = f"{param.kind}:{_role(param)}" if param.kind == "number" else param.kind
            value = _read(param, said, prompt, mentions, spans, seen[kind])
            seen[kind] += 1
            if value is not None:
                values[param.name] = value
        return Filled(
            values=values,
            problems=tuple(problems),
            notes=tuple(notes),
        )

    def _entities(
        self, param: Param, mentions: Mentions, taken: set[str], words: list[str]
    ) -> tuple[list[Entity], str]:
        """The entities for `param` (several when the request names several: "lock the
        front and back doors"), and a note (a guess) or a problem (none fits)."""
        domains = set(param.domains)
        classes = set(param.device_classes)
        of_domain = [e for e in self.home.entities if e.domain in domains and e.id not in taken]
        fitting = [e for e in of_domain if not classes or e.device_class in classes]
        named = sorted(
            (m for m in mentions.entities if isinstance(m.target, Entity)), key=lambda m: m.start
        )
        for pool in (fitting, of_domain if classes else []):
            ids = {e.id for e in pool}
            here = [m.target for m in named if m.target.id in ids and isinstance(m.target, Entity)]
            if here:
                return here, ""
        what = _what(param)
        by_words, distinct = _by_words(fitting, set(words))
        if by_words and (distinct or len(by_words) == 1):
            return by_words, ""
        if by_words:
            picked, count = by_words[0], len(by_words)
            return [picked], f"{param.name}: picked {picked.id} of {count} {what} it may mean"
        areas = [m.target for m in mentions.areas if isinstance(m.target, Area)]
        for area in areas:
            in_area = [e for e in fitting if e.area_id == area.id]
            if in_area:
                note = (
                    ""
                    if len(in_area) == 1
                    else f"{param.name}: picked {in_area[0].id} of {len(in_area)} {what} in "
                    f"{area.name}"
                )
                return in_area[:1], note
        if areas and not fitting:
            return [], f"the home has no {what}"
        if areas:
            names = ", ".join(area.name for area in areas)
            return [], f"the home has no {what} in {names}"
        place = next((w for w in _places(words) if w not in self._vocabulary), None)
        if place is not None:
            return [], f"the home has no {what} in the {place} (no area or device called that)"
        if len(fitting) == 1:
            only = fitting[0].id
            return fitting, f"{param.name}: the request names no {what}; took the only one, {only}"
        if fitting:
            return fitting[:1], f"{param.name}: the request names no {what}; picked {fitting[0].id}"
        return [], f"the home has no {what}"


def _by_words(pool: Sequence[Entity], said: set[str]) -> tuple[list[Entity], bool]:
    """The entities of `pool` that the request names best by a word that tells them apart
    from the rest of the pool ("front" of Front Door Lock among the locks), and whether each
    is matched by a word of its own ("the front and back doors": both are meant) rather
    than all by the same ("kitchen" of two kitchen lights: one is)."""
    if not pool:
        return [], False
    own = {e.id: {_stem(w) for n in e.names for w in tokens(n)} - GENERIC_WORDS for e in pool}
    shared = set.intersection(*own.values()) if len(own) > 1 else set()
    hits = {e.id: {w for w in own[e.id] - shared if _said(w, said)} for e in pool}
    best = max(len(found) for found in hits.values())
    if best == 0:
        return [], False
    top = [e for e in pool if len(hits[e.id]) == best]
    others = {e.id: set().union(*(hits[o.id] for o in top if o is not e)) for e in top}
    return top, all(hits[e.id] - others[e.id] for e in top)


def _said(word: str, said: set[str]) -> bool:
    """Whether the request says a name's word, whole or as its start ("drive" of
    Driveway, "garage" of Garages)."""
    return word in said or any(
        len(w) >= 4 and (word.startswith(w) or w.startswith(word)) for w in said if len(word) >= 4
    )


_PLACE = re.compile(r"\b(?:in|on|at|from|into|outside) (?:the|my|our) ([a-z]+)\b")
_NOT_PLACES = frozenset({
    "house", "home", "room", "morning", "evening", "night", "day", "afternoon", "weekend",
    "moment", "dark", "end", "way", "background", "same", "list", "app", "phone", "ha", "hub",
    "yaml", "config", "ui", "dashboard", "mqtt", "broker", "topic", "network", "wifi", "api",
})  # fmt: skip


def _places(words: Sequence[str]) -> list[str]:
    """Words a request uses for a place ("in the attic"), to tell a place the home lacks
    from a request that names none."""
    return [w for w in _PLACE.findall(" ".join(words)) if w not in _NOT_PLACES]


def _stem(word: str) -> str:
    """Plurals as their singular, for matching names: "doors" names a Door."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _what(param: Param) -> str:
    """How a problem names what the parameter needs: "motion sensor", "light"."""
    domains = " or ".join(d.replace("_", " ") for d in param.domains)
    if not param.device_classes:
        return domains
    kind = " or ".join(c.replace("_", " ") for c in param.device_classes)
    sensor = all(d in ("binary_sensor", "sensor") for d in param.domains)
    return f"{kind} {'sensor' if sensor else domains}"


class _Spans:
    """The request's durations, each with the word before it ("every 30 s", "for 5 min"),
    so an interval and a time limit in one request are told apart."""

    def __init__(self, said: str) -> None:
        self.durations: list[tuple[str, float]] = []
        for match in _DURATION.finditer(said):
            unit = match.group("unit")
            if unit in ("m", "s", "h") and not re.match(r"\d", match.group("count")):
                continue
            count = 1.0 if match.group("count") in ("a", "an") else float(match.group("count"))
            seconds = count * _SECONDS[_unit(unit)]
            self.durations.append((match.group("lead") or "", seconds))
        self.masked = _DURATION.sub(" ", said)

    def duration(self, *, interval: bool) -> float | None:
        for lead, seconds in self.durations:
            if (lead in ("every", "each")) == interval:
                return seconds
        return None


def _unit(word: str) -> str:
    if word.startswith("h"):
        return "hours"
    if word.startswith("m"):
        return "minutes"
    return "seconds"


def _read(
    param: Param, said: str, prompt: str, mentions: Mentions, spans: _Spans, order: int
) -> Value | None:
    """The value of a non-entity parameter (the `order`-th of its kind in the snippet), or
    None to keep its default."""
    kind = param.kind
    if kind == "duration":
        words = f"{param.name} {param.description}"
        interval = any(w in words for w in ("interval", "every", "report", "update"))
        seconds = spans.duration(interval=interval)
        if seconds is None:
            found = duration(said)
            seconds = sum(found.get(unit, 0) * factor for unit, factor in _SECONDS.items()) or None
        return None if seconds is None else _in_unit(seconds, param.unit or "seconds")
    if kind == "time":
        times = clock_times(prompt.casefold())
        return times[order] if order < len(times) else None
    if kind == "number":
        return _number(spans.masked, _role(param), order)
    if kind == "pin":
        named = _pin_named(param, said)
        if named is not None:
            return named
        pins = _pins(said)
        return pins[order] if order < len(pins) else None
    if kind == "topic":
        match = _TOPIC.search(prompt)
        if match is not None:
            return match.group(1)
        under = re.search(r"\b(?:under|below|beneath)\s+([a-z0-9_-]+(?:/[a-z0-9_-]+)*)\b", said)
        return f"{under.group(1)}/#" if under is not None else None
    if kind == "text":
        match = _QUOTED.search(prompt) or re.search(
            rf"\b{re.escape(param.name)}\s+(?:is|of|=|:)?\s*([a-z0-9_]+)\b", prompt.casefold()
        )
        return match.group(1).strip() if match else None
    if kind == "name":
        match = _NAMED.search(prompt.casefold()) or _SNAKE.search(prompt.casefold())
        return _slug(match.group(1)) if match else None
    if kind == "area":
        area = next((m.target for m in mentions.areas if isinstance(m.target, Area)), None)
        return area.name if area is not None else None
    return None


def _spelled_out(text: str) -> str:
    """Numbers and comparisons as the readers read them: "20,000" -> 20000, "3 kW" -> 3000 w
    (Home Assistant's power sensors count watts), "> 75%" -> above 75%."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(
        r"(\d+(?:\.\d+)?)\s*kw\b", lambda m: f"{_plain(float(m.group(1)) * 1000)} w", text
    )
    text = re.sub(r"(?:>=|≥|=>|>)", " above ", text)
    return re.sub(r"(?:<=|≤|=<|<)", " below ", text)


def _in_unit(seconds: float, unit: str) -> int | float:
    return _plain(seconds / _SECONDS.get(unit, 1))


def _plain(value: float) -> int | float:
    return int(value) if value == int(value) else round(value, 2)


_CLOCK = re.compile(
    r"\b(?:(?P<h24>\d{1,2}):(?P<m24>\d{2})(?:\s*(?P<half24>am|pm))?|"
    r"(?P<h12>\d{1,2})\s*(?P<half12>am|pm|a\.m|p\.m))\b|\b(?P<word>midnight|noon|midday)\b"
)


def clock_times(said: str) -> list[str]:
    """The times of day a request names, in order: `7am`, `7:30 pm`, `22:30`,
    `midnight` -> HH:MM:SS."""
    found = []
    for match in _CLOCK.finditer(said):
        if match.group("word"):
            found.append("00:00:00" if match.group("word") == "midnight" else "12:00:00")
            continue
        hour = int(match.group("h24") or match.group("h12"))
        minute = int(match.group("m24") or 0)
        half = match.group("half24") or match.group("half12")
        if half and half.startswith("p") and hour < 12:
            hour += 12
        if half and half.startswith("a") and hour == 12:
            hour = 0
        if hour < 24 and minute < 60:
            found.append(f"{hour:02d}:{minute:02d}:00")
    return found


_LEVELS = frozenset({"brightness", "level", "speed", "position", "volume"})


def _role(param: Param) -> str:
    """What a number parameter is: a `target` to set, a `level` (a percentage), or a
    `threshold` (what a reading is compared with)."""
    words = f"{param.name} {param.description}".casefold()
    if param.name == "target" or "set to" in words or "target" in words:
        return "target"
    if param.name in _LEVELS or "brightness" in words:
        return "level"
    return "threshold"


def _number(text: str, role: str, order: int) -> int | float | None:
    """The number a request gives for a role: "set it to 21" (target), "at 10%" (level),
    "above 25", "drops below 18" (the `order`-th threshold: "on above 70, off under 60";
    else the only number)."""
    if role == "target":
        found = re.findall(
            r"\b(?:set|put|drop|bump|raise|lower|change|turn|heat|cool)\b[^.;,]*?\b(?:to|at)\s+"
            r"(-?\d+(?:\.\d+)?)",
            text,
        )
        return _plain(float(found[-1])) if found else None
    if role == "level":
        found = re.findall(r"(-?\d+(?:\.\d+)?)\s*(?:%|percent)", text)
        return _plain(float(found[0])) if found else None
    compared = [float(m.group(1)) for m in _COMPARISON.finditer(text)]
    if compared:
        return _plain(compared[min(order, len(compared) - 1)])
    numbers = [m.group(1) for m in _NUMBER.finditer(_PIN.sub(" ", text))]
    return _plain(float(numbers[0])) if len(numbers) == 1 else None


_PIN = re.compile(r"\b(?:gpio|gp|pin)\s*(\d{1,2})\b|\bd(\d)\b(?!\s*mini)")


def _pin_named(param: Param, said: str) -> int | None:
    """The pin the request gives next to the parameter's own name ("relay on GPIO26,
    button on GPIO25"), in the same clause."""
    words = [w for w in param.name.split("_") if w not in ("pin", "gpio")]
    if not words:
        return None
    name = r"\s*".join(re.escape(w) for w in words)
    match = re.search(rf"\b{name}s?\b[^,;.]*?({_PIN.pattern})", said)
    if match is None:
        return None
    pins = _pins(match.group(1))
    return pins[0] if pins else None


def _pins(said: str) -> list[int]:
    """The pins a request names, in order: `GPIO4`, `GP22`, `pin 4`, `D2` (a D1 mini's
    label, as its GPIO number)."""
    found = []
    for match in _PIN.finditer(said):
        if match.group(1) is not None:
            found.append(int(match.group(1)))
        elif (gpio := _D_PINS.get(int(match.group(2)))) is not None:
            found.append(gpio)
    return found


def _slug(text: str) -> str:
    """A name as ids are written: words joined by `_` or `-` as given, else by `-`."""
    return re.sub(r"[^a-z0-9_]+", "-", text.casefold()).strip("-")
