"""One MQTT trigger with an action for each of its payloads: "single press should toggle
the hall light, double press should turn on Movie Night" on a button's action topic, "when
it says LOW open the valve, when it says FULL close it" on a float switch's. Pure.

A topic carries every kind of press or reading; the library's snippets answer one payload,
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
#: A message a device sends, after the word that says it: in capitals ("says LOW") or quoted.
_SAID = re.compile(
    r"\b(?:says|reads|reports|sends|publishes|gets|payload(?: is)?)\s+"
    r"(?:([A-Z][A-Z0-9_]+)\b|[\"“']([^\"”'\s]{1,30})[\"”'])"
)


def by_payload(data: dict[str, Any], prompt: str, home: Home) -> bool:
    """`data` (an automation with one MQTT trigger) triggered by each press the request
    names (or message it quotes), each with the actions its words ask ("double press should
    turn on Movie Night"), chosen by the trigger's id; True when it was, False (and `data`
    as it was) when the request names fewer than two or one asks nothing this can read."""
    key = "triggers" if "triggers" in data else "trigger"
    triggers = data.get(key)
    if not isinstance(triggers, list) or len(triggers) != 1 or not isinstance(triggers[0], dict):
        return False
    trigger = triggers[0]
    if trigger.get("trigger", trigger.get("platform")) != "mqtt":
        return False
    presses = _choices(prompt)
    if len({payload for payload, _ in presses}) != len(presses) or len(presses) < 2:
        return False
    options = []
    named: list[str] = []
    for index, (payload, start) in enumerate(presses):
        end = presses[index + 1][1] if index + 1 < len(presses) else len(prompt)
        words = prompt[start:end].casefold()
        # "when it says FULL close it": what the clause before named.
        named = _named(words, home) or named
        steps = [step for step in (action_for(e, words) for e in named) if step is not None]
        if not steps:
            return False
        options.append((payload, steps))
    topic = trigger["topic"]
    if "description" in data:
        data["description"] = f"Runs the actions for each message reported on {topic}."
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


def _choices(prompt: str) -> list[tuple[str, int]]:
    """The payloads the request chooses between, each with where its clause starts: the
    presses it names, else the messages it quotes or writes in capitals after what says
    them ("when it says LOW ..., when it says FULL ...")."""
    presses = [(m.group(1).casefold(), m.end()) for m in _PRESS.finditer(prompt)]
    if len(presses) >= 2:
        return presses
    return [(m.group(1) or m.group(2), m.end()) for m in _SAID.finditer(prompt)]


def _named(words: str, home: Home) -> list[str]:
    """The ids of the devices `words` name that an action can be asked of."""
    return [
        e.id
        for e in home.entities
        if e.domain in ACTIONABLE and any(n.casefold() in words for n in e.names)
    ]
