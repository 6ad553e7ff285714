"""What a request asks of an automation beyond its library snippet: the conditions it
names ("only between 11pm and 6am", "on weekdays", "after dark", "if nobody is home":
`request_conditions`; "while the AC is on": `state_conditions`) are added to the filled
snippet, unless it already has one of that kind. Pure.

A snippet is one trigger and its actions; the conditions people put around them vary
without end, and a template for each combination would not be a library anyone could keep.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import yaml

from slm_mesh.services.code_snippet.actions import action_for, clause_naming, clauses_naming
from slm_mesh.services.code_snippet.clause_steps import split_by_clause
from slm_mesh.services.code_snippet.compose import (
    action_targets,
    asks_notification,
    notification,
    verb_domains,
)
from slm_mesh.services.code_snippet.domain_actions import own_domain_actions
from slm_mesh.services.code_snippet.payload_choices import by_payload
from slm_mesh.services.code_snippet.request_conditions import SUN_EVENTS, asked_conditions
from slm_mesh.services.code_snippet.snippet_yaml import load_yaml
from slm_mesh.services.code_snippet.state_choices import by_state
from slm_mesh.services.code_snippet.state_conditions import state_conditions, without_conditions
from slm_mesh.services.code_snippet.trigger_kind import SUN_OFFSET, directions
from slm_mesh.services.home.model import Home
from slm_mesh.services.language.numbers import normalize


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
    triggers = _as_list(data.get("triggers", data.get("trigger")))
    added = asked_conditions(prompt, triggers, conditions, home)
    # A state its trigger watches is no condition; one its actions change may be ("while
    # the AC is on -> turn the AC off").
    watched = str(data.get("triggers", data.get("trigger"))) + str(conditions)
    held = [(e.id, state) for e, state in state_conditions(prompt, home) if e.id not in watched]
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
    sensors = [e for e in mentioned if e.startswith("sensor.") and e not in code]
    # The one sensor beside a snippet that compares no reading: the request's one
    # comparison is of it ("every 15 minutes check the greenhouse, if it's under 3°C").
    alone = len(sensors) == 1 and "numeric_state" not in code
    added += [
        condition
        for entity_id in sensors
        for condition in [_threshold(prompt, entity_id, names.get(entity_id, ()), alone=alone)]
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
    top = data.get("actions", data.get("action"))
    split = isinstance(top, list) and split_by_clause(top, prompt, names)
    owned = own_domain_actions(_steps(top))
    chosen = by_payload(data, prompt, home) or by_state(data, prompt)
    told = asks_notification(prompt) and "notif" not in code
    if told:
        _insert_actions(data, [notification(prompt)], after_switching=False)
    if not any((added, targeted, own, leveled, told, shifted, placed, split, owned, chosen)):
        return code
    if added:
        data.pop("condition", None)
        data["conditions"] = conditions + added
    return _dump(data)


_COMPARED = re.compile(
    r"\b(above|over|more than|greater than|higher than|exceeds?|hotter than|warmer than|"
    r"below|under|less than|lower than|colder than|cooler than)\s+(-?\d+(?:\.\d+)?)"
)


def _threshold(
    prompt: str, entity_id: str, names: tuple[str, ...], *, alone: bool = False
) -> dict[str, Any] | None:
    """A sensor the request compares with a number ("if the office co2 is above 900") that
    the snippet does not use, as a numeric condition; None when its clause compares none
    and, when it is the request's only sensor (`alone`), the request does not compare
    exactly one number."""
    clause = clause_naming(prompt, names) if names else None
    compared = _COMPARED.search(clause) if clause is not None else None
    if compared is None and alone:
        each = list(_COMPARED.finditer(normalize(prompt.casefold())))
        compared = each[0] if len(each) == 1 else None
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
    said = SUN_OFFSET.search(prompt)
    if said is None:
        return False
    side, event = said.group("side"), said.group("event")
    unit, count = _offset(said.group("count").casefold())
    for trigger in _as_list(data.get("triggers", data.get("trigger"))):
        is_sun = isinstance(trigger, dict) and trigger.get("trigger", trigger.get("platform"))
        if is_sun == "sun" and trigger.get("event") == SUN_EVENTS[event.casefold()]:
            if "offset" in trigger:
                return False
            sign = -1 if side.casefold() == "before" else 1
            trigger["offset"] = {unit: sign * count}
            return True
    return False


def _offset(said: str) -> tuple[str, int]:
    """An offset's unit and count: "45 min" (minutes, 45), "half an hour" (minutes, 30)."""
    if "half" in said or "quarter" in said:
        return "minutes", 30 if "half" in said else 15
    said = normalize(said)
    count = re.match(r"\d+", said)
    unit = "minutes" if re.search(r"\d\s*m", said) else "hours"
    return unit, int(count.group(0)) if count is not None else 1


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
        # The first clause naming it that asks it something ("NFC sticker by the front door
        # ... unlock the door": the second).
        clauses = clauses_naming(prompt, names.get(entity_id, ()))
        asked = (action_for(entity_id, without_conditions(clause)) for clause in clauses)
        action = next((a for a in asked if a is not None), None)
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
