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
from slm_mesh.services.code_snippet.request_clock import clock_times
from slm_mesh.services.language.numbers import normalize

CLOCK = r"(?:\d{1,2}(?::\d{2})?\s*(?:am|pm)?|midnight|noon|midday|sunset|sunrise|dusk|dawn)"
_TIME = r"(?:\d{1,2}(?::\d{2})?\s*(?:am|pm)|\d{1,2}:\d{2})"
WINDOW = re.compile(
    rf"\b(?:between|from)\s+{CLOCK}\s+(?:and|to|until|till|-)\s+{CLOCK}"
    rf"|\b{_TIME}\s*(?:-|\u2013)\s*{_TIME}(?!\w)",
    re.IGNORECASE,
)
"""A time window ("between 11pm and 6am", "10pm-6am"): a condition, not a trigger."""
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
SUN_OFFSET = re.compile(
    r"\b(?P<count>(?:\d+|five|ten|fifteen|twenty|thirty|forty|forty-five|sixty|one|two|three)"
    r"\s*(?:minutes?|mins?|hours?|hrs?)|(?:a )?half an hour|an hour|"
    r"(?:a )?quarter of an hour)\s+(?P<side>before|after)\s+(?P<event>sunset|sunrise|dusk|dawn)\b",
    re.IGNORECASE,
)
"""An offset from a sun event ("30 minutes before sunset", "half an hour after sunrise")."""
_UNIT = r"(?:\s*(?:°\s*[cf]?|degrees?|%|percent|w|kw|watts?|lx|lux|ppm|v|kwh))"
_COMPARED = re.compile(
    r"\b(?:above|over|exceeds?|exceeding|more than|greater than|higher than|hits|reaches|passes|"
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
    r"goes (?:on|off)|comes on|been (?:on|off|open|closed|left)|"
    r"water (?:under|on|in|detected)|sits? down|"
    r"rains?|raining|starts? to rain|been running|running for|(?:un)?plugged(?: in)?|"
    r"triggered|armed|disarmed|presence|occupancy|pirs?|stops|stopped|finish\w* cleaning|docks|"
    r"docked)\b"
)


#: Triggers a request names by what fires them: a webhook, an NFC tag, Home Assistant
#: starting, a zone.
_NAMED_KINDS = (
    ("webhook", re.compile(r"\bwebhook\b")),
    ("tag", re.compile(r"\bnfc\b|\btag\b(?!\s+(?:me|us)\b)")),
    (
        "homeassistant",
        re.compile(
            r"\b(?:home assistant|ha|hass)(?:'s)?\s+(?:re)?(?:start|boot)\w*|\bstart-?up\b|"
            r"\b(?:after|on) (?:a |every |each )?(?:re)?(?:start|boot)\b"
        ),
    ),
    ("zone", re.compile(r"\bzone\b")),
)
#: An MQTT topic (`home/door/state`).
_TOPIC = re.compile(r"(?<![\w/.:])[a-z0-9_+#-]+(?:/[a-z0-9_+#-]+)+")
#: What says a message arrives (not one sent): "publishes on", "posts", "a message on".
_ARRIVES = re.compile(
    r"\b(?:mqtt|posts|publishes|published|sends|message|messages|payload|arrives|receives?|"
    r"topic|says)\b"
)
#: What asks a message sent ("send a message to home/door"), not one that arrives; "turn"
#: and "switch" as verbs ("switch the pump on"), not the float switch that publishes.
_SENDS = re.compile(
    r"\b(?:send|publish|post|set)\b"
    r"|\b(?:turn|switch)\s+(?:on|off|the|my|a|an|it|them|all|every)\b"
)
#: An arrow or a colon that ends what sets the automation off.
_THEN = re.compile(r"->|→|=>|:\s|\bthen\b")


def event_kinds(prompt: str) -> frozenset[str]:
    """The triggers a request names by what fires them (`_NAMED_KINDS`), and `mqtt` for a
    topic that a message arrives on before anything is asked done ("the node posts 'dry'
    to garden/alert -> open the valve"), not one it is asked to publish to."""
    said = prompt.casefold()
    kinds = {kind for kind, pattern in _NAMED_KINDS if pattern.search(said)}
    topic = _TOPIC.search(said)
    if topic is not None:
        ends = _THEN.search(said, topic.end())
        before = said[: topic.start()]
        lead = _THEN.split(before)[-1]
        asked = _SENDS.search(lead)
        if _ARRIVES.search(lead) and not asked and (ends is not None or not _THEN.search(before)):
            kinds.add("mqtt")
    return frozenset(kinds)


def trigger_kinds(prompt: str) -> frozenset[str]:
    """The trigger types the request's words ask for; empty when they say none clearly.
    Numbers said in words count ("under five watts")."""
    said = prompt.casefold()
    kinds: set[str] = set(event_kinds(prompt))
    if kinds:
        return frozenset(kinds)
    if _INTERVAL.search(said):
        kinds.add("time_pattern")
    unbounded = BOUND.sub(" ", WINDOW.sub(" ", said))
    if clock_times(unbounded):
        kinds.add("time")
    if SUN_OFFSET.search(said) or (_SUN.search(_SUN_CONDITION.sub(" ", said))):
        kinds.add("sun")
    # "pir -> lantern on, but only if the lux is under 15": a reading compared only in
    # what limits the automation is a condition on what the rest says sets it off.
    bare = _ONLY_IF.sub(" ", said)
    if _compares(said) and (_compares(bare) or not _STATE.search(bare)):
        kinds.add("numeric_state")
    if "time_pattern" in kinds:
        # "every hour, if the soil is under 30%": what an interval checks is a condition.
        kinds.discard("numeric_state")
    if not kinds and _STATE.search(said):
        kinds.add("state")
    if not kinds and schedule_window(said):
        kinds.add("time")
    return frozenset(kinds)


_ONLY_IF = re.compile(r"\b(?:only (?:if|when)|as long as|provided(?: that)?)\b[^.;!?]*")


def _compares(said: str) -> bool:
    """Whether the words compare a reading with a number, said in digits or in words."""
    return _COMPARED.search(said) is not None or _COMPARED.search(normalize(said)) is not None


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
    r"\b(?:above|over|exceeds?|exceeding|more than|greater than|higher than|rises?|climbs?|passes|"
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
    the request has none of them, or two ("off at 11pm, on at 4pm", "open it above 28,
    close it below 22")."""
    said = prompt.casefold()
    interval = _INTERVAL.search(said)
    if interval is not None:
        return interval.group(0)
    times = clock_times(BOUND.sub(" ", WINDOW.sub(" ", said)))
    suns = {w[:4] for w in _sun_words(said)}
    # Two thresholds crossed opposite ways ("over 28 -> open, under 22 -> close").
    thresholds = len(_COMPARED.findall(said)) > 1 and directions(said) == {"above", "below"}
    if len(times) > 1 or len(suns) > 1 or thresholds:
        return None
    if times:
        return f"at {times[0][:5]}"
    sun = SUN_OFFSET.search(said) or _SUN.search(_SUN_CONDITION.sub(" ", said))
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
    found = _sun_words(prompt.casefold())
    return frozenset("sunrise" if w.startswith(("sunr", "dawn", "sun comes", "sun rises")) else
                     "sunset" for w in found)  # fmt: skip


def _sun_words(said: str) -> list[str]:
    """The sun events `said` triggers on, as written: an offset's ("twenty minutes after
    sunset") is one, though "after sunset" alone only bounds a window."""
    offsets = SUN_OFFSET.sub(lambda m: f" at {m.group('event')} ", said)
    return list(_SUN.findall(_SUN_CONDITION.sub(" ", offsets)))


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
