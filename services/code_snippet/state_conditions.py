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
    r"\b(?:while|whilst|only if|only when|as long as|provided(?: that)?)\s+"
    r"(?P<name>(?:(?!\b(?:is|are|was)\b)[\w' -]){2,60}?)\s+(?:is|are|'s)\s+(?:still\s+)?"
    r"(?P<state>not armed|armed(?:[ _](?:away|home|night))?|disarmed|on|off|open|opened|"
    r"closed|shut|locked|unlocked|home|away|out|playing|paused|idle)\b",
    re.IGNORECASE,
)
_ARMED = ["armed_away", "armed_home", "armed_night", "armed_vacation"]


def state_conditions(prompt: str, home: Home) -> list[tuple[Entity, Any]]:
    """Each device the request says must be in a state ("while the alarm is armed"), with
    that state as Home Assistant writes it for its domain."""
    found = []
    for match in _WHILE.finditer(prompt):
        entity = _named(match.group("name"), home)
        if entity is None:
            continue
        state = _state(entity.domain, match.group("state").casefold().replace(" ", "_"))
        if state is not None:
            found.append((entity, state))
    return found


def _named(text: str, home: Home) -> Entity | None:
    """The one entity whose name or alias the words say, most words first."""
    said = set(tokens(text))
    scored = [
        (len(tokens(name)), entity)
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
        return {"home": "home", "away": "not_home", "out": "not_home"}.get(word)
    if domain in ("cover", "valve"):
        return {"open": "open", "opened": "open", "closed": "closed", "shut": "closed"}.get(word)
    if domain == "lock":
        return word if word in ("locked", "unlocked") else None
    if domain == "media_player":
        return word if word in ("playing", "paused", "idle", "on", "off") else None
    opened = {"open": "on", "opened": "on", "closed": "off", "shut": "off"}
    return word if word in ("on", "off") else opened.get(word)
