"""What a request spells out besides the home's entities, read for a snippet's parameters:
durations, times of day, thresholds and levels, pins, MQTT topics, URLs, folders, names and
messages. Pure.
"""

from __future__ import annotations

import re
from collections import Counter

from slm_mesh.services.code_snippet.library import Param
from slm_mesh.services.home.model import Area
from slm_mesh.services.language.mentions import Mentions
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
    r"(?:hotter|warmer|colder|cooler|brighter|darker|wetter|drier) than|"
    r"below|under|less than|lower than|drops? (?:below|under|to)|falls? (?:below|under|to)|"
    r"rises? (?:above|over|to)|goes (?:above|over|below|under)|at least|at most|past|to)\s+"
    r"(-?\d+(?:\.\d+)?)"
)
_NUMBER = re.compile(r"(?<![\w:./-])(-?\d+(?:\.\d+)?)(?![\w:/])")
_TOPIC = re.compile(r"(?<![\w/])([a-z0-9_+#-]+(?:/[a-z0-9_+#-]+)+)/?(?![\w/])", re.IGNORECASE)
_URL = re.compile(r"\bhttps?://[^\s\"'<>`]+", re.IGNORECASE)
_QUOTED = re.compile(r"[\"“']([^\"”']{2,120})[\"”']")
_NAMED = re.compile(
    r"\b(?:named|called|id)\s+[\"“']?([a-z0-9][a-z0-9_-]{0,40}?)[\"”']?(?:\s|$|,|\.|\))"
)
#: An identifier written the way ids are (`gate_open_btn`), and not an entity id.
_SNAKE = re.compile(r"(?<![\w./])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?![\w./])")


def said_text(prompt: str) -> str:
    """The request as the readers read it: times of day taken out (`clock_times` reads them
    from the prompt as written, so "6:45" is no count of anything), numbers normalised."""
    return normalize(_spelled_out(_CLOCK.sub(" ", _as_clock(prompt.casefold()))))


class Spans:
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
    if kind == "url":
        address = _URL.search(prompt)
        return address.group(0).rstrip(".,;:)") if address is not None else None
    if kind == "path":
        return _path(param, prompt)
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
    pins = len(set(_pins(said)))
    if pins:
        kinds["pin"] = pins
    return kinds


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


_DAY_PART = r"morning|evening|night|afternoon|tonight"
_CLOCK = re.compile(
    rf"\b(?P<part1>{_DAY_PART})s?\s+at\s+(?P<hp1>\d{{1,2}})(?::(?P<mp1>\d{{2}}))?(?![\d:])"
    r"(?!\s*(?:am|pm|a\.m|p\.m))|"
    rf"\bat\s+(?P<hp2>\d{{1,2}})(?::(?P<mp2>\d{{2}}))?\s+(?:o'?clock\s+)?(?:in the\s+|at\s+)?"
    rf"(?P<part2>{_DAY_PART})\b|"
    r"\b(?:(?P<h24>\d{1,2}):(?P<m24>\d{2})(?:\s*(?P<half24>am|pm))?|"
    r"(?P<h12>\d{1,2})\s*(?P<half12>am|pm|a\.m|p\.m))\b|\b(?P<word>midnight|noon|midday)\b"
)


_HOUR_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_HOUR = rf"(\d{{1,2}}|{'|'.join(_HOUR_WORDS)})"
_PAST = re.compile(rf"\b(half|quarter)\s+past\s+{_HOUR}\b")
_TO = re.compile(rf"\bquarter\s+to\s+{_HOUR}\b")
_DOTTED = re.compile(r"\b(\d{1,2})\.(\d{2})\s*(am|pm|a\.m|p\.m)")
_OCLOCK = re.compile(rf"\b{_HOUR}\s+o'?clock\b")
#: "at 9" as a time: followed by nothing that makes it a count ("at 9 on weekends").
_BARE_AT = re.compile(
    r"\bat\s+(\d{1,2})(?=\s*(?:$|[,;!?]|\.(?!\d)|->|→|\b(?:on|every|each|daily|and|but|if|"
    r"when|then|sharp|unless|except|only|weekdays?|weekends?)\b))"
)


def _hour(word: str) -> int:
    return _HOUR_WORDS[word] if word in _HOUR_WORDS else int(word)


def _as_clock(said: str) -> str:
    """Times said another way, as digits the clock reads: "half past eleven" (11:30),
    "quarter to 7" (6:45), "7.30am", "9 o'clock", "at 9 on Saturdays"."""
    said = _DOTTED.sub(r"\1:\2\3", said)
    said = _PAST.sub(lambda m: f"{_hour(m.group(2))}:{30 if m.group(1) == 'half' else 15}", said)
    said = _TO.sub(lambda m: f"{(_hour(m.group(1)) - 1) % 12 or 12}:45", said)
    said = _OCLOCK.sub(lambda m: f"{_hour(m.group(1))}:00", said)
    return _BARE_AT.sub(lambda m: f"at {m.group(1)}:00", said)


def clock_times(said: str) -> list[str]:
    """The times of day a request names, in order: `7am`, `7:30 pm`, `22:30`,
    `midnight`, "every evening at 9", "half past six" -> HH:MM:SS."""
    found = []
    for match in _CLOCK.finditer(_as_clock(said)):
        if match.group("word"):
            found.append("00:00:00" if match.group("word") == "midnight" else "12:00:00")
            continue
        part = match.group("part1") or match.group("part2")
        hour = int(
            match.group("h24") or match.group("h12") or match.group("hp1") or match.group("hp2")
        )
        minute = int(match.group("m24") or match.group("mp1") or match.group("mp2") or 0)
        half = match.group("half24") or match.group("half12")
        if part is not None:
            half = "am" if part == "morning" or (part == "night" and hour < 6) else "pm"
        if half and half.startswith("p") and hour < 12:
            hour += 12
        if half and half.startswith("a") and hour == 12:
            hour = 0
        if hour < 24 and minute < 60:
            found.append(f"{hour:02d}:{minute:02d}:00")
    return found


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
    # A bare number just after the name: "sda 21, scl 22".
    bare = re.search(rf"\b{name}s?\s*(?:=|:|on|at|to)?\s*(\d{{1,2}})\b", said)
    if bare is not None:
        return int(bare.group(1))
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
            # "GPIO16, 17, 18 and 19": the numbers that run on from a GPIO are GPIOs too.
            more = _PIN_RUN.match(said, match.end())
            run = [int(n) for n in re.findall(r"\d+", more.group(0))] if more else []
            # One number and a plural ("GPIO4 and 2 relays") is a count, not a pin.
            if more is not None and len(run) == 1 and _COUNTED.match(said, more.end()):
                run = []
            found += run
        elif (gpio := _D_PINS.get(int(match.group(2)))) is not None:
            found.append(gpio)
    return found


_PIN_RUN = re.compile(
    r"(?:\s*(?:,|/|&|\band\b)?\s*(?:[1-3]?\d)\b(?!\s*(?:%|°|s\b|secs?\b|seconds?\b|ms\b|"
    r"min|v\b|volts?\b|degrees?\b|leds?\b|pixels?\b|[.:]\d)))+"
)
_COUNTED = re.compile(r"\s+[a-z]+s\b")


def pin_mentions(prompt: str) -> list[tuple[int, str]]:
    """Each pin the request gives, with the words just before it and after it in its clause,
    `@` where the pin is ("a relay on GPIO23 for the pump": 23, "a relay on @ for the
    pump")."""
    said = prompt.casefold()
    found = []
    for match in _PIN.finditer(said):
        pins = _pins(match.group(0))
        if not pins:
            continue
        start = max(said.rfind(sep, 0, match.start()) for sep in (",", ";", " and ", "+", "."))
        before = said[max(start + 1, match.start() - 40) : match.start()]
        after = re.split(r"[,;+.]| and ", said[match.end() : match.end() + 30])[0]
        found.append((pins[0], f"{before} @ {after}"))
    return found


def _slug(text: str) -> str:
    """A name as ids are written: words joined by `_` or `-` as given, else by `-`."""
    return re.sub(r"[^a-z0-9_]+", "-", text.casefold()).strip("-")
