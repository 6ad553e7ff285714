"""What a request asks done to one entity, read from the words of the clause that names it:
"open the driveway gate", "send Rosie off to clean", "drop the heat pump to 16", "switch off
the telly". Pure. An automation's snippet does its own entities' actions; these are the
actions for the others a request names ("...and unlock the front door").
"""

from __future__ import annotations

import re
from typing import Any

CLAUSES = re.compile(r",|;|\?|(?<!\d):(?!\d)|\band\b|\bthen\b|\balso\b|->|→|=>", re.IGNORECASE)
_NUMBER = r"(-?\d+(?:\.\d+)?)"
_OFF = re.compile(r"\b(off|stop|kill|shut down|power down|disable)\b")
_ON = re.compile(r"\b(on|start|run|enable|activate|power up)\b")
_LEVEL = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent)")
_MEDIA = (
    (re.compile(r"\b(pause|paused|pauses)\b"), "media_player.media_pause"),
    (re.compile(r"\b(play|resume|unpause)\b"), "media_player.media_play"),
    (re.compile(r"\b(stop|stops)\b"), "media_player.media_stop"),
    (re.compile(r"\b(mute|silence)\b"), "media_player.volume_mute"),
)
_VACUUM = (
    (re.compile(r"\b(pause|paused|hold)\b"), "vacuum.pause"),
    (re.compile(r"\b(dock|return|back to (?:its )?base|go home|send (?:\w+ )?(?:back )?home)\b"),
     "vacuum.return_to_base"),
    (re.compile(r"\b(stop|stops)\b"), "vacuum.stop"),
    (re.compile(r"\b(clean|start|send|vacuum|hoover|run|go)\b"), "vacuum.start"),
)  # fmt: skip
#: Where a light's or a fan's level goes in its turn_on action.
_LEVEL_KEY = {"light": "brightness_pct", "fan": "percentage"}


def clause_naming(prompt: str, names: tuple[str, ...]) -> str | None:
    """The clause of `prompt` that says one of `names` (an entity's name or aliases)."""
    for clause in CLAUSES.split(prompt):
        said = clause.casefold()
        if any(name.casefold() in said for name in names):
            return said
    words = {
        _singular(w)
        for name in names
        for w in re.findall(r"[a-z0-9]+", name.casefold())
        if len(w) > 2
    }
    words -= {"the", "and"}
    clauses = CLAUSES.split(prompt)
    shared = [
        len(words & {_singular(w) for w in re.findall(r"[a-z0-9]+", c.casefold())}) for c in clauses
    ]
    best = max(shared, default=0)
    return clauses[shared.index(best)].casefold() if best else None


def _singular(word: str) -> str:
    """A plural as its singular: "monitors" names a Monitor Plug."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def action_for(entity_id: str, clause: str) -> dict[str, Any] | None:
    """The action the clause asks of the entity; None when it asks none this can tell."""
    domain = entity_id.split(".", 1)[0]
    target = {"entity_id": entity_id}
    service = _service(domain, clause)
    if service is None:
        return None
    action: dict[str, Any] = {"action": service, "target": target}
    if service == "media_player.volume_mute":
        action["data"] = {"is_volume_muted": True}
    if service == "climate.set_temperature":
        number = re.search(rf"\bto\s+{_NUMBER}", clause)
        if number is None:
            return None
        value = float(number.group(1))
        action["data"] = {"temperature": int(value) if value == int(value) else value}
    level = _LEVEL.search(clause)
    if domain == "cover" and level is not None and service != "cover.close_cover":
        action["action"] = "cover.set_cover_position"
        action["data"] = {"position": int(float(level.group(1)))}
    if domain in _LEVEL_KEY and level is not None and not _OFF.search(clause):
        value = float(level.group(1))
        action["action"] = f"{domain}.turn_on"
        action["data"] = {_LEVEL_KEY[domain]: int(value) if value == int(value) else value}
    return action


def _service(domain: str, clause: str) -> str | None:
    if domain == "button":
        return "button.press"
    if domain == "media_player":
        service = next((s for pattern, s in _MEDIA if pattern.search(clause)), None)
        if service is not None:
            return service
    if domain == "vacuum":
        for pattern, service in _VACUUM:
            if pattern.search(clause):
                return service
    if domain == "climate" and re.search(rf"\bto\s+{_NUMBER}", clause):
        return "climate.set_temperature"
    if domain == "lock":
        if re.search(r"\bunlock|\bopen\b", clause):
            return "lock.unlock"
        return "lock.lock" if re.search(r"\block|\bsecure\b", clause) else None
    if domain in ("cover", "valve"):
        # An awning opens as it extends and closes as it retracts.
        if re.search(r"\b(open|opened|raise|up|extend|deploy|roll out)\b", clause):
            return f"{domain}.open_{domain}"
        if re.search(r"\b(close|closed|shut|lower|down|retract|roll in)\b", clause):
            return f"{domain}.close_{domain}"
        # A valve is turned on and off as often as it is opened and closed.
        if domain == "valve" and _OFF.search(clause):
            return "valve.close_valve"
        return "valve.open_valve" if domain == "valve" and _ON.search(clause) else None
    if domain in ("scene", "script"):
        return f"{domain}.turn_on"
    if domain in _LEVEL_KEY and _LEVEL.search(clause) and not _OFF.search(clause):
        return f"{domain}.turn_on"
    if re.search(r"\btoggle\b", clause):
        return "homeassistant.toggle"
    if _OFF.search(clause):
        return "homeassistant.turn_off"
    if _ON.search(clause):
        return "homeassistant.turn_on"
    return None
