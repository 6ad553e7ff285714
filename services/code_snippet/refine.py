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
from slm_mesh.services.code_snippet.fill import clock_times
from slm_mesh.services.code_snippet.snippet_yaml import load_yaml
from slm_mesh.services.home.model import Home

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_WORDS = {
    "monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu", "friday": "fri",
    "saturday": "sat", "sunday": "sun",
}  # fmt: skip
_CLOCK = r"\d{1,2}(?::\d{2})?\s*(?:am|pm)?"
_WINDOW = re.compile(
    rf"\b(?:between|from)\s+{_CLOCK}\s+(?:and|to|until|till|-)\s+{_CLOCK}", re.IGNORECASE
)
_BOUND = re.compile(rf"\b(after|from|past|before|until|till)\s+{_CLOCK}", re.IGNORECASE)
_DARK = re.compile(r"\b(after dark|after sunset|when it'?s dark|while it'?s dark|"
                   r"once it'?s dark|sun is down|sun'?s down)\b", re.IGNORECASE)  # fmt: skip
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
    unless = re.search(r"\b(unless|except when|but not when|if nobody|if no one)\b", prompt, re.I)
    added += [
        {"condition": "state", "entity_id": entity_id, "state": "off" if unless else "on"}
        for entity_id in mentioned
        if entity_id.startswith("binary_sensor.") and entity_id not in code
    ]
    unused = [e for e in mentioned if e.split(".")[0] in ACTIONABLE and e not in code]
    own, also = _own_actions(prompt, unused, home)
    targeted = _also_targeted(data, [e for e in also if e.split(".")[0] in SWITCHABLE])
    if own:
        _insert_actions(data, own)
    if not added and not targeted and not own:
        return code
    if added:
        data.pop("condition", None)
        data["conditions"] = conditions + added
    return _dump(data)


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
    if window is not None and "time" not in kinds:
        after, before = window
        added.append({"condition": "time", "after": after, "before": before})
    elif "time" not in kinds and "time" not in trigger_kinds:
        bound = _BOUND.search(prompt)
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
    if _DARK.search(prompt) and "sun" not in kinds and "sun" not in trigger_kinds:
        added.append({"condition": "sun", "after": "sunset", "before": "sunrise"})
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


#: Domains a request may ask something of ("open the gate", "send the vacuum off").
ACTIONABLE = SWITCHABLE | {"lock", "vacuum", "cover", "valve", "climate", "scene", "script"}


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


def _insert_actions(data: dict[str, Any], extra: list[dict[str, Any]]) -> None:
    """After the snippet's first action that switches something (before any delay that
    follows it), else at the end."""
    key = "actions" if "actions" in data else "action"
    actions = _as_list(data.get(key))
    first = next((i for i, a in enumerate(actions) if isinstance(a, dict) and _switching(a)), None)
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
    return sorted(named, key=_DAYS.index)


def _window(prompt: str) -> tuple[str, str] | None:
    """The times of "between 11pm and 6am" (not of "between 5 and 10": that may be
    anything)."""
    match = _WINDOW.search(prompt)
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
