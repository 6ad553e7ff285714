"""Slot values read from the words themselves: percentages, temperatures, positions,
volumes, durations, colours, shopping items and broadcast messages.

Each reader takes the normalised sentence (lower case, number words as digits) and
returns a value or None; which readers run is the intent's business (`slots.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from slm_mesh.services.language.numbers import as_number

#: Colours Home Assistant's `color` list knows in English, and a few more.
COLORS = (
    "white", "black", "red", "orange", "yellow", "green", "blue", "purple", "brown", "pink",
    "turquoise", "violet", "indigo", "magenta", "cyan", "lime", "gold", "silver", "teal",
    "lavender",
)  # fmt: skip
#: Home Assistant's `color_temperature_names`: whites are colour temperatures, in kelvin.
COLOR_TEMPERATURES = (
    (re.compile(r"\bcandle ?light\b"), 1900),
    (re.compile(r"\bwarm white\b"), 2700),
    (re.compile(r"\b(?:cool|cold) white\b"), 4000),
    (re.compile(r"\bday ?light\b"), 6500),
)
_KELVIN = re.compile(r"\b(\d{4,5})\s*(?:k|kelvin)\b")
_NUMBER = r"(\d+(?:\.\d+)?)"
_HALF = re.compile(r"\b(half ?way|half)\b")
_FRACTIONS = (("3 quarters", 75), ("a quarter", 25), ("1 quarter", 25), ("a third", 33),
              ("2 thirds", 67))  # fmt: skip


def _number(pattern: str, text: str) -> int | float | None:
    match = re.search(pattern, text)
    return as_number(float(match.group(1))) if match else None


def percentage(text: str) -> int | float | None:
    """`40 percent`, `40%`, `to 40`, `half` -> 50, `full`/`max` -> 100, `off` stays out."""
    value = _number(_NUMBER + r"\s*(?:%|percent|per cent)", text)
    if value is None:
        value = _number(
            r"\b(?:to|at)\s+" + _NUMBER + r"\b(?!\s*(?:degrees?|minutes?|seconds?))", text
        )
    if value is None and _HALF.search(text):
        value = 50
    if value is None:
        value = next((v for phrase, v in _FRACTIONS if re.search(rf"\b{phrase}\b", text)), None)
    if value is None and re.search(r"\b(full|max(imum)?|highest|all the way)\b", text):
        value = 100
    if value is None and re.search(r"\b(min(imum)?|lowest)\b", text):
        value = 1  # Home Assistant's `brightness_level`: the lowest that is still on
    if value is None:
        value = _number(r"^\D*?\b" + _NUMBER + r"\b\D*$", text)
    return value if value is not None and 0 <= value <= 100 else None


def temperature(text: str) -> int | float | None:
    value = _number(_NUMBER + r"\s*(?:°|degrees?|deg\b)", text)
    if value is None:
        value = _number(r"\b(?:to|at)\s+" + _NUMBER + r"\b", text)
    if value is None:
        value = _number(r"^\D*?\b" + _NUMBER + r"\b\D*$", text)
    return value


def temperature_unit(text: str) -> str | None:
    """`celsius` or `fahrenheit` when the words say which, as Home Assistant names them."""
    if re.search(r"\b(celsius|centigrade)\b|°\s*c\b|\d\s*c\b", text):
        return "celsius"
    if re.search(r"\bfahrenheit\b|°\s*f\b|\d\s*f\b", text):
        return "fahrenheit"
    return None


def color(text: str) -> str | None:
    for pattern, _ in COLOR_TEMPERATURES:
        text = pattern.sub(" ", text)  # "warm white" is a temperature, not white
    for name in sorted(COLORS, key=len, reverse=True):
        if re.search(rf"\b{name}\b", text):
            return name
    return None


def color_temperature(text: str) -> int | None:
    """Kelvin, from a white's name ("warm white" -> 2700) or a number ("3000 k")."""
    kelvin = next((k for pattern, k in COLOR_TEMPERATURES if pattern.search(text)), None)
    if kelvin is None and (match := _KELVIN.search(text)):
        kelvin = int(match.group(1))
    return kelvin if kelvin is not None and 1000 <= kelvin <= 10000 else None


_UNITS = {"hour": "hours", "hr": "hours", "minute": "minutes", "min": "minutes",
          "second": "seconds", "sec": "seconds"}  # fmt: skip


#: Fractions of an hour or a minute, read (and taken out of the text) before whole units.
_PARTS_OF_UNITS = tuple(
    (re.compile(pattern), slot, amount)
    for pattern, slot, amount in (
        (r"\bhalf an? hour\b", "minutes", 30),
        (r"\bhalf a minute\b", "seconds", 30),
        (r"\b(?:3|three) quarters of an hour\b", "minutes", 45),
        (r"\b(?:a |1 |one )?quarter(?: of an?)? hour\b", "minutes", 15),
        (r"(?<=hour) and a quarter\b|(?<=hours) and a quarter\b", "minutes", 15),
    )
)


def duration(text: str) -> dict[str, int | float]:
    """`12 minutes`, `2 and a half minutes`, `half an hour`, `a quarter of an hour`,
    `an hour and a quarter`, `an hour and 5 minutes`."""
    found: dict[str, int | float] = {}
    for pattern, slot, amount in _PARTS_OF_UNITS:
        if pattern.search(text):
            found[slot] = amount
            text = pattern.sub(" ", text)
    for count, unit in re.findall(
        r"(\d+(?:\.\d+)?|\ban?)\s*(?:(?:more|extra|additional|further|whole)\s+)?"
        r"(hours?|hrs?|minutes?|mins?|seconds?|secs?)\b",
        text,
    ):
        slot = _UNITS[unit.rstrip("s")]
        found[slot] = as_number(1.0 if count in ("a", "an") else float(count))
    for count, unit in re.findall(r"(\d+) and a half (hours?|minutes?)", text):
        slot = _UNITS[unit.rstrip("s")]
        found[slot] = int(count)
        smaller = "minutes" if slot == "hours" else "seconds"
        found[smaller] = 30
    return found


_LIST = r"(?:the\s+|my\s+|our\s+)?(?:shopping|grocery|groceries|list|shop)"
_LIST_ITEM = (
    r"^(.+?),?\s+(?:put|add|stick) (?:it|them|that) (?:on|to) " + _LIST,
    r"(?:add|put|stick|pop|chuck|throw|jot down|write down|note down|note|get)\s+"
    r"(?:some\s+|more\s+)?(.+?)\s+(?:to|on|onto|in|for)\s+" + _LIST,
    r"^(?:the\s+|my\s+|our\s+)?(?:shopping|grocery) list\s+(?!is\b|has\b)(.+)",
    r"don't let me forget (?:to (?:buy|get)\s+)?(?:some\s+)?(.+?)(?:,|$)",
    r"(?:remember|remind me) to (?:buy|get|pick up)\s+(?:some\s+)?(.+?)(?:,|$)",
    r"(?:we(?:'ve| have)? run out of|we're out of|we are out of|we're low on|running low on|"
    r"we need|i need|buy|pick up)\s+(?:some\s+|more\s+)?(.+?)"
    r"(?:\s+(?:from|at|for) the (?:shop|store|supermarket))?(?:,|$)",
)


def list_item(text: str) -> str | None:
    """The item, peeled out of as many phrasings as wrap it ("we need X, add it to the list")."""
    item = None
    for _ in range(3):
        match = next(
            (m for m in (re.search(p, item or text) for p in _LIST_ITEM) if m is not None), None
        )
        if match is None:
            break
        item = match.group(1).strip(" .,!?")
    return item


_CHECKED_ITEM = (
    r"(?:check|tick|cross|strike|scratch|complete|delete|remove|take)\s+(?:off\s+)?(.+?)"
    r"\s+(?:off\s+)?(?:from|on|in|off)\s+(?:of\s+)?" + _LIST,
    r"(?:check|tick|cross|strike|scratch)\s+off\s+(.+?)(?:,|$)",
    r"(?:check|tick|cross|strike|scratch)\s+(.+?)\s+off\b",
)


def checked_item(text: str) -> str | None:
    """The item to check off or remove ("tick the milk off the shopping list" -> "the milk")."""
    match = next((m for m in (re.search(p, text) for p in _CHECKED_ITEM) if m), None)
    return match.group(1).strip(" .,!?") if match else None


#: The states Home Assistant's state questions name (`on_off_states`, `cover_states`,
#: `lock_states`), as the words say them and as Home Assistant spells them.
_STATES = {"on": "on", "off": "off", "open": "open", "closed": "closed", "shut": "closed",
           "opening": "opening", "closing": "closing", "shutting": "closing",
           "locked": "locked", "unlocked": "unlocked"}  # fmt: skip
_STATE_WORDS = re.compile(rf"\b({'|'.join(_STATES)})\b")


def state(text: str) -> str | None:
    """The state a question asks about ("is the porch light on" -> "on"); the last one said,
    since a state comes after its device ("is the light on the porch on")."""
    said = _STATE_WORDS.findall(text)
    return _STATES[said[-1]] if said else None


#: Home Assistant's `media_class` list: the words, and the class each names.
_MEDIA_CLASSES = {"artist": "artist", "album": "album", "song": "track", "track": "track",
                  "playlist": "playlist", "podcast": "podcast", "movie": "movie",
                  "film": "movie", "tv show": "tv_show", "show": "tv_show"}  # fmt: skip
_CLASS_WORDS = "|".join(sorted(_MEDIA_CLASSES, key=len, reverse=True))


def media_search(text: str, *, is_place: Callable[[str], bool]) -> tuple[str, str | None] | None:
    """What to play and, when said, its media class: "play jazz album" -> ("jazz", "album").
    A trailing "on …" / "in …" that `is_place` (a device or an area) is not part of it."""
    match = re.search(r"\b(?:play|put on|stream|listen to)\s+(?:me\s+|some\s+)?(.+)$", text)
    if match is None:
        return None
    query, media_class = match.group(1), None
    place = re.search(r"\s+(?:on|in)\s+(.+)$", query)
    if place and is_place(place.group(1)):
        query = query[: place.start()]
    if lead := re.match(rf"(?:the\s+|an?\s+)?({_CLASS_WORDS})\s+(.+)$", query):
        media_class, query = _MEDIA_CLASSES[lead.group(1)], lead.group(2)
    elif trail := re.match(rf"(?:the\s+)?(.+?)\s+({_CLASS_WORDS})$", query):
        query, media_class = trail.group(1), _MEDIA_CLASSES[trail.group(2)]
    query = query.strip(" .,!?")
    return (query, media_class) if query else None


_MESSAGE = re.compile(
    r"^(?:please\s+)?(?:"
    r"(?:tell|let) (?:everyone|everybody|the (?:whole )?(?:house|family|kids))(?: know)?"
    r"|(?:announce|broadcast|shout|call)(?: (?:up|down|out))?"
    r"(?: (?:to|at) (?:everyone|everybody|the (?:whole )?house))?"
    r"(?: on all (?:the )?speakers)?"
    r")(?:\s+that)?[\s:,]+(.+)$"
)


def message(original: str) -> str | None:
    """The message keeps the speaker's words and case, only trimmed."""
    spoken = original.strip()
    match = _MESSAGE.search(spoken.casefold())
    if not match:
        return None
    return spoken[match.start(1) :].strip(" .!")
