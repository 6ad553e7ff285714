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
#: Watering asked of a valve ("water the greenhouse for 5 minutes").
_WATER = re.compile(r"\b(?:water|watering|irrigate)\b")
#: A light asked to flash ("flash the hall light", "blink the lamp").
_FLASH = re.compile(r"\b(?:flash|blink)(?:es|ing|s)?\b")
#: A temperature said with its unit after "at" ("heat at 21°C"), not a time ("at 7").
_DEGREES = re.compile(rf"\bat\s+{_NUMBER}\s*(?:°|degrees?\b)")
_LEVEL = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent)")
#: What makes a percentage a reading's threshold ("goes over 70%"), not a level to set.
_COMPARING = re.compile(
    r"\b(?:over|above|below|under|than|exceeds?|hits|reaches|passes|drops?|falls?|rises?)"
    r"(?:\s+(?:to|below|under|above|over))?\s*$"
)
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
    (re.compile(r"\b(clean|start|send|vacuum|hoover|run|go|resume|carry on)\b"), "vacuum.start"),
)  # fmt: skip
_ALARM = (
    (re.compile(r"\bdisarm"), "alarm_control_panel.alarm_disarm"),
    (re.compile(r"\baway\b"), "alarm_control_panel.alarm_arm_away"),
    (
        re.compile(r"\b(?:night|sleep)(?: mode)?\b(?!.*\baway\b)"),
        "alarm_control_panel.alarm_arm_night",
    ),
    (
        re.compile(r"\barm(?:ed)?[ _-](?:home|stay)\b|\b(?:home|stay) mode\b|\barm\w* \w+ home\b$"),
        "alarm_control_panel.alarm_arm_home",
    ),
    (re.compile(r"\barm|\bset the alarm\b|\bsecure\b"), "alarm_control_panel.alarm_arm_away"),
    (re.compile(r"\b(trigger|sound|set off)\b"), "alarm_control_panel.alarm_trigger"),
)
_COUNTER = (
    (re.compile(r"\b(reset|zero|clear)\b"), "counter.reset"),
    (re.compile(r"\b(decrement|decrease|subtract|minus|count down)\b"), "counter.decrement"),
    (re.compile(r"\b(increment|increase|add|bump|count|plus|\+1)\b"), "counter.increment"),
)
_TIMER = (
    (re.compile(r"\b(cancel|stop|reset|clear)\b"), "timer.cancel"),
    (re.compile(r"\b(pause|hold)\b"), "timer.pause"),
    (re.compile(r"\b(finish|end)\b"), "timer.finish"),
    (re.compile(r"\b(starts?|restarts?|begins?|kick off|run|set)\b"), "timer.start"),
)
_MOWER = (
    (re.compile(r"\b(dock|return|back to (?:its )?(?:base|dock|station)|go home|"
                r"send (?:\w+ )?(?:back )?home|stop|park)\b"), "lawn_mower.dock"),
    (re.compile(r"\b(pause|hold)\b"), "lawn_mower.pause"),
    (re.compile(r"\b(mow\w*|cut|starts?|started|send|runs?|go)\b"), "lawn_mower.start_mowing"),
)  # fmt: skip
#: Operation modes a water heater is set to by name ("hot water to eco").
_HEATER_MODES = ("eco", "electric", "performance", "high_demand", "heat_pump", "gas", "off")
#: Where a light's or a fan's level goes in its turn_on action.
_LEVEL_KEY = {"light": "brightness_pct", "fan": "percentage"}


def levels_in(text: str) -> list[re.Match[str]]:
    """The percentages `text` gives as levels ("at 30%"), not as thresholds ("when the
    humidity goes over 70%")."""
    return [m for m in _LEVEL.finditer(text) if not _COMPARING.search(text[: m.start()])]


def level_in(text: str) -> re.Match[str] | None:
    """The first level `text` gives (`levels_in`); None when it gives none."""
    found = levels_in(text)
    return found[0] if found else None


def clause_naming(prompt: str, names: tuple[str, ...]) -> str | None:
    """The clause of `prompt` that says one of `names` (an entity's name or aliases)."""
    return next(iter(clauses_naming(prompt, names)), None)


def clauses_naming(prompt: str, names: tuple[str, ...]) -> list[str]:
    """The clauses of `prompt` that name an entity, best first: those that say one of its
    `names`, then those that share most of their words ("start charging" of EV Charger)."""
    clauses = CLAUSES.split(prompt)
    said = [c.casefold() for c in clauses if any(n.casefold() in c.casefold() for n in names)]
    words = {
        root(_singular(w))
        for name in names
        for w in re.findall(r"[a-z0-9]+", name.casefold())
        if len(w) > 2
    }
    words -= {"the", "and"}
    shared = [
        (len(words & {root(_singular(w)) for w in re.findall(r"[a-z0-9]+", c.casefold())}), i)
        for i, c in enumerate(clauses)
    ]
    ranked = sorted((pair for pair in shared if pair[0]), key=lambda pair: -pair[0])
    return said + [clauses[i].casefold() for _, i in ranked if clauses[i].casefold() not in said]


def root(word: str) -> str:
    """A word without the ending that makes a noun or verb of it ("charging", "charger":
    "charg"); short words as they are."""
    for ending in ("ing", "ers", "er", "ed", "es", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


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
    if service == "water_heater.set_operation_mode":
        mode = next(m for m in _HEATER_MODES if re.search(rf"\b{m.replace('_', '[ _]')}\b", clause))
        action["data"] = {"operation_mode": mode}
    if service == "timer.start":
        duration = _duration(clause)
        if duration is not None:
            action["data"] = {"duration": duration}
    if service in ("number.set_value", "input_number.set_value"):
        number = re.search(rf"\bto\s+{_NUMBER}", clause)
        if number is None:
            return None
        value = float(number.group(1))
        action["data"] = {"value": int(value) if value == int(value) else value}
    if service == "humidifier.set_humidity":
        level = level_in(clause) or re.search(rf"\bto\s+{_NUMBER}", clause)
        assert level is not None
        action["data"] = {"humidity": int(float(level.group(1)))}
    if service in ("climate.set_temperature", "water_heater.set_temperature"):
        number = re.search(rf"\bto\s+{_NUMBER}", clause) or _DEGREES.search(clause)
        if number is None:
            return None
        value = float(number.group(1))
        action["data"] = {"temperature": int(value) if value == int(value) else value}
    if domain == "light" and _FLASH.search(clause):
        action["data"] = {"flash": "long" if re.search(r"\blong\b", clause) else "short"}
        return action
    level = level_in(clause)
    # "halfway" is 50%; a level with "close" is how far, not where it stops.
    position = 50 if re.search(r"\bhalf[ -]?way\b", clause) else None
    if position is None and level is not None and service != "cover.close_cover":
        position = int(float(level.group(1)))
    if domain == "cover" and position is not None:
        action["action"] = "cover.set_cover_position"
        action["data"] = {"position": position}
    if domain in _LEVEL_KEY and level is not None and not _OFF.search(clause):
        value = float(level.group(1))
        action["action"] = f"{domain}.turn_on"
        action["data"] = {_LEVEL_KEY[domain]: int(value) if value == int(value) else value}
    return action


def _duration(clause: str) -> str | None:
    """A timer's duration ("for 45 minutes") as HH:MM:SS; None when the clause says none."""
    found = re.search(
        r"\b(?:for|of)\s+(\d+)\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)\b", clause
    )
    if found is None:
        return None
    seconds = int(found.group(1)) * {"s": 1, "m": 60, "h": 3600}[found.group(2)[0]]
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


#: A domain whose actions are all its own, each by the words that ask it.
_OWN_SERVICES = {
    "alarm_control_panel": _ALARM,
    "counter": _COUNTER,
    "timer": _TIMER,
    "lawn_mower": _MOWER,
}


def _service(domain: str, clause: str) -> str | None:
    if domain in ("button", "input_button"):
        return f"{domain}.press"
    if domain in _OWN_SERVICES:
        return next((s for pattern, s in _OWN_SERVICES[domain] if pattern.search(clause)), None)
    if domain == "water_heater":
        if any(re.search(rf"\b{m.replace('_', '[ _]')}\b", clause) for m in _HEATER_MODES[:-1]):
            return "water_heater.set_operation_mode"
        if re.search(rf"\bto\s+{_NUMBER}", clause):
            return "water_heater.set_temperature"
    if domain in ("number", "input_number"):
        return f"{domain}.set_value" if re.search(rf"\bto\s+{_NUMBER}", clause) else None
    if domain == "humidifier" and (
        level_in(clause) and re.search(r"\b(set|to)\b", clause) and not _OFF.search(clause)
    ):
        return "humidifier.set_humidity"
    if domain == "media_player":
        service = next((s for pattern, s in _MEDIA if pattern.search(clause)), None)
        if service is not None:
            return service
    if domain == "vacuum":
        for pattern, service in _VACUUM:
            if pattern.search(clause):
                return service
    if domain == "climate" and (re.search(rf"\bto\s+{_NUMBER}", clause) or _DEGREES.search(clause)):
        return "climate.set_temperature"
    if domain == "lock":
        # The first verb is the one asked ("lock it again 5 min after it's unlocked").
        unlock = re.search(r"\bunlock|\bopen\b", clause)
        lock = re.search(r"(?<!un)\block|\bsecure\b", clause)
        if unlock is not None and (lock is None or unlock.start() < lock.start()):
            return "lock.unlock"
        return "lock.lock" if lock is not None else None
    if domain == "siren" and re.search(r"\b(sound|sounds|blare|wail|trigger)\b", clause):
        return "siren.turn_on"
    if domain in ("cover", "valve"):
        # An awning opens as it extends and closes as it retracts.
        if re.search(r"\b(open|opened|raise|up|extend|deploy|roll out)\b", clause):
            return f"{domain}.open_{domain}"
        if re.search(r"\b(close|closed|shut|lower|down|retract|roll in)\b", clause):
            return f"{domain}.close_{domain}"
        # A valve is turned on and off as often as it is opened and closed, and waters.
        if domain == "valve" and _OFF.search(clause):
            return "valve.close_valve"
        opens = _ON.search(clause) or _WATER.search(clause)
        return "valve.open_valve" if domain == "valve" and opens else None
    if domain in ("scene", "script"):
        return f"{domain}.turn_on"
    if domain == "light" and _FLASH.search(clause):
        return "light.turn_on"
    if domain in _LEVEL_KEY and level_in(clause) and not _OFF.search(clause):
        return f"{domain}.turn_on"
    if re.search(r"\btoggle\b", clause):
        return "homeassistant.toggle"
    if _OFF.search(clause):
        return "homeassistant.turn_off"
    if _ON.search(clause):
        return "homeassistant.turn_on"
    return None
