"""How what a snippet does fits what a request asks done: the verb ("toggle" answered with
"turn off", "publish" with "subscribe"), an action the snippet cannot be refined into
("pause the echo" of one that switches), and whether the request's waits are how long an
action runs or how long a state lasts. Pure.
"""

from __future__ import annotations

import re

from slm_mesh.services.code_snippet.actions import CLAUSES, action_for, clause_naming
from slm_mesh.services.code_snippet.compose import ACTIONABLE
from slm_mesh.services.code_snippet.fill import Filled
from slm_mesh.services.code_snippet.library import Param, Snippet

ESPHOME = "esphome"

_VERBS = (
    ("on", re.compile(r"\b(?:turns?|switch(?:es)?|put)\b(?:\s+[\w']+){0,4}?\s+on\b")),
    ("off", re.compile(r"\b(?:turns?|switch(?:es)?|shut)\b(?:\s+[\w']+){0,4}?\s+off\b")),
    ("toggle", re.compile(r"\btoggles?\b|\bflips?\b")),
    ("open", re.compile(r"\bopens?\b|\braises?\b")),
    ("close", re.compile(r"\bcloses?\b|\bshuts?\b(?!\s+\w+\s+off)|\blowers?\b")),
    ("lock", re.compile(r"(?<!un)\blocks?\b(?!\s+(?:is|was|has))")),
    ("unlock", re.compile(r"\bunlocks?\b")),
    ("subscribe", re.compile(r"\bmosquitto_sub\b|\bsubscrib\w*|\bwatch(?:es)?\b|\blisten\w*")),
    ("publish", re.compile(r"\bmosquitto_pub\b|\bpublish\w*")),
    ("digital", re.compile(r"\bdigital\b")),
    ("analog", re.compile(r"\banalog(?:ue)?\b|\badc\b")),
)


def verb_disagrees(snippet: Snippet, asked: frozenset[str]) -> bool:
    """Whether the snippet does something else to the device than the request asks:
    turns it on for "off", or reads an analog input for a "digital" one, or the reverse;
    or publishes to a topic the request subscribes to."""
    done = verbs(snippet.description) - {"digital", "analog"}
    if done & {"on", "off"} and re.search(r"\brelays?\b", snippet.description.casefold()):
        # A relay switched on and off opens and shuts what it drives: a solenoid, a lock.
        done |= {"open", "close"}
    if snippet.format == ESPHOME and asked & {"digital", "analog"}:
        reads = "analog" if "platform: adc" in snippet.template else "digital"
        return reads not in asked
    # A topic's verbs and a device's are told apart each on their own: "publish" is no
    # answer to "turn off", nor the reverse.
    topical = asked & _TOPIC_VERBS, done & _TOPIC_VERBS
    devices = asked - _TOPIC_VERBS - {"digital", "analog"}, done - _TOPIC_VERBS
    return any(said and did and not said & did for said, did in (topical, devices))


_TOPIC_VERBS = frozenset({"subscribe", "publish"})


def verbs(text: str) -> frozenset[str]:
    """What a request or a snippet does to a device: turn it on or off, toggle, open, close,
    lock or unlock it; or to an MQTT topic: subscribe or publish."""
    said = text.casefold()
    return frozenset(verb for verb, pattern in _VERBS if pattern.search(said))


#: What a snippet's switching action becomes once refined (`refine`, `domain_actions`).
_REFINED = frozenset({
    "turn_on", "turn_off", "toggle", "open_cover", "close_cover", "open_valve", "close_valve",
    "set_temperature", "set_cover_position",
})  # fmt: skip


def asks_other_action(
    snippet: Snippet, filled: Filled, prompt: str, names_of: dict[str, tuple[str, ...]]
) -> bool:
    """Whether the request asks of a device the snippet acts on an action the snippet does
    not do and refining cannot make of it ("pause the echo" of a snippet that switches)."""
    for name, param in snippet.params.items():
        value = str(filled.values.get(name, ""))
        if not acts_on(param) or not value:
            continue
        for entity_id in re.findall(r"[a-z_]+\.[a-z0-9_]+", value):
            clause = clause_naming(prompt, names_of.get(entity_id, ()))
            asked = action_for(entity_id, clause) if clause is not None else None
            service = str(asked["action"]).partition(".")[2] if asked is not None else ""
            if service and service not in _REFINED and service not in snippet.template:
                return True
    return False


def acts_on(param: Param) -> bool:
    """Whether an entity parameter is what the snippet acts on (a light, a lock), not what
    sets it off (a sensor, a person)."""
    return param.kind == "entity" and set(param.domains) <= ACTIONABLE


def composes(snippet: Snippet) -> bool:
    """Whether the snippet's actions are composed from the request (`compose`)."""
    return any(param.kind == "actions" for param in snippet.params.values())


#: A request that waits: "for 10 minutes", "after 5 min", "2 minutes later".
WAITS = re.compile(
    r"\b(?:\d+(?:\.\d+)?|an?|few|couple of)\s*(?:seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)\b"
    r"|\bhalf an hour\b|\ba while\b",
    re.IGNORECASE,
)


_RUNS_FOR = re.compile(r"\b(?:turn|switch|put|run|start)\b")
_STAYS = re.compile(r"\b(?:been|left|stays?|stayed|has|have|is|was|more than|longer than)\b")


def waits_in_actions(prompt: str) -> bool:
    """Whether every wait the request says is how long something it asks done runs ("turn
    on the hall light for 5 minutes"), not how long a state lasts ("left open for 30 min")."""
    waits = list(WAITS.finditer(prompt))
    if not waits:
        return False
    clauses, at = [], 0
    for part in CLAUSES.split(prompt):
        at = prompt.find(part, at)
        clauses.append((at, at + len(part), part.casefold()))
        at += len(part)
    return all(
        _RUNS_FOR.search(said) and not _STAYS.search(said)
        for wait in waits
        for begin, end, said in clauses
        if begin <= wait.start() < end
    )
