"""One switching step of several devices split into a step for each, where the request asks
each something else: "make sure the water main is open and the fill valve is closed", "welcome
scene, heat pump to 21°C". Pure.

A snippet that turns "it" on fills its one device parameter with every device the request
names; what the request asks of each is in the clause that names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slm_mesh.services.code_snippet.actions import action_for, clause_naming

#: What a snippet's switching step does, before it is told apart device by device.
_SWITCHING = frozenset({"turn_on", "turn_off", "toggle"})


def split_by_clause(steps: list[Any], prompt: str, names: Mapping[str, tuple[str, ...]]) -> bool:
    """Each top-level step of `steps` that switches several devices, and is the only step
    that acts on them, replaced by one step for each device with the action its clause asks
    (the step's own where its clause asks none, or only switching); True when any was."""
    changed = False
    for index in reversed(range(len(steps))):
        step = steps[index]
        ids = _targets(step)
        if len(ids) < 2 or sum(_targets(other) == ids for other in steps) > 1:
            continue
        asked = [_asked(entity_id, prompt, names) for entity_id in ids]
        if all(a is None for a in asked):
            continue
        steps[index : index + 1] = [
            a if a is not None else {**step, "target": {"entity_id": entity_id}}
            for entity_id, a in zip(ids, asked, strict=True)
        ]
        changed = True
    return changed


def _targets(step: Any) -> list[str]:
    """The devices a data-less switching step acts on; none for any other step."""
    if not isinstance(step, dict) or "data" in step or not isinstance(step.get("target"), dict):
        return []
    if str(step.get("action", step.get("service", ""))).partition(".")[2] not in _SWITCHING:
        return []
    ids = step["target"].get("entity_id")
    ids = [ids] if isinstance(ids, str) else ids
    return list(ids) if isinstance(ids, list) and all(isinstance(i, str) for i in ids) else []


def _asked(entity_id: str, prompt: str, names: Mapping[str, tuple[str, ...]]) -> Any:
    """The action the clause naming the device asks of it, when that is more than switching
    ("closed", "to 21°C"); None otherwise."""
    clause = clause_naming(prompt, names.get(entity_id, ()))
    action = action_for(entity_id, clause) if clause is not None else None
    if action is None or str(action["action"]).partition(".")[2] in _SWITCHING:
        return None
    return action
