"""Words for one kind of event: "Front door" + "opened", "Motion" + "was detected in the garage".

The entity's domain and the words of its id or name say what a state means: a door's "on"
is "opened", a light's is "was turned on", a washer's "finished" is "finished". Anything
unknown reads literally ("was heat", "hvac mode was set to heat") rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from slm_mesh.services.summarizer.events import Event

_OPENINGS = ("door", "window", "gate", "garage", "opening", "lid", "hatch")
_MOTION = ("motion", "occupancy", "presence", "movement")
_ALARMS = {
    "leak": "detected a leak",
    "moisture": "detected a leak",
    "water": "detected water",
    "smoke": "detected smoke",
    "gas": "detected gas",
    "carbon_monoxide": "detected CO",
}
_SWITCHED = {
    "light",
    "switch",
    "fan",
    "input_boolean",
    "media_player",
    "climate",
    "humidifier",
    "siren",
    "vacuum",
    "automation",
    "script",
    "remote",
    "water_heater",
}
_NAMED_BY_DOMAIN = {"light", "switch", "fan", "lock", "vacuum", "siren"}
_DONE = {"finished", "done", "complete", "completed", "idle_finished"}
_LOCK = {
    "locked": "was locked",
    "unlocked": "was unlocked",
    "jammed": "jammed",
    "locking": "started locking",
    "unlocking": "started unlocking",
    "open": "was opened",
}
_COVER = {
    "open": "opened",
    "closed": "closed",
    "opening": "started opening",
    "closing": "started closing",
}
_ON = {"on", "true", "1"}
_OFF = {"off", "false", "0"}
# Higher first when a budget leaves groups out.
_IMPORTANCE = {"alarm": 4, "security": 3, "appliance": 2, "switch": 1}


@dataclass(frozen=True)
class Words:
    subject: str
    verb: str
    """Past tense, so that "3 times" or "at 08:00" can follow it."""


def phrase(event: Event) -> Words:
    """How a sentence about events like this one begins."""
    subject = _subject(event)
    if event.attribute is not None:
        return Words(f"{subject} {_spoken(event.attribute)}", f"was set to {_state(event)}")
    state = _state(event).lower()
    kind = _kind(event)
    on = state in _ON or state == "open"
    if kind == "motion":
        place = f" in the {event.area}" if event.area else f" by {subject}"
        return Words("Motion", f"was detected{place}" if on else f"stopped{place}")
    if kind == "alarm":
        verb = next(verb for word, verb in _ALARMS.items() if word in _hint(event))
        return Words(subject, verb if on else "was clear again")
    if kind == "opening":
        return Words(subject, "opened" if on else "closed")
    if event.domain == "binary_sensor":
        return Words(subject, "turned on" if on else "turned off")
    if event.domain == "lock" and state in _LOCK:
        return Words(subject, _LOCK[state])
    if event.domain in {"cover", "valve"} and state in _COVER:
        return Words(subject, _COVER[state])
    if state in _DONE:
        return Words(subject, "finished")
    if event.domain in _SWITCHED and state in _ON | _OFF:
        return Words(subject, "was turned on" if on else "was turned off")
    return Words(subject, f"was {_state(event)}")


def importance(event: Event) -> int:
    """How much a group of events like this one matters when not all fit."""
    kind = _kind(event)
    if kind == "alarm" or event.domain in {"alarm_control_panel", "siren"}:
        return _IMPORTANCE["alarm"]
    if kind == "opening" or event.domain in {"lock", "cover", "valve"}:
        return _IMPORTANCE["security"]
    if str(event.value).lower() in _DONE:
        return _IMPORTANCE["appliance"]
    if event.domain in _SWITCHED or kind == "motion":
        return _IMPORTANCE["switch"]
    return 0


def _kind(event: Event) -> str:
    """What a binary sensor watches, from the words of its id and name ("" otherwise)."""
    if event.domain != "binary_sensor" or event.attribute is not None:
        return ""
    hint = _hint(event)
    if any(word in hint for word in _MOTION):
        return "motion"
    if any(word in hint for word in _ALARMS):
        return "alarm"
    if any(word in hint for word in _OPENINGS):
        return "opening"
    return ""


def _hint(event: Event) -> str:
    return f"{event.entity} {event.name or ''}".lower()


def _subject(event: Event) -> str:
    """The name, else the entity id in words ("light.kitchen" -> "Kitchen light")."""
    name = event.name
    if name is None:
        name = _spoken(event.entity.partition(".")[2])
        if event.domain in _NAMED_BY_DOMAIN and event.domain not in name:
            name = f"{name} {event.domain}"
    return name[0].upper() + name[1:]


def _state(event: Event) -> str:
    value = event.value
    if isinstance(value, bool):
        return "on" if value else "off"
    return _spoken(str(value))


def _spoken(raw: str) -> str:
    return raw.replace("_", " ")
