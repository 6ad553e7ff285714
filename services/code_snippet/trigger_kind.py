"""Which kind of trigger an automation request asks for, read from its words: "at 7am" is a
`time` trigger, "every 15 minutes" a `time_pattern`, "at sunset" a `sun`, "above 25 °C" a
`numeric_state`, "when the door opens" a `state`. Pure.

The sentence encoder hears "at 7am set the heating to 21" as close to "heat when it drops
below 21", and a snippet with the wrong trigger is wrong however well it fills; retrieval
weighs a snippet's triggers against these.
"""

from __future__ import annotations

import re

from slm_mesh.services.code_snippet.compose import trigger_text
from slm_mesh.services.code_snippet.request_values import clock_times

CLOCK = r"(?:\d{1,2}(?::\d{2})?\s*(?:am|pm)?|midnight|noon|midday|sunset|sunrise|dusk|dawn)"
WINDOW = re.compile(
    rf"\b(?:between|from)\s+{CLOCK}\s+(?:and|to|until|till|-)\s+{CLOCK}", re.IGNORECASE
)
"""A time window ("between 11pm and 6am"): a condition, not a trigger."""
BOUND = re.compile(rf"\b(after|from|past|before|until|till)\s+{CLOCK}", re.IGNORECASE)
"""One end of a window ("after 7pm"): a condition, not a trigger."""

_INTERVAL = re.compile(
    r"\bevery\s+(?:\d+(?:\.\d+)?|few|couple of|other)?\s*(?:minutes?|mins?|hours?|hrs?|"
    r"seconds?|secs?|half hour)\b|\b(?:once|twice)\s+an?\s+hour\b|\bhourly\b"
)
_SUN = re.compile(r"\b(sunset|sunrise|dusk|dawn|sun (?:sets|rises|goes down|comes up))\b")
_SUN_CONDITION = re.compile(
    r"\b(?:after|before|until|till|once it'?s past)\s+(?:sunset|sunrise|dusk|dawn)\b"
    r"|\b(?:between|from)\s+(?:sunset|sunrise|dusk|dawn)\s+(?:and|to|until|till)\b"
)
_SUN_OFFSET = re.compile(
    r"\b\d+\s*(?:minutes?|mins?|hours?|hrs?)\s+(?:before|after)\s+(?:sunset|sunrise|dusk|dawn)"
)
_UNIT = r"(?:\s*(?:°\s*[cf]?|degrees?|%|percent|w|kw|watts?|lx|lux|ppm|v|kwh))"
_COMPARED = re.compile(
    r"\b(?:above|over|exceeds?|exceeding|more than|greater than|higher than|hits|reaches|"
    r"(?:hotter|warmer|colder|cooler|brighter|darker|wetter|drier) than|"
    r"below|under|less than|lower than|drops?|falls?|rises?|draws?|goes (?:above|over|below|"
    r"under)|climbs?)\s+(?:to\s+|below\s+|under\s+|above\s+|over\s+)?-?\d+(?:[.,]\d+)?(?![\d.,])"
    rf"{_UNIT}?(?!\s*(?:minutes?|mins?|hours?|hrs?|seconds?|secs?|s\b|m\b|h\b|am|pm|:))"
    r"|[<>≤≥]\s*-?\d"
)
_STATE = re.compile(
    r"\b(opens?|opened|closes|closed|left open|turns? (?:on|off)|turned (?:on|off)|"
    r"switched (?:on|off)|starts? playing|stops? playing|paused|playing|arrives?|gets? home|"
    r"comes? home|leaves?|left|detects?|detected|motion|movement|rings?|pressed|wet|leak|"
    r"smoke|empty|clear|occupied|unoccupied|vacant|no one|nobody|no motion|unlocked|locked|"
    r"goes off|been (?:on|off|open|closed|left)|water (?:under|on|in|detected)|sits? down|"
    r"rains?|raining|starts? to rain|been running|running for|(?:un)?plugged(?: in)?|"
    r"triggered|armed|disarmed)\b"
)


def trigger_kinds(prompt: str) -> frozenset[str]:
    """The trigger types the request's words ask for; empty when they say none clearly."""
    said = prompt.casefold()
    kinds: set[str] = set()
    if _INTERVAL.search(said):
        kinds.add("time_pattern")
    unbounded = BOUND.sub(" ", WINDOW.sub(" ", said))
    if clock_times(unbounded):
        kinds.add("time")
    if _SUN_OFFSET.search(said) or (_SUN.search(_SUN_CONDITION.sub(" ", said))):
        kinds.add("sun")
    if _COMPARED.search(said):
        kinds.add("numeric_state")
    if not kinds and _STATE.search(said):
        kinds.add("state")
    if not kinds and schedule_window(said):
        kinds.add("time")
    return frozenset(kinds)


def schedule_window(prompt: str) -> bool:
    """Whether a time window is what the request is a schedule of ("charge the car from
    1am to 5am": on at one, off at the other), not a condition on another trigger: it says
    no other kind of trigger, and no "when" or "if"."""
    said = prompt.casefold()
    return (
        WINDOW.search(said) is not None
        and trigger_text(prompt) is None
        and not re.search(r"\b(when|whenever|if|once|while|only|every)\b", said)
        and not _STATE.search(said)
        and not _COMPARED.search(said)
        and not _SUN.search(said)
    )


_ABOVE = re.compile(
    r"\b(?:above|over|exceeds?|exceeding|more than|greater than|higher than|rises?|climbs?|"
    r"(?:hotter|warmer|brighter|wetter) than|draws?)\b|>"
)
_BELOW = re.compile(
    r"\b(?:below|under|less than|lower than|drops?|falls?|(?:colder|cooler|darker|drier) than)"
    r"\b|<"
)


def directions(prompt: str) -> frozenset[str]:
    """Which way a reading crosses its threshold in the request: `above`, `below`, both."""
    said = prompt.casefold()
    found = {"above"} if _ABOVE.search(said) else set()
    return frozenset(found | ({"below"} if _BELOW.search(said) else set()))


def snippet_directions(template: str) -> frozenset[str]:
    """Which ways a snippet's threshold triggers fire: `above: <<`, `below: <<`."""
    return frozenset(re.findall(r"^ {0,8}(above|below): ", template, re.MULTILINE))


def trigger_phrase(prompt: str) -> str | None:
    """The words that say what sets the automation off: "every 15 minutes", "at 7am",
    "30 minutes before sunset", else its "when ..." clause (`trigger_text`); None when
    the request has none of them, or two ("off at 11pm, on at 4pm")."""
    said = prompt.casefold()
    interval = _INTERVAL.search(said)
    if interval is not None:
        return interval.group(0)
    times = clock_times(BOUND.sub(" ", WINDOW.sub(" ", said)))
    suns = {w[:4] for w in _SUN.findall(_SUN_CONDITION.sub(" ", said))}
    if len(times) > 1 or len(suns) > 1:
        return None
    if times:
        return f"at {times[0][:5]}"
    sun = _SUN_OFFSET.search(said) or _SUN.search(_SUN_CONDITION.sub(" ", said))
    if sun is not None:
        return (
            f"at {sun.group(0)}"
            if sun.group(0) in ("sunset", "sunrise", "dusk", "dawn")
            else sun.group(0)
        )
    return trigger_text(prompt)


def sun_events(prompt: str) -> frozenset[str]:
    """The sun events a request triggers on ("on at sunset, off at sunrise": both); not
    those it only bounds a window with ("after sunset")."""
    found = _SUN.findall(_SUN_CONDITION.sub(" ", prompt.casefold()))
    return frozenset("sunrise" if w.startswith(("sunr", "dawn", "sun comes", "sun rises")) else
                     "sunset" for w in found)  # fmt: skip


def trigger_times(prompt: str) -> int:
    """How many times of day the request triggers at (not those of a window, unless the
    window is its schedule)."""
    if schedule_window(prompt):
        return len(clock_times(prompt.casefold()))
    return len(clock_times(BOUND.sub(" ", WINDOW.sub(" ", prompt.casefold()))))


_SNIPPET_TRIGGER = re.compile(r"^ {0,4}- (?:trigger|platform): ([a-z_]+)", re.MULTILINE)


def snippet_triggers(template: str) -> frozenset[str]:
    """The trigger types of a snippet's own triggers (not those it waits for)."""
    return frozenset(_SNIPPET_TRIGGER.findall(template))
