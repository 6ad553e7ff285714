"""One state trigger with an action for each way its device changes: "pause the roomba when
the front door opens and resume it when the door closes again". Pure.

The library's snippets fire on one change of a sensor; what people often want is one thing
when it goes on and another when it goes off.
"""

from __future__ import annotations

import re
from typing import Any

from slm_mesh.services.code_snippet.actions import CLAUSES, action_for
from slm_mesh.services.code_snippet.trigger_fit import trigger_states

_WHEN = re.compile(r"\b(?:when|whenever|once|as soon as)\b")


def by_state(data: dict[str, Any], prompt: str) -> bool:
    """`data` (an automation with one state trigger going `on` or `off`) triggered by both
    changes, each with what its clause asks of the devices the actions act on, chosen by
    the trigger's id; True when it was, False (and `data` as it was) when the request does
    not ask one thing when it goes on and another when it goes off."""
    key = "triggers" if "triggers" in data else "trigger"
    triggers = data.get(key)
    if not isinstance(triggers, list) or len(triggers) != 1 or not isinstance(triggers[0], dict):
        return False
    trigger = triggers[0]
    kind = trigger.get("trigger", trigger.get("platform"))
    if kind != "state" or trigger.get("to") not in ("on", "off"):
        return False
    actions_key = "actions" if "actions" in data else "action"
    acted = _targets(data.get(actions_key))
    options: dict[str, list[dict[str, Any]]] = {}
    for clause in CLAUSES.split(prompt.casefold()):
        when = _WHEN.search(clause)
        states = trigger_states(clause[when.start() :]) if when is not None else None
        if when is None or states is None or len(states & {"on", "off"}) != 1:
            continue
        state = next(iter(states & {"on", "off"}))
        # "pause the roomba when it opens", or "when it opens pause the roomba".
        asked = clause[: when.start()].strip() or clause
        steps = [a for a in (action_for(e, asked) for e in acted) if a]
        if not steps or state in options:
            return False
        options[state] = steps
    if set(options) != {"on", "off"}:
        return False
    if "description" in data:
        data["description"] = "Runs the actions for each way the sensor changes."
    data[key] = [{**trigger, "to": state, "id": state} for state in options]
    data[actions_key] = [
        {
            "choose": [
                {"conditions": [{"condition": "trigger", "id": state}], "sequence": steps}
                for state, steps in options.items()
            ]
        }
    ]
    return True


def _targets(actions: Any) -> list[str]:
    """The entity ids the actions target, in order."""
    found: list[str] = []
    for action in actions if isinstance(actions, list) else []:
        target = action.get("target", {}) if isinstance(action, dict) else {}
        ids = target.get("entity_id") if isinstance(target, dict) else None
        for entity_id in ids if isinstance(ids, list) else [ids] if ids else []:
            if str(entity_id) not in found:
                found.append(str(entity_id))
    return found
