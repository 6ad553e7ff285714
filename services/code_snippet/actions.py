"""What a request asks done to one entity, read from the words of the clause that names it:
"open the driveway gate", "send Rosie off to clean", "drop the heat pump to 16", "switch off
the telly". Pure. An automation's snippet does its own entities' actions; these are the
actions for the others a request names ("...and unlock the front door").
"""

from __future__ import annotations

import re
from typing import Any

_CLAUSES = re.compile(r",|;|\band\b|\bthen\b|\balso\b|->|→|=>", re.IGNORECASE)
_NUMBER = r"(-?\d+(?:\.\d+)?)"
_OFF = re.compile(r"\b(off|stop|kill|shut down|power down|disable)\b")
_ON = re.compile(r"\b(on|start|run|enable|activate|power up)\b")


def clause_naming(prompt: str, names: tuple[str, ...]) -> str | None:
    """The clause of `prompt` that says one of `names` (an entity's name or aliases)."""
    for clause in _CLAUSES.split(prompt):
        said = clause.casefold()
        if any(name.casefold() in said for name in names):
            return said
    words = {w for name in names for w in name.casefold().split() if len(w) > 3}
    for clause in _CLAUSES.split(prompt):
        if words & set(re.findall(r"[a-z0-9]+", clause.casefold())):
            return clause.casefold()
    return None


def action_for(entity_id: str, clause: str) -> dict[str, Any] | None:
    """The action the clause asks of the entity; None when it asks none this can tell."""
    domain = entity_id.split(".", 1)[0]
    target = {"entity_id": entity_id}
    service = _service(domain, clause)
    if service is None:
        return None
    action: dict[str, Any] = {"action": service, "target": target}
    if service == "climate.set_temperature":
        number = re.search(rf"\bto\s+{_NUMBER}", clause)
        if number is None:
            return None
        value = float(number.group(1))
        action["data"] = {"temperature": int(value) if value == int(value) else value}
    return action


def _service(domain: str, clause: str) -> str | None:
    if domain == "vacuum" and re.search(r"\b(clean|start|send|vacuum|hoover|run|go)\b", clause):
        return "vacuum.start"
    if domain == "climate" and re.search(rf"\bto\s+{_NUMBER}", clause):
        return "climate.set_temperature"
    if domain == "lock":
        if re.search(r"\bunlock|\bopen\b", clause):
            return "lock.unlock"
        return "lock.lock" if re.search(r"\block|\bsecure\b", clause) else None
    if domain in ("cover", "valve"):
        if re.search(r"\b(open|opened|raise|up)\b", clause):
            return f"{domain}.open_{domain}"
        if re.search(r"\b(close|closed|shut|lower|down)\b", clause):
            return f"{domain}.close_{domain}"
        return None
    if domain in ("scene", "script"):
        return f"{domain}.turn_on"
    if re.search(r"\btoggle\b", clause):
        return "homeassistant.toggle"
    if _OFF.search(clause):
        return "homeassistant.turn_off"
    if _ON.search(clause):
        return "homeassistant.turn_on"
    return None
