"""What a request asks of an automation beyond its library snippet: the conditions it
names ("only between 11pm and 6am", "on weekdays", "after dark", "if nobody is home") are
added to the filled snippet, unless it already has one of that kind. Pure.

A snippet is one trigger and its actions; the conditions people put around them vary
without end, and a template for each combination would not be a library anyone could keep.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import yaml

from slm_mesh.services.code_snippet.actions import action_for, clause_naming
from slm_mesh.services.code_snippet.compose import (
    action_targets,
    asks_notification,
    notification,
    verb_domains,
)
from slm_mesh.services.code_snippet.request_values import clock_times
from slm_mesh.services.code_snippet.snippet_yaml import load_yaml
from slm_mesh.services.code_snippet.state_conditions import state_conditions
from slm_mesh.services.code_snippet.trigger_kind import (
    BOUND,
    WINDOW,
    directions,
    schedule_window,
)
from slm_mesh.services.home.model import Home

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_WORDS = {
    "monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu", "friday": "fri",
    "saturday": "sat", "sunday": "sun",
}  # fmt: skip
_DARK = re.compile(r"\b(after dark|after sunset|when it'?s dark|while it'?s dark|"
                   r"once it'?s dark|sun is down|sun'?s down)\b", re.IGNORECASE)  # fmt: skip
_SUN_EVENT = {"sunset": "sunset", "dusk": "sunset", "sunrise": "sunrise", "dawn": "sunrise"}
_SUN_WINDOW = re.compile(
    r"\b(?:between|from)\s+(sunset|dusk|sunrise|dawn)\s+(?:and|to|until|till)\s+"
    r"(?:\d{1,2}(?::\d{2})?\s*(?:am|pm)?|midnight)",
    re.IGNORECASE,
)
_SUN_OFFSET = re.compile(
    r"\b(\d+)\s*(minutes?|mins?|hours?|hrs?)\s+(before|after)\s+(sunset|dusk|sunrise|dawn)\b",
    re.IGNORECASE,
)
_NOBODY_HOME = re.compile(
    r"\b(nobody|no one|noone|neither .+? nor .+?) (?:is |are )?(?:at )?home\b"
    r"|\bnobody'?s home\b|\beveryone(?: is|'s)? (?:out|away)\b",
    re.IGNORECASE,
)


def refine_automation(code: str, prompt: str, home: Home, *, mentioned: Sequence[str] = ()) -> str:
    """`code` (a filled automation) with what `prompt` asks beyond it: the conditions it
    names; a binary sensor it names (`mentioned`) that the snippet does not use, as a
    condition ("while I'm in there"); any other entity it names and the snippet does not
    use, with the action its clause asks ("and open the driveway gate"), else switched with
    the snippet's own target."""
    data, unreadable = load_yaml(code)
    if unreadable is not None or not isinstance(data, dict):
        return code
    conditions = list(_as_list(data.get("conditions", data.get("condition"))))
    added = _conditions(prompt, data, conditions, home)
    held = [(e.id, state) for e, state in state_conditions(prompt, home) if e.id not in code]
    added += [{"condition": "state", "entity_id": e, "state": state} for e, state in held]
    mentioned = [e for e in mentioned if e not in dict(held)]
    names = {e.id: (e.name, *e.aliases) for e in home.entities}
    unless = re.search(r"\b(unless|except when|but not when|if nobody|if no one)\b", prompt, re.I)
    added += [
        {"condition": "state", "entity_id": entity_id, "state": "off" if unless else "on"}
        for entity_id in mentioned
        if entity_id.startswith("binary_sensor.")
        and entity_id not in code
        and not _asks_other_device(prompt, names.get(entity_id, ()))
    ]
    added += [
        condition
        for entity_id in mentioned
        if entity_id.startswith("sensor.") and entity_id not in code
        for condition in [_threshold(prompt, entity_id, names.get(entity_id, ()))]
        if condition is not None
    ]
    entities = {e.id: e for e in home.entities}
    named = [entities[e] for e in mentioned if e in entities]
    in_code = set(re.findall(r"\b[a-z_]+\.[a-z0-9_]+\b", code)) & set(entities)
    targets = action_targets(prompt, home, named, set(), in_code)
    own, also = _own_actions(prompt, [e.id for e in targets], home)
    targeted = _also_targeted(data, [e for e in also if e.split(".")[0] in SWITCHABLE])
    if own:
        _insert_actions(data, own)
    placed = _all_in_places(data, prompt, home)
    leveled = _levels(data, prompt, names)
    shifted = _sun_offset(data, prompt)
    told = asks_notification(prompt) and "notif" not in code
    if told:
        _insert_actions(data, [notification(prompt)], after_switching=False)
    if not any((added, targeted, own, leveled, told, shifted, placed)):
        return code
    if added:
        data.pop("condition", None)
        data["conditions"] = conditions + added
    return _dump(data)


_COMPARED = re.compile(
    r"\b(above|over|more than|greater than|higher than|exceeds?|hotter than|warmer than|"
    r"below|under|less than|lower than|colder than|cooler than)\s+(-?\d+(?:\.\d+)?)"
)


def _threshold(prompt: str, entity_id: str, names: tuple[str, ...]) -> dict[str, Any] | None:
    """A sensor the request compares with a number ("if the office co2 is above 900") that
    the snippet does not use, as a numeric condition; None when its clause compares none."""
    clause = clause_naming(prompt, names) if names else None
    compared = _COMPARED.search(clause) if clause is not None else None
    if compared is None:
        return None
    value = float(compared.group(2))
    side = "below" if "below" in directions(compared.group(1)) else "above"
    number = int(value) if value == int(value) else value
    return {"condition": "numeric_state", "entity_id": entity_id, side: number}


def _asks_other_device(prompt: str, names: tuple[str, ...]) -> bool:
    """Whether the clause naming a sensor asks an action of another domain ("unlock the
    front door" names the Front Door contact too): the request means that device, and
    the sensor is no condition."""
    clause = clause_naming(prompt, names) if names else None
    return clause is not None and verb_domains(clause) is not None


def _levels(data: dict[str, Any], prompt: str, names: dict[str, tuple[str, ...]]) -> bool:
    """The level the request gives a light or fan the snippet turns on ("ceiling fan on at
    33 percent"), or the temperature it gives a thermostat ("heating up to 21"), put in
    that action; True when any was."""
    changed = False
    for action in _steps(data.get("actions", data.get("action"))):
        name = action.get("action", action.get("service"))
        target = action.get("target")
        if not isinstance(name, str) or not name.endswith(".turn_on") or "data" in action:
            continue
        entity_id = target.get("entity_id") if isinstance(target, dict) else None
        if not isinstance(entity_id, str) or entity_id not in names:
            continue
        clause = clause_naming(prompt, names[entity_id])
        leveled = action_for(entity_id, clause) if clause is not None else None
        if leveled is not None and "data" in leveled:
            action["action"] = leveled["action"]
            action["data"] = leveled["data"]
            changed = True
    return changed


def _all_in_places(data: dict[str, Any], prompt: str, home: Home) -> bool:
    """An action on every entity of a domain (`entity_id: all`) narrowed to those in the
    areas or on the floors the request names ("all the downstairs lights"); True when any
    was."""
    said = f" {' '.join(re.findall(r'[a-z0-9]+', prompt.casefold()))} "
    floors = {f.id for f in home.floors if _says(said, (f.name, *f.aliases))}
    areas = {a.id for a in home.areas if _says(said, (a.name, *a.aliases)) or a.floor_id in floors}
    changed = False
    for action in _steps(data.get("actions", data.get("action"))):
        target = action.get("target")
        name = action.get("action", action.get("service"))
        if not areas or not isinstance(target, dict) or target.get("entity_id") != "all":
            continue
        domain = str(name).partition(".")[0]
        ids = [e.id for e in home.entities if e.domain == domain and e.area_id in areas]
        if ids:
            target["entity_id"] = ids
            changed = True
    return changed


def _says(said: str, names: Sequence[str]) -> bool:
    return any(f" {' '.join(re.findall(r'[a-z0-9]+', n.casefold()))} " in said for n in names)


def _sun_offset(data: dict[str, Any], prompt: str) -> bool:
    """The offset the request gives a sun trigger that has none ("15 minutes after
    sunset"); True when one was put in."""
    said = _SUN_OFFSET.search(prompt)
    if said is None:
        return False
    count, unit, side, event = said.groups()
    unit = "hours" if unit.casefold().startswith("h") else "minutes"
    for trigger in _as_list(data.get("triggers", data.get("trigger"))):
        is_sun = isinstance(trigger, dict) and trigger.get("trigger", trigger.get("platform"))
        if is_sun == "sun" and trigger.get("event") == _SUN_EVENT[event.casefold()]:
            if "offset" in trigger:
                return False
            sign = -1 if side.casefold() == "before" else 1
            trigger["offset"] = {unit: sign * int(count)}
            return True
    return False


def _steps(value: Any) -> list[dict[str, Any]]:
    """Every action step, those inside `if`/`then`/`else`, `choose` and `sequence` too."""
    found: list[dict[str, Any]] = []
    for step in _as_list(value):
        if not isinstance(step, dict):
            continue
        found.append(step)
        for key in ("then", "else", "sequence", "default"):
            found += _steps(step.get(key))
        for option in _as_list(step.get("choose")):
            if isinstance(option, dict):
                found += _steps(option.get("sequence"))
    return found


_SOMEONE_HOME = re.compile(
    r"\b(?:someone|somebody|anyone|anybody|one of us)(?:'s| is| are)? (?:at )?home\b",
    re.IGNORECASE,
)


def _mentions_people(conditions: list[Any]) -> bool:
    """Whether a condition already says who is home."""
    return "person." in str(conditions)


def _conditions(
    prompt: str, data: dict[str, Any], present: list[Any], home: Home
) -> list[dict[str, Any]]:
    kinds = {c.get("condition") for c in present if isinstance(c, dict)}
    triggers = [
        t for t in _as_list(data.get("triggers", data.get("trigger"))) if isinstance(t, dict)
    ]
    trigger_kinds = {t.get("trigger", t.get("platform")) for t in triggers}
    added: list[dict[str, Any]] = []
    window = _window(prompt)
    if window is not None and "time" not in kinds and not schedule_window(prompt):
        after, before = window
        added.append({"condition": "time", "after": after, "before": before})
    elif "time" not in kinds and "time" not in trigger_kinds:
        bound = BOUND.search(prompt)
        times = clock_times(bound.group(0).casefold()) if bound is not None else []
        if bound is not None and times:
            side = "after" if bound.group(1).casefold() in ("after", "from", "past") else "before"
            added.append({"condition": "time", side: times[0]})
    days = weekdays(prompt)
    if days and not any("weekday" in c for c in present if isinstance(c, dict)):
        merged = next((c for c in added if c["condition"] == "time"), None)
        if merged is not None:
            merged["weekday"] = days
        else:
            added.append({"condition": "time", "weekday": days})
    sun_window = _SUN_WINDOW.search(prompt)
    if sun_window is not None and "sun" not in kinds and "sun" not in trigger_kinds:
        # "between sunset and 11pm": after the sun event, before the time.
        event = _SUN_EVENT[sun_window.group(1).casefold()]
        times = clock_times(sun_window.group(0).casefold())
        added.append({"condition": "sun", "after": event})
        if times and "time" not in kinds:
            added.append({"condition": "time", "before": times[0]})
    elif _DARK.search(prompt) and "sun" not in kinds and "sun" not in trigger_kinds:
        added.append({"condition": "sun", "after": "sunset", "before": "sunrise"})
    people = [e.id for e in home.entities if e.domain == "person"]
    if _SOMEONE_HOME.search(prompt) and people and not _mentions_people(present):
        added.append(
            {
                "condition": "or",
                "conditions": [
                    {"condition": "state", "entity_id": p, "state": "home"} for p in people
                ],
            }
        )
    if _NOBODY_HOME.search(prompt) and not any(
        c.get("entity_id", "").startswith("person.")
        for c in present
        if isinstance(c, dict) and isinstance(c.get("entity_id"), str)
    ):
        people = [e.id for e in home.entities if e.domain == "person"]
        if people:
            added.append({"condition": "state", "entity_id": people, "state": "not_home"})
    return added


#: Domains `homeassistant.turn_on/turn_off/toggle` switch, whatever their own actions.
SWITCHABLE = frozenset({
    "light", "switch", "fan", "cover", "media_player", "scene", "script", "input_boolean",
    "humidifier", "water_heater", "siren", "climate", "valve",
})  # fmt: skip
_VERBS = ("turn_on", "turn_off", "toggle")


def _own_actions(
    prompt: str, entity_ids: Sequence[str], home: Home
) -> tuple[list[dict[str, Any]], list[str]]:
    """The actions the request asks of these entities in their own words, and the entities
    it asks nothing this can read of (they follow the snippet's own action)."""
    names = {e.id: (e.name, *e.aliases) for e in home.entities}
    own, rest = [], []
    for entity_id in entity_ids:
        clause = clause_naming(prompt, names.get(entity_id, ()))
        action = action_for(entity_id, clause) if clause is not None else None
        if action is None:
            rest.append(entity_id)
        else:
            own.append(action)
    return own, rest


def _insert_actions(
    data: dict[str, Any], extra: list[dict[str, Any]], *, after_switching: bool = True
) -> None:
    """After the snippet's first action that switches something (before any delay that
    follows it), else (or when not `after_switching`) at the end."""
    key = "actions" if "actions" in data else "action"
    actions = _as_list(data.get(key))
    switching = (i for i, a in enumerate(actions) if isinstance(a, dict) and _switching(a))
    first = next(switching, None) if after_switching else None
    at = len(actions) if first is None else first + 1
    data[key] = [*actions[:at], *extra, *actions[at:]]


def _also_targeted(data: dict[str, Any], also: list[str]) -> bool:
    """Entities the request names beside the snippet's own ("switch off the telly and the
    bias light") are switched with its first target, by Home Assistant's generic action,
    after each action that switches that target. True when any were added."""
    key = "actions" if "actions" in data else "action"
    actions = _as_list(data.get(key))
    first = next((a for a in actions if isinstance(a, dict) and _switching(a)), None)
    if not also or first is None:
        return False
    target = _as_list(first["target"]["entity_id"])
    steps: list[Any] = []
    for action in actions:
        steps.append(action)
        if _switching(action) and _as_list(action["target"]["entity_id"]) == target:
            verb = str(action.get("action", action.get("service"))).partition(".")[2]
            steps.append({"action": f"homeassistant.{verb}", "target": {"entity_id": [*also]}})
    data[key] = steps
    return True


def _switching(action: dict[str, Any]) -> bool:
    """An action that turns its targets on or off (or toggles them), by entity id."""
    name = action.get("action", action.get("service"))
    target = action.get("target")
    return (
        isinstance(name, str)
        and name.partition(".")[2] in _VERBS
        and isinstance(target, dict)
        and "entity_id" in target
    )


def weekdays(prompt: str) -> list[str]:
    """The days a request names: "weekdays", "weekends", "Mondays and Fridays"."""
    said = prompt.casefold()
    if re.search(r"\bweek ?days?\b|\bmonday to friday\b|\bmon-fri\b", said):
        return list(_DAYS[:5])
    if re.search(r"\bweek ?ends?\b", said):
        return ["sat", "sun"]
    named = [short for word, short in _DAY_WORDS.items() if re.search(rf"\b{word}s?\b", said)]
    # Days written short ("on sat and sun"): "sun" and "wed" are other words too, so only
    # after "on" or "every", or two of them together.
    short = re.findall(r"\b(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)s?\b", said)
    led = re.search(r"\b(?:on|every)\s+(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)s?\b", said)
    if led is not None or len(set(short)) > 1:
        named += [day[:3] for day in short if day[:3] not in named]
    return sorted(named, key=_DAYS.index)


def _window(prompt: str) -> tuple[str, str] | None:
    """The times of "between 11pm and 6am" (not of "between 5 and 10": that may be
    anything)."""
    match = WINDOW.search(prompt)
    times = clock_times(match.group(0).casefold()) if match is not None else []
    return (times[0], times[1]) if len(times) == 2 else None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class _Dumper(yaml.SafeDumper):
    """Every value written out where it stands: Home Assistant reads anchors and aliases,
    but a snippet is for people to read and change."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
