"""How well an automation snippet's triggers fit the ones a request asks for: their kind
("at 7am": time), which way a threshold is crossed, which sun events, which state a device
goes to ("switched on", not "turned off") and which device sets it off. Pure.

The sentence encoder hears "when holiday mode is switched on" close to "when a device is
turned off", and a snippet with the wrong trigger is wrong however well it fills.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from slm_mesh.services.code_snippet.library import Snippet
from slm_mesh.services.code_snippet.trigger_kind import (
    directions,
    snippet_directions,
    snippet_triggers,
    sun_events,
    trigger_kinds,
    trigger_times,
)
from slm_mesh.services.home.model import Entity
from slm_mesh.services.language.numbers import normalize

TRIGGER_WEIGHT = 0.15
"""What an automation's triggers agreeing with the kind the request asks for ("at 7am":
time) is worth in closeness, and what disagreeing costs."""


@dataclass(frozen=True)
class AskedTrigger:
    """What a request says of its automation's trigger."""

    kinds: frozenset[str] = frozenset()
    """Trigger types its words ask for (`trigger_kinds`)."""
    ways: frozenset[str] = frozenset()
    """Which ways a threshold is crossed: `above`, `below`."""
    suns: frozenset[str] = frozenset()
    """The sun events it triggers on."""
    both_ways: bool = False
    """Two thresholds, one each way ("on above 3 kW, off below 1.5 kW")."""
    times: int = 0
    """How many times of day it triggers at ("on at 6:30, off at 7:30": 2)."""
    states: frozenset[str] | None = None
    """The states its trigger's device goes to; None when it says none."""
    setting_off: tuple[Entity, ...] = ()
    """The entities its trigger names."""
    phrase: str | None = None
    """Its trigger's words (`trigger_phrase`)."""


def asked_trigger(
    prompt: str, phrase: str | None, setting_off: Sequence[Entity] = ()
) -> AskedTrigger:
    """What `prompt` says of its trigger; `phrase` is its trigger's words (`trigger_phrase`),
    `setting_off` the entities they name."""
    ways = directions(prompt)
    return AskedTrigger(
        kinds=trigger_kinds(prompt),
        ways=ways,
        suns=sun_events(prompt),
        both_ways=ways == {"above", "below"} and compared_numbers(prompt) > 1,
        times=trigger_times(prompt),
        states=trigger_states(phrase) if phrase is not None else None,
        setting_off=tuple(setting_off),
        phrase=phrase,
    )


def trigger_fit(snippet: Snippet, asked: AskedTrigger) -> float:
    """What the snippet's triggers agreeing with the request's is worth in closeness, less
    what their disagreeing costs."""
    return (
        _trigger_agreement(snippet, asked.kinds, asked.ways, asked.suns, both=asked.both_ways)
        - _times_dropped(snippet, asked.times)
        - _state_disagreement(snippet, asked.states)
        - _trigger_entity_disagreement(snippet, asked.setting_off)
        - _zone_disagreement(snippet, asked.phrase)
    )


def watches(snippet: Snippet, asked: AskedTrigger) -> bool:
    """Whether the snippet's triggers are of a kind the request asks for (any, when it asks
    none) and watch a device of the kind its trigger names."""
    kinds = not asked.kinds or bool(snippet_triggers(snippet.template) & asked.kinds)
    return kinds and not _trigger_entity_disagreement(snippet, asked.setting_off)


def compared_numbers(prompt: str) -> int:
    """How many numbers the request compares a reading with ("above 3 kW", "below 1.5")."""
    return len(COMPARED_NUMBER.findall(normalize(prompt.casefold())))


#: Trigger kinds a request spells out, rather than the `state` its words suggest.
_SPELLED_KINDS = frozenset({
    "time", "time_pattern", "sun", "numeric_state", "webhook", "tag", "homeassistant", "zone",
    "mqtt",
})  # fmt: skip
_SUN_EVENT = re.compile(r"event: (sunset|sunrise)")


#: A number a reading is compared with ("above 3 kW", "below 1.5kW").
COMPARED_NUMBER = re.compile(
    r"\b(?:above|over|exceeds?|passes|more than|higher than|rises? (?:above|over|to)|below|under|"
    r"less than|lower than|drops? (?:below|under|to)|falls? (?:below|under|to))\s+-?\d"
)
#: What a request's trigger says its device does, and the states a snippet's state trigger
#: may go `to:` for it.
_STATE_WORDS: tuple[tuple[re.Pattern[str], frozenset[str]], ...] = (
    (
        re.compile(r"\b(?:turn|switch|power|flick)(?:s|ed|es)?\s+on\b|\b(?:comes|goes) on\b"),
        frozenset({"on"}),
    ),
    (re.compile(r"\b(?:turn|switch|power|flick)(?:s|ed|es)?\s+off\b"), frozenset({"off"})),
    (re.compile(r"\bunlock(?:s|ed)?\b"), frozenset({"unlocked"})),
    (re.compile(r"(?<!un)\block(?:s|ed)\b"), frozenset({"locked"})),
    (re.compile(r"\bopen(?:s|ed)?\b"), frozenset({"on", "open", "opening"})),
    (re.compile(r"\bclose[sd]\b"), frozenset({"off", "closed", "closing"})),
    (re.compile(r"\bstarts? playing\b"), frozenset({"playing"})),
    (
        re.compile(
            r"\b(?:arriv\w+|gets? home|comes? home|back home|"
            r"(?:is|are|'s) (?:both |all )?(?:at )?home)\b"
        ),
        frozenset({"home"}),
    ),
    (
        re.compile(r"\b(?:leaves?|left home|(?:is|are|'s) (?:both |all )?(?:out|away))\b"),
        frozenset({"not_home"}),
    ),
    (re.compile(r"\bstop(?:s|ped)? playing\b"), frozenset({"idle", "paused", "off"})),
    (re.compile(r"\bstop(?:s|ped)\b|\bclear(?:s|ed)\b"), frozenset({"off"})),
)
#: Which way a request's trigger crosses a zone's edge, and the words that say it.
_ZONE_WAYS = (
    (re.compile(r"\b(?:enters?|entering|arriv\w+|gets? to|reach\w*)\b"), "enter"),
    (re.compile(r"\b(?:leaves?|leaving|left)\b"), "leave"),
)
_STATE_TO = re.compile(
    r"^ {4}to: \"?(on|off|open|closed|opening|closing|locked|unlocked|playing|home|not_home)\"?$",
    re.MULTILINE,
)
_TIME_TRIGGER = re.compile(r"^ {0,4}- (?:trigger|platform): time$", re.MULTILINE)
_ZONE_EVENT = re.compile(r"^ {4}event: (enter|leave)$", re.MULTILINE)
_AFTER_TRIGGERS = re.compile(r"^(?:conditions?|actions?):", re.MULTILINE)


def trigger_states(trigger: str) -> frozenset[str] | None:
    """The states the request's trigger says its device goes to ("switched on": on;
    "opens": on or open); None when it says none."""
    said = trigger.casefold()
    return next((states for pattern, states in _STATE_WORDS if pattern.search(said)), None)


def _state_disagreement(snippet: Snippet, wanted: frozenset[str] | None) -> float:
    """TRIGGER_WEIGHT when the snippet's state trigger fires on another change than the
    request's ("when holiday mode is switched on" answered with "turned off", "the balcony
    door opens" with "is unlocked"): the encoder hears the device, not what it does."""
    if wanted is None:
        return 0.0
    states = set(_STATE_TO.findall(_triggers_part(snippet.template)))
    return TRIGGER_WEIGHT if states and not states & wanted else 0.0


def _times_dropped(snippet: Snippet, times: int) -> float:
    """Twice TRIGGER_WEIGHT when the request triggers at more times of day than the
    snippet's time triggers ("on at 6:30 and off again at 7:30" answered at 6:30 alone)."""
    own = len(_TIME_TRIGGER.findall(_triggers_part(snippet.template)))
    return 2 * TRIGGER_WEIGHT if own and times > own else 0.0


def _zone_disagreement(snippet: Snippet, phrase: str | None) -> float:
    """TRIGGER_WEIGHT when the snippet's zone trigger fires the other way across the zone's
    edge than the request's ("enters the gym" answered with `event: leave`)."""
    events = set(_ZONE_EVENT.findall(_triggers_part(snippet.template)))
    said = (phrase or "").casefold()
    ways = {way for pattern, way in _ZONE_WAYS if pattern.search(said)}
    return TRIGGER_WEIGHT if events and ways and not events & ways else 0.0


def _trigger_entity_disagreement(snippet: Snippet, setting_off: Sequence[Entity]) -> float:
    """TRIGGER_WEIGHT when the request's trigger names entities ("when holiday mode is
    switched on") and none is of a kind the snippet's triggers watch."""
    if not setting_off:
        return 0.0
    watched = set(re.findall(r"<<(\w+)>>", _triggers_part(snippet.template)))
    params = [p for name, p in snippet.params.items() if name in watched and p.kind == "entity"]
    if not params:
        return 0.0
    fits = any(
        e.domain in p.domains and (not p.device_classes or e.device_class in p.device_classes)
        for e in setting_off
        for p in params
    )
    return 0.0 if fits else TRIGGER_WEIGHT


def _triggers_part(template: str) -> str:
    """A snippet's template up to its conditions or actions: its triggers."""
    return _AFTER_TRIGGERS.split(template)[0]


def _trigger_agreement(
    snippet: Snippet,
    asked: frozenset[str],
    ways: frozenset[str],
    suns: frozenset[str],
    *,
    both: bool = False,
) -> float:
    """+TRIGGER_WEIGHT when the snippet's triggers include a kind the request asks for,
    -TRIGGER_WEIGHT when they include none (twice that when the request spells its kind
    out: a time, an interval, the sun, a threshold), 0 when the request says no kind; less
    TRIGGER_WEIGHT when its threshold is crossed the other way ("above" for "drops
    below")."""
    if not asked:
        return 0.0
    kinds = snippet_triggers(snippet.template)
    missed = 2 * TRIGGER_WEIGHT if asked & _SPELLED_KINDS else TRIGGER_WEIGHT
    agreement = TRIGGER_WEIGHT if kinds & asked else -missed
    if "sun" in asked & kinds and not suns <= set(_SUN_EVENT.findall(snippet.template)):
        agreement -= TRIGGER_WEIGHT  # "on at sunset, off at sunrise" needs both
    crossed = snippet_directions(snippet.template) if "numeric_state" in kinds & asked else None
    if crossed and ways and not crossed & ways:
        agreement -= TRIGGER_WEIGHT
    if crossed and both and len(crossed) == 1:
        agreement -= 2 * TRIGGER_WEIGHT  # "on above 3 kW, off below 1.5 kW" needs both
    return agreement
