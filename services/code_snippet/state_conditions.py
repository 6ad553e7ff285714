"""The states a request puts devices in as conditions, not as actions: "while the alarm is
armed", "only if the tv is off", "as long as the back door is closed". Pure.

Such a device is named beside the ones the automation acts on, with a verb of its own
("armed", "open"); taken for an action, "the alarm is armed" would arm it.
"""

from __future__ import annotations

import re
from typing import Any

from slm_mesh.services.home.model import Entity, Home
from slm_mesh.services.language.mentions import tokens

_WHILE = re.compile(
    r"\b(?P<lead>while|whilst|only if|only when|as long as|provided(?: that)?|unless)\s+"
    r"(?P<name>(?:(?!\b(?:is|are|was)\b)[\w' -]){2,60}?)(?:\s+(?:is|are)|'s|\s+'s)\s+"
    r"(?:still\s+|both\s+|all\s+)?"
    r"(?P<state>not armed|armed(?:[ _](?:away|home|night))?|disarmed|on|off|open|opened|"
    r"closed|shut|locked|unlocked|home|away|out|playing|paused|idle)\b",
    re.IGNORECASE,
)
#: Where people are, said beside the trigger ("when Jordan gets home and Maya is away").
_PEOPLE = re.compile(
    r"\b(?:and|but|if|unless)\s+(?P<name>(?:(?!\b(?:is|are|was)\b)[\w' -]){2,40}?)"
    r"(?:\s+(?:is|are)|'s|\s+'s)\s+(?:still\s+|both\s+|all\s+)?"
    r"(?P<state>away|out|not home|home)\b",
    re.IGNORECASE,
)
_OPPOSITE = {
    "on": "off", "off": "on", "open": "closed", "opened": "closed", "closed": "open",
    "shut": "open", "locked": "unlocked", "unlocked": "locked", "home": "away", "away": "home",
    "out": "home", "armed": "disarmed", "disarmed": "armed",
}  # fmt: skip
#: A state said the other way round: "isn't home" is away, "is not locked" unlocked.
_NEGATED = re.compile(
    r"\b(is|are)(?:n[\u2019']t| not) (home|on|off|open|closed|locked|unlocked|armed|disarmed)\b",
    re.IGNORECASE,
)
_ARTICLES = frozenset({"the", "a", "an", "my", "our"})
_ARMED = ["armed_away", "armed_home", "armed_night", "armed_vacation"]


def state_conditions(prompt: str, home: Home) -> list[tuple[Entity, Any]]:
    """Each device the request says must be in a state ("while the alarm is armed"), with
    that state as Home Assistant writes it for its domain."""
    prompt = _NEGATED.sub(lambda m: f"{m.group(1)} {_OPPOSITE[m.group(2).casefold()]}", prompt)
    found = []
    for match in _WHILE.finditer(prompt):
        word = match.group("state").casefold().replace(" ", "_")
        if match.group("lead").casefold() == "unless":
            # "unless the door is unlocked": while it is the other way.
            word = _OPPOSITE.get(word, "")
        # "only if Maya and Jordan are both out": each person named.
        people = [e for e in _people(match.group("name"), home) if _state(e.domain, word)]
        entity = _named(match.group("name"), home)
        for each in people or ([entity] if entity is not None else []):
            state = _state(each.domain, word)
            if state is not None:
                found.append((each, state))
    for match in _PEOPLE.finditer(prompt):
        word = match.group("state").casefold().replace(" ", "_")
        found += [
            (person, _state("person", word))
            for person in _people(match.group("name"), home)
            if person.id not in {e.id for e, _ in found}
        ]
    return found


def without_conditions(clause: str) -> str:
    """The clause less the states it puts devices in ("turn the fan on while the AC is on":
    "turn the fan on"), so that a condition's "on" is not read as an action."""
    return _WHILE.sub(" ", clause)


def _people(text: str, home: Home) -> list[Entity]:
    """The people the words name, each by a name or alias."""
    said = set(tokens(text))
    return [
        e
        for e in home.entities
        if e.domain == "person" and any(tokens(n) and set(tokens(n)) <= said for n in e.names)
    ]


def _named(text: str, home: Home) -> Entity | None:
    """The one entity whose name or alias the words say, most words first (an article
    counts for none: "the tub" says less than "tub heater")."""
    said = set(tokens(text))
    scored = [
        (len(set(tokens(name)) - _ARTICLES), entity)
        for entity in home.entities
        for name in (entity.name, *entity.aliases)
        if tokens(name) and set(tokens(name)) <= said
    ]
    if not scored:
        return None
    best = max(count for count, _ in scored)
    top = {entity.id: entity for count, entity in scored if count == best}
    return next(iter(top.values())) if len(top) == 1 else None


def _state(domain: str, word: str) -> Any:
    if domain == "alarm_control_panel":
        if word.startswith("armed_"):
            return word
        return {"armed": _ARMED, "disarmed": "disarmed", "not_armed": "disarmed"}.get(word)
    if domain == "person":
        return {"home": "home", "away": "not_home", "out": "not_home", "not_home": "not_home"}.get(
            word
        )
    if domain in ("cover", "valve"):
        return {"open": "open", "opened": "open", "closed": "closed", "shut": "closed"}.get(word)
    if domain == "lock":
        return word if word in ("locked", "unlocked") else None
    if domain == "media_player":
        return word if word in ("playing", "paused", "idle", "on", "off") else None
    opened = {"open": "on", "opened": "on", "closed": "off", "shut": "off"}
    return word if word in ("on", "off") else opened.get(word)
