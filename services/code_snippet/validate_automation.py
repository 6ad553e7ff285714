"""A Home Assistant automation checked against the home: it parses, has triggers and
actions of kinds Home Assistant knows, names only the home's entities and areas, and calls
only real actions, each on entities of its own domain. Current syntax (`triggers:` with
`trigger: state`, `actions:` with `action: light.turn_on`) and the legacy one (`trigger:`
with `platform: state`, `action:` with `service:`) are both read."""

from __future__ import annotations

from typing import Any

from slm_mesh.services.code_snippet.ha_services import (
    ANY_DOMAIN,
    CONDITIONS,
    SERVICES,
    STEP_KINDS,
    TRIGGERS,
    Needs,
    is_service,
)
from slm_mesh.services.code_snippet.snippet_yaml import load_yaml
from slm_mesh.services.home.model import Home

#: Top-level key of each part: (current, legacy).
_PARTS = {"triggers": ("triggers", "trigger"), "conditions": ("conditions", "condition"),
          "actions": ("actions", "action")}  # fmt: skip
#: `entity_id` values that name no entity: every one of the domain, or none.
_ALL_OR_NONE = frozenset({"all", "none"})


def automation_problems(code: str, home: Home) -> list[str]:
    data, unreadable = load_yaml(code)
    if unreadable is not None:
        return [unreadable]
    automations = data if isinstance(data, list) else [data]
    if not automations:
        return ["the snippet is an empty list, not an automation"]
    checker = _Checker(home)
    for index, automation in enumerate(automations):
        checker.automation(f"automations[{index}]" if len(automations) > 1 else "", automation)
    return checker.problems


def _is_template(value: str) -> bool:
    return "{{" in value or "{%" in value


def _as_list(value: Any) -> list[Any]:
    """Home Assistant takes one item where it takes a list of them."""
    return value if isinstance(value, list) else [value]


def _missing(item: dict[Any, Any], needs: Needs) -> list[str]:
    return [
        " or ".join(f"`{k}`" for k in keys) for keys in needs if not any(k in item for k in keys)
    ]


class _Checker:
    """Walks an automation, collecting each problem with where it is."""

    def __init__(self, home: Home) -> None:
        self.entity_domains = {entity.id: entity.domain for entity in home.entities}
        self.area_ids = {area.id for area in home.areas}
        self.floor_ids = {floor.id for floor in home.floors}
        self.problems: list[str] = []

    def add(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}" if where else problem)

    def automation(self, where: str, data: Any) -> None:
        if not isinstance(data, dict):
            self.add(where, "an automation is a mapping with `triggers:` and `actions:`")
            return
        parts = {}
        for part, keys in _PARTS.items():
            found = [key for key in keys if key in data]
            if len(found) > 1:
                both = f"`{found[0]}:` and `{found[1]}:`"
                self.add(where, f"the automation has both {both}; keep `{part}:`")
            parts[part] = data.get(found[0]) if found else None
        here = f"{where}." if where else ""
        for part in ("triggers", "actions"):
            if not parts[part]:
                self.add(where, f"the automation has no {part}; it needs at least one")
        for index, item in enumerate(_as_list(parts["triggers"] or [])):
            self.trigger(f"{here}triggers[{index}]", item)
        self.conditions(f"{here}conditions", parts["conditions"])
        self.actions(f"{here}actions", parts["actions"])

    def trigger(self, where: str, item: Any) -> None:
        if not isinstance(item, dict):
            self.add(where, "a trigger is a mapping with `trigger:` and its options")
            return
        kind = item.get("trigger", item.get("platform"))
        if kind is None:
            self.add(where, "has no `trigger:` type (state, numeric_state, time, sun, ...)")
        elif not isinstance(kind, str) or kind not in TRIGGERS:
            self.add(where, f"{kind!r:.40} is not a trigger type Home Assistant knows")
        else:
            for keys in _missing(item, TRIGGERS[kind]):
                self.add(where, f"a {kind} trigger needs {keys}")
        self.entities(where, item.get("entity_id"))

    def conditions(self, where: str, value: Any) -> None:
        if value is None:
            return
        for index, item in enumerate(_as_list(value)):
            self.condition(f"{where}[{index}]", item)

    def condition(self, where: str, item: Any) -> None:
        if isinstance(item, str) and _is_template(item):
            return  # a template condition, written as its template alone
        if not isinstance(item, dict):
            self.add(where, "a condition is a mapping with `condition:` and its options")
            return
        shorthand = next((key for key in ("and", "or", "not") if key in item), None)
        if shorthand is not None and "condition" not in item:
            self.conditions(f"{where}.{shorthand}", item[shorthand])
            return
        kind = item.get("condition")
        if kind is None:
            self.add(where, "has no `condition:` type (state, numeric_state, time, sun, ...)")
            return
        if not isinstance(kind, str) or kind not in CONDITIONS:
            self.add(where, f"{kind!r:.40} is not a condition type Home Assistant knows")
            return
        for keys in _missing(item, CONDITIONS[kind]):
            self.add(where, f"a {kind} condition needs {keys}")
        self.entities(where, item.get("entity_id"))
        if kind in ("and", "or", "not"):
            self.conditions(f"{where}.conditions", item.get("conditions"))

    def actions(self, where: str, value: Any) -> None:
        if value is None:
            return
        for index, item in enumerate(_as_list(value)):
            self.action(f"{where}[{index}]", item)

    def action(self, where: str, item: Any) -> None:
        if not isinstance(item, dict):
            self.add(where, "an action is a mapping such as `action: light.turn_on`")
            return
        service = item.get("action", item.get("service"))
        if service is not None:
            self.service_call(where, item, service)
            return
        kind = next((key for key in item if key in STEP_KINDS), None)
        if kind is None:
            keys = ", ".join(f"`{key}`" for key in list(item)[:5])
            self.add(where, f"is not an action Home Assistant knows (it has {keys or 'no keys'})")
        else:
            self.step(where, kind, item)

    def step(self, where: str, kind: str, item: dict[Any, Any]) -> None:
        """The steps that hold triggers, conditions or more actions; the rest (delay,
        event, variables, stop, ...) name nothing of the home."""
        value = item[kind]
        if kind == "condition":
            self.condition(where, item)
        elif kind == "scene":
            self.entities(f"{where}.scene", value, acting="scene")
        elif kind == "wait_for_trigger":
            for index, trigger in enumerate(_as_list(value)):
                self.trigger(f"{where}.wait_for_trigger[{index}]", trigger)
        elif kind in ("sequence", "parallel"):
            self.actions(f"{where}.{kind}", value)
        elif kind == "if":
            self.conditions(f"{where}.if", value)
            self.actions(f"{where}.then", item.get("then"))
            self.actions(f"{where}.else", item.get("else"))
        elif kind == "choose":
            for index, option in enumerate(_as_list(value)):
                if isinstance(option, dict):
                    here = f"{where}.choose[{index}]"
                    self.conditions(f"{here}.conditions", option.get("conditions"))
                    self.actions(f"{here}.sequence", option.get("sequence"))
            self.actions(f"{where}.default", item.get("default"))
        elif kind == "repeat" and isinstance(value, dict):
            self.conditions(f"{where}.repeat.while", value.get("while"))
            self.conditions(f"{where}.repeat.until", value.get("until"))
            self.actions(f"{where}.repeat.sequence", value.get("sequence"))

    def service_call(self, where: str, item: dict[Any, Any], service: Any) -> None:
        if not isinstance(service, str) or not service.strip():
            self.add(where, "the action must name a service, such as light.turn_on")
            return
        if _is_template(service):
            return  # chosen when it runs
        domain, _, name = service.strip().partition(".")
        known = is_service(domain, name) or (
            domain == "script" and self.entity_domains.get(service.strip()) == "script"
        )
        if not known:
            self.add(where, _unknown_service(service.strip(), domain))
        target = item.get("target")
        data = item.get("data")
        acting = domain if known and domain != ANY_DOMAIN else None
        for holder in (item, target, data):
            if isinstance(holder, dict):
                self.entities(where, holder.get("entity_id"), acting=acting, action=service)
        if isinstance(target, dict):
            self.places(where, target.get("area_id"), self.area_ids, "area")
            self.places(where, target.get("floor_id"), self.floor_ids, "floor")

    def entities(
        self, where: str, value: Any, *, acting: str | None = None, action: str = ""
    ) -> None:
        """Each entity id in `value` must be in the home; with `acting`, of that domain."""
        for entity_id in self.ids(where, value, "entity_id"):
            domain = self.entity_domains.get(entity_id)
            if domain is None:
                self.add(where, f"{entity_id} is not in the home")
            elif acting is not None and domain != acting:
                what = action or acting
                self.add(where, f"{what} cannot act on {entity_id} (a {domain}, not a {acting})")

    def places(self, where: str, value: Any, known: set[str], kind: str) -> None:
        for place in self.ids(where, value, f"{kind}_id"):
            if place not in known:
                self.add(where, f"{kind} {place!r} is not in the home")

    def ids(self, where: str, value: Any, key: str) -> list[str]:
        """The ids that `value` names: one, a comma-separated string, or a list; templates
        (filled when it runs) and `all`/`none` name none."""
        if value is None:
            return []
        found: list[str] = []
        for item in _as_list(value):
            if not isinstance(item, str):
                self.add(where, f"`{key}` must be text or a list of text, not {item!r:.40}")
            elif not _is_template(item):
                found.extend(part.strip() for part in item.split(",") if part.strip())
        return [one for one in found if one not in _ALL_OR_NONE]


def _unknown_service(service: str, domain: str) -> str:
    if domain == "script":
        return f"{service} is not in the home (a script is one of the home's entities)"
    names = SERVICES.get(domain)
    if names is None:
        return f"{service} is not a Home Assistant action ({domain!r} is not a domain it knows)"
    listed = ", ".join(f"{domain}.{name}" for name in sorted(names))
    return f"{service} is not a {domain} action; {domain} has {listed}"
