"""Checking the model's reply: first its shape (else `FallbackGarbage`, which counts
against the server), then against the home (else a `Rejection`: the server worked, but
the model named something the home does not have, and that is never acted on).

A valid intent becomes an `IntentResult` with tier "llm" and confidence 0.0: the model
gives no probability, and inventing one would mislead a consumer that compares it with
the SLM's. Its `reason` says it was checked against the schema and the home instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slm_mesh.services.contracts.intent import IntentResult, SlotValue
from slm_mesh.services.fallback.errors import FallbackGarbage
from slm_mesh.services.fallback.schema import FREE_NAME_INTENTS, INTENTS, KINDS, SLOTS
from slm_mesh.services.home.domains import INTENT_DOMAINS, TARGETED
from slm_mesh.services.home.model import Entity, Floor, Home

CHECKED = "llm fallback; checked against the schema and the home"


@dataclass(frozen=True)
class ModelReply:
    """The model's reply in shape, not yet checked against the home."""

    kind: str
    intent: str | None = None
    slots: dict[str, SlotValue] = field(default_factory=dict)
    answer: str | None = None


@dataclass(frozen=True)
class Rejection:
    """The model named something the home does not have, or asked for the impossible."""

    reason: str


def _slot(name: str, value: Any) -> SlotValue:
    if name not in SLOTS:
        raise FallbackGarbage(f"unknown slot {name!r}")
    kind, bounds = SLOTS[name]
    if kind == "string":
        if not isinstance(value, str) or not value.strip():
            raise FallbackGarbage(f"slot {name!r} must be non-empty text, not {value!r}")
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FallbackGarbage(f"slot {name!r} must be a number, not {value!r}")
    number: int | float = value
    if kind == "integer":
        if number != int(number):
            raise FallbackGarbage(f"slot {name!r} must be a whole number, not {number!r}")
        number = int(number)
    if bounds is not None and not bounds[0] <= number <= bounds[1]:
        raise FallbackGarbage(f"slot {name!r} must be within {bounds[0]}-{bounds[1]}, not {number}")
    return number


def parse_reply(payload: str | Mapping[str, Any]) -> ModelReply:
    """The reply's shape: JSON, a known kind and intent, typed slots (nulls dropped)."""
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except json.JSONDecodeError as err:
            raise FallbackGarbage(f"the model's answer is not JSON ({err.msg})") from None
    if not isinstance(payload, Mapping):
        raise FallbackGarbage("the model's answer is not a JSON object")
    kind = payload.get("kind")
    if kind not in KINDS:
        raise FallbackGarbage(f"unknown kind {kind!r}")
    answer = payload.get("answer")
    if answer is not None and not isinstance(answer, str):
        raise FallbackGarbage("`answer` must be text or null")
    if kind == "answer" and not (answer or "").strip():
        raise FallbackGarbage("kind 'answer' without answer text")
    intent = payload.get("intent")
    if kind == "intent" and intent not in INTENTS:
        raise FallbackGarbage(f"unknown intent {intent!r}")
    raw_slots = payload.get("slots") or {}
    if not isinstance(raw_slots, Mapping):
        raise FallbackGarbage("`slots` must be an object")
    slots = {k: _slot(k, v) for k, v in raw_slots.items() if v is not None}
    return ModelReply(
        kind=str(kind),
        intent=intent if kind == "intent" else None,
        slots=slots if kind == "intent" else {},
        answer=answer.strip() if answer else None,
    )


def _by_name(home: Home, name: str) -> list[Entity]:
    wanted = name.casefold()
    return [e for e in home.entities if wanted in (n.casefold() for n in (*e.names, e.id))]


def _find_floor(home: Home, name: str) -> Floor | None:
    wanted = name.strip().casefold()
    for floor in home.floors:
        if wanted in (n.casefold() for n in (floor.name, *floor.aliases, floor.id)):
            return floor
    return None


def _check_slots(reply: ModelReply, home: Home) -> dict[str, SlotValue] | Rejection:
    """The slots with the home's own spelling, or why they cannot be acted on."""
    slots = dict(reply.slots)
    if reply.intent in TARGETED and not slots.keys() & {"name", "area", "floor", "domain"}:
        return Rejection(f"{reply.intent} without a device, area, floor or domain")
    entities: list[Entity] = []
    if "name" in slots and reply.intent not in FREE_NAME_INTENTS:
        entities = _by_name(home, str(slots["name"]))
        if not entities:
            return Rejection(f"model named an entity the home does not have: {slots['name']}")
        canonical = {e.name for e in entities}
        if len(canonical) > 1:
            return Rejection(f"model named {slots['name']!r}, which could be {sorted(canonical)}")
        slots["name"] = entities[0].name
    if "area" in slots:
        area = home.find_area(str(slots["area"]))
        if area is None:
            return Rejection(f"model named an area the home does not have: {slots['area']}")
        slots["area"] = area.name
        if entities and not any(e.area_id == area.id for e in entities):
            return Rejection(f"the home has no {slots['name']} in {area.name}")
    if "floor" in slots:
        floor = _find_floor(home, str(slots["floor"]))
        if floor is None:
            return Rejection(f"model named a floor the home does not have: {slots['floor']}")
        slots["floor"] = floor.name
    if "domain" in slots:
        slots["domain"] = str(slots["domain"]).casefold()
        if not any(e.domain == slots["domain"] for e in home.entities):
            return Rejection(f"model named a domain the home does not have: {slots['domain']}")
    allowed = INTENT_DOMAINS.get(reply.intent or "")
    if allowed is not None and entities and entities[0].domain not in allowed:
        return Rejection(f"{reply.intent} cannot act on {entities[0].name} ({entities[0].domain})")
    return slots


def validate_intent(reply: ModelReply, home: Home, *, text: str) -> IntentResult | Rejection:
    """An intent reply as an `IntentResult`, or why the home cannot act on it."""
    if reply.kind != "intent" or reply.intent is None:
        return Rejection(f"the model's reply is of kind {reply.kind!r}, not an intent")
    slots = _check_slots(reply, home)
    if isinstance(slots, Rejection):
        return slots
    return IntentResult(
        text=text, intent=reply.intent, slots=slots, confidence=0.0, tier="llm", reason=CHECKED
    )
