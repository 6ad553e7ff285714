"""One MQTT trigger with an action for each of its payloads: "single press should toggle
the hall light, double press should turn on Movie Night" on a button's action topic. Pure.

A button's topic carries every kind of press; the library's snippets answer one payload,
and what people want is a choice between them.
"""

from __future__ import annotations

import re
from typing import Any

from slm_mesh.services.code_snippet.actions import action_for
from slm_mesh.services.code_snippet.compose import ACTIONABLE
from slm_mesh.services.home.model import Home

#: The presses a button reports, as zigbee2mqtt writes them ("single", "double", "hold").
_PRESS = re.compile(
    r"\b(single|double|triple|quadruple|long|hold|release)\b(?:[ _-]?(?:press|click|tap)\w*)?",
    re.IGNORECASE,
)


def by_payload(data: dict[str, Any], prompt: str, home: Home) -> bool:
    """`data` (an automation with one MQTT trigger) triggered by each press the request
    names, each with the actions its words ask ("double press should turn on Movie
    Night"), chosen by the trigger's id; True when it was, False (and `data` as it was)
    when the request names fewer than two presses or one asks nothing this can read."""
    key = "triggers" if "triggers" in data else "trigger"
    triggers = data.get(key)
    if not isinstance(triggers, list) or len(triggers) != 1 or not isinstance(triggers[0], dict):
        return False
    trigger = triggers[0]
    if trigger.get("trigger", trigger.get("platform")) != "mqtt":
        return False
    presses = list(_PRESS.finditer(prompt))
    if len({press.group(1).casefold() for press in presses}) != len(presses) or len(presses) < 2:
        return False
    options = []
    for index, press in enumerate(presses):
        end = presses[index + 1].start() if index + 1 < len(presses) else len(prompt)
        steps = _asked(prompt[press.end() : end].casefold(), home)
        if not steps:
            return False
        options.append((press.group(1).casefold(), steps))
    topic = trigger["topic"]
    if "description" in data:
        data["description"] = f"Runs the actions for each press reported on {topic}."
    data[key] = [{"trigger": "mqtt", "topic": topic, "payload": p, "id": p} for p, _ in options]
    data["actions" if "actions" in data else "action"] = [
        {
            "choose": [
                {"conditions": [{"condition": "trigger", "id": p}], "sequence": steps}
                for p, steps in options
            ]
        }
    ]
    return True


def _asked(words: str, home: Home) -> list[dict[str, Any]]:
    """The actions `words` ask of the devices they name."""
    named = [
        e
        for e in home.entities
        if e.domain in ACTIONABLE and any(n.casefold() in words for n in e.names)
    ]
    steps = (action_for(e.id, words) for e in named)
    return [step for step in steps if step is not None]
