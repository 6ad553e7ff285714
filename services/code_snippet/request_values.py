"""What a request spells out besides the home's entities, read for a snippet's parameters:
durations, times of day (`request_clock`), thresholds and levels, pins (`request_pins`),
MQTT topics, URLs, folders, names and messages. Pure.
"""

from __future__ import annotations

import re
from collections import Counter

from slm_mesh.services.code_snippet.library import Param
from slm_mesh.services.code_snippet.request_clock import CLOCK_TIME, as_clock, clock_times
from slm_mesh.services.code_snippet.request_pins import PIN, pins, read_pin
from slm_mesh.services.home.model import Area
from slm_mesh.services.language.mentions import Mentions
from slm_mesh.services.language.numbers import normalize
from slm_mesh.services.language.values import duration

Value = str | int | float

_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600}
_DURATION = re.compile(
    r"(?:(?P<lead>every|each|for|after|within|over|than|last|past)\s+)?(?:(?:more|less|at least)\s+"
    r"than\s+)?(?P<count>\d+(?:\.\d+)?|an?)\s*(?P<unit>hours?|hrs?|h|minutes?|mins?|m|seconds?|"
    r"secs?|s)\b"
)
_EVERY_ONE = re.compile(
    r"\b(?:every|each)\s+(hour|minute|second)\b|\bhourly\b|\bonce an? (hour|minute)\b"
)
_COMPARISON = re.compile(
    r"\b(?:above|over|exceeds?|exceeding|more than|greater than|higher than|hits|reaches|passes|"
    r"(?:hotter|warmer|colder|cooler|brighter|darker|wetter|drier) than|"
    r"below|under|less than|lower than|drops? (?:below|under|to)|falls? (?:below|under|to)|"
    r"rises? (?:above|over|to)|goes (?:above|over|below|under)|(?:gets?|climbs?|is) (?:back )?"
    r"(?:up |down )?to|at least|at most|past|to)\s+"
    r"(-?\d+(?:\.\d+)?)"
)
_NUMBER = re.compile(r"(?<![\w:./-])(-?\d+(?:\.\d+)?)(?![\w:/])")
_TOPIC = re.compile(r"(?<![\w/])([a-z0-9_+#-]+(?:/[a-z0-9_+#-]+)+)/?(?![\w/])", re.IGNORECASE)
_URL = re.compile(r"\bhttps?://[^\s\"'<>`]+", re.IGNORECASE)
_QUOTED = re.compile(r"[\"“']([^\"”']{2,120})[\"”']")
_NAMED = re.compile(
    r"\b(?:named|called|id:?)\s+[\"“']?([a-z0-9][a-z0-9_-]{0,40}?)[\"”']?(?:\s|$|,|\.|\))"
)
#: A message written as a command sends it: in capitals or digits ("mosquitto_pub OFF to
#: ...", "publish 1 on ..."), or as one lower-case word right before the topic it goes to
#: ("publish toggle to barn/pump/set", in backticks or not); what `_NOT_SENT` names is the
#: thing sent, not its text.
_SENT = re.compile(
    r"\b(?:publish(?:es)?|pub|mosquitto_pub|sends?|posts?)\s+`?(?:([A-Z0-9_]+)`?\s+(?:to|on)\b"
    r"|([a-z][a-z0-9_]*)`?\s+(?:to|on)\s+(?:the\s+)?(?:topic\s+)?`?[a-z0-9_+#-]+/)"
)
_NOT_SENT = frozenset({
    "a", "an", "the", "it", "them", "this", "that", "something", "anything", "everything",
    "message", "messages", "reading", "readings", "value", "values", "data", "state",
    "status", "events", "updates", "presses", "one", "mqtt",
})  # fmt: skip
#: An id written beside the word for what it names: "tag nursery-bedtime", "the film-night
#: webhook" (joined by `-` or `_`, or with a digit, so no plain word).
_ID_BESIDE = re.compile(
    r"\b(?:tag|webhook)\s+[\"“']?([a-z0-9]+(?:[-_][a-z0-9]+)+)\b"
    r"|\b([a-z0-9]+(?:[-_][a-z0-9]+)+)[\"”']?\s+(?:tag|webhook)\b"
)
#: An identifier written the way ids are (`gate_open_btn`), and not an entity id.
_SNAKE = re.compile(r"(?<![\w./])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?![\w./])")


def said_text(prompt: str) -> str:
    """The request as the readers read it: times of day taken out (`clock_times` reads them
    from the prompt as written, so "6:45" is no count of anything), numbers normalised."""
    # Once more after the words are numbers: "three kilowatts".
    return _in_watts(normalize(_spelled_out(CLOCK_TIME.sub(" ", as_clock(prompt.casefold())))))


class Spans:
    """The request's durations, each with the word before it ("every 30 s", "for 5 min"),
    so an interval and a time limit in one request are told apart."""

    def __init__(self, said: str) -> None:
        found: list[tuple[int, str, float]] = []
        for match in _DURATION.finditer(said):
            unit = match.group("unit")
            if unit in ("m", "s", "h") and not re.match(r"\d", match.group("count")):
                continue
            count = 1.0 if match.group("count") in ("a", "an") else float(match.group("count"))
            seconds = count * _SECONDS[_unit(unit)]
            found.append((match.start(), match.group("lead") or "", seconds))
        # "every hour", "hourly": an interval of one.
        for match in _EVERY_ONE.finditer(said):
            unit = match.group(1) or match.group(2) or "h"
            found.append((match.start(), "every", _SECONDS[_unit(unit)]))
        self.durations = [(lead, seconds) for _, lead, seconds in sorted(found)]
        self.masked = _DURATION.sub(" ", said)

    def duration(self, *, interval: bool) -> float | None:
        for lead, seconds in self.durations:
            if (lead in ("every", "each")) == interval:
                return seconds
        return None


def id_spans(prompt: str) -> list[tuple[int, int]]:
    """Where the request writes a webhook's or a tag's id ("the film-night webhook"), as
    character spans: words that name the id, not a device."""
    return [
        match.span(1) if match.group(1) else match.span(2)
        for match in _ID_BESIDE.finditer(prompt.casefold())
    ]


def _unit(word: str) -> str:
    if word.startswith("h"):
        return "hours"
    if word.startswith("m"):
        return "minutes"
    return "seconds"


def read_value(
    param: Param, said: str, prompt: str, mentions: Mentions, spans: Spans, order: int
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
        return _number(spans.masked, role(param), order)
    if kind == "pin":
        return read_pin(param, said, prompt, order)
    if kind == "topic":
        # The `order`-th topic: a snippet's second topic is the second the request writes.
        topics = [m.group(1) for m in _TOPIC.finditer(prompt) if not _alternatives(m.group(1))]
        if topics:
            return topics[min(order, len(topics) - 1)]
        under = re.search(r"\b(?:under|below|beneath)\s+([a-z0-9_-]+(?:/[a-z0-9_-]+)*)\b", said)
        return f"{under.group(1)}/#" if under is not None else None
    if kind == "url":
        address = _URL.search(prompt)
        if address is not None:
            return address.group(0).rstrip(".,;:)")
        return _webhook_url(param, prompt)
    if kind == "path":
        return _path(param, prompt)
    if kind == "text":
        quoted = _QUOTED.search(prompt)
        if quoted is not None:
            return quoted.group(1).strip()
        sent = _sent(prompt)
        if sent is not None:
            return sent
        match = re.search(
            rf"\b{re.escape(param.name)}\s+(?:is|of|=|:)?\s*([a-z0-9_]+)\b", prompt.casefold()
        )
        return match.group(1).strip() if match else None
    if kind == "name":
        said_name = prompt.casefold()
        beside = _ID_BESIDE.search(said_name)
        if beside is not None:
            return _slug(beside.group(1) or beside.group(2))
        match = _NAMED.search(said_name) or _SNAKE.search(said_name)
        return _slug(match.group(1)) if match else None
    if kind == "area":
        area = next((m.target for m in mentions.areas if isinstance(m.target, Area)), None)
        return area.name if area is not None else None
    return None


def _sent(prompt: str) -> str | None:
    """The message a command in the request sends ("publish toggle to ..."), if it writes one."""
    for match in _SENT.finditer(prompt):
        word = match.group(1) or match.group(2)
        if word not in _NOT_SENT:
            return word
    return None


#: Words a slash offers a choice between ("ON/OFF", "temp/humidity"), not a topic's levels.
_CHOICES = frozenset({
    "on", "off", "open", "closed", "close", "true", "false", "yes", "no", "and", "or", "up",
    "down", "temp", "temperature", "humidity", "pressure", "min", "max", "start", "stop",
})  # fmt: skip


def _alternatives(text: str) -> bool:
    """Whether `text` is a choice written with a slash ("ON/OFF"), not a topic."""
    return set(text.casefold().split("/")) <= _CHOICES


def _webhook_url(param: Param, prompt: str) -> str | None:
    """A webhook's URL the request does not write but whose id it names ("POST to the
    webhook coffee-now"): the parameter's default with that id; None otherwise."""
    default = str(param.default or "")
    spans = id_spans(prompt)
    if "/api/webhook/" not in default or not spans:
        return None
    start, end = spans[0]
    return f"{default.rpartition('/')[0]}/{_slug(prompt.casefold()[start:end])}"


_PATH = re.compile(
    r"(?:\b(into|to|onto|in|under|from|of)\s+)?(?<![\w.~/])(~?/[\w.@-]+(?:/[\w.@-]+)*)/?"
)


def _path(param: Param, prompt: str) -> str | None:
    """The folder the request names for `param`: for one written to (its description says
    "to"), the path after "into", "to" or "onto"; for the other, the first path that is not
    one of those ("tar up /config into /mnt/backup")."""
    found = [(m.group(1) or "", m.group(2)) for m in _PATH.finditer(_URL.sub(" ", prompt))]
    written = re.search(r"\bto\b", param.description) is not None
    for lead, path in found:
        if (lead in ("into", "to", "onto")) == written:
            return path
    return None


def stated(prompt: str) -> Counter[str]:
    """How many values of each kind the request spells out that only a parameter of that
    kind can honour: pins ("relay on D1, button on D3": 2), an MQTT topic
    (`home/patio/weather`, `zigbee2mqtt/#`), a URL, a folder, an interval ("every 5
    minutes")."""
    kinds: Counter[str] = Counter()
    if _URL.search(prompt):
        kinds["url"] = 1
    if _PATH.search(_URL.sub(" ", prompt)):
        kinds["path"] = 1
    said = said_text(prompt)
    if any(lead in ("every", "each") for lead, _ in Spans(said).durations):
        kinds["duration"] = 1
    for match in _TOPIC.finditer(_URL.sub(" ", prompt)):
        topic = match.group(1)
        if topic.count("/") >= 2 or "#" in topic or "+" in topic or len(topic) >= 8:
            kinds["topic"] = 1
    given = len(set(pins(said)))
    if given:
        kinds["pin"] = given
    return kinds


#: "every half hour", "a quarter of an hour": a part of an hour, read as minutes.
_FRACTION_OF_HOUR = re.compile(r"\b(?:a\s+)?(half|quarter)(?:\s+of)?(?:\s+an|-)?\s*hour\b")
_HOUR_PARTS = {"half": 30, "quarter": 15}


def _spelled_out(text: str) -> str:
    """Numbers and comparisons as the readers read them: "20,000" -> 20000, "3 kW" -> 3000 w
    (Home Assistant's power sensors count watts), "every half hour" -> every 30 minutes,
    "> 75%" -> above 75%."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = _FRACTION_OF_HOUR.sub(lambda m: f"{_HOUR_PARTS[m.group(1)]} minutes", text)
    text = _in_watts(text)
    text = re.sub(r"(?:>=|≥|=>|>)", " above ", text)
    return re.sub(r"(?:<=|≤|=<|<)", " below ", text)


def _in_watts(text: str) -> str:
    """Kilowatts as watts, as Home Assistant's power sensors count: "3 kW" -> "3000 w"."""
    return re.sub(
        r"(\d+(?:\.\d+)?)\s*(?:kw|kilowatts?)\b",
        lambda m: f"{_plain(float(m.group(1)) * 1000)} w",
        text,
    )


def _in_unit(seconds: float, unit: str) -> int | float:
    return _plain(seconds / _SECONDS.get(unit, 1))


def _plain(value: float) -> int | float:
    return int(value) if value == int(value) else round(value, 2)


_LEVELS = frozenset({"brightness", "level", "speed", "position", "volume"})


def role(param: Param) -> str:
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
        if order == 0 and found:
            return _plain(float(found[-1]))
        # A second target, or one said with no verb: the `order`-th "to N" ("to 17 at
        # 10:30pm, to 20 at 6:30am").
        tos = re.findall(r"\bto\s+(-?\d+(?:\.\d+)?)(?!\s*%)", text)
        return _plain(float(tos[order])) if order < len(tos) else None
    if role == "level":
        found = re.findall(r"(-?\d+(?:\.\d+)?)\s*(?:%|percent)", text)
        return _plain(float(found[0])) if found else None
    # A plain "to 25" is a threshold only when no other word compares ("fan to 25% when
    # it is warmer than 23": 23).
    matches = list(_COMPARISON.finditer(text))
    strong = [m for m in matches if not m.group(0).startswith("to")]
    compared = [float(m.group(1)) for m in strong or matches]
    if compared:
        return _plain(compared[min(order, len(compared) - 1)])
    numbers = [m.group(1) for m in _NUMBER.finditer(PIN.sub(" ", text))]
    return _plain(float(numbers[0])) if len(numbers) == 1 else None


def _slug(text: str) -> str:
    """A name as ids are written: words joined by `_` or `-` as given, else by `-`."""
    return re.sub(r"[^a-z0-9_]+", "-", text.casefold()).strip("-")
