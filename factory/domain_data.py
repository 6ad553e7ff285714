"""The domain-tune recipe's data: the home's training sentences as chat examples whose
answer is the intent as compact JSON, and the JSON schema that confines an answer to the
home.

    user       "could you dim the kitchen lights to 30"          (+ "(said in the Office)")
    assistant  {"intent":"HassLightSet","slots":{"area":"Kitchen","domain":"light","brightness":30}}
               {"intent":"out_of_scope"}

The sentences are the intent head's (`services/intent/training.py`); their slots are what the
recognizer's own slot resolver reads from each sentence for its label, so the model learns
the recognizer's answers. Pure: no PyTorch.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from slm_mesh.services.contracts.intent import SlotValue
from slm_mesh.services.home.model import Home
from slm_mesh.services.intent.slots import OUT_OF_SCOPE, Label, SlotResolver
from slm_mesh.services.intent.training import TrainingConfig, training_sentences

#: The intent of an answer that declines: nothing in the home can do what was asked.
DECLINE = "out_of_scope"
#: Short: its tokens are in every example and every request, and cost time in both.
SYSTEM_PROMPT = f'Answer with the home intent JSON, or {{"intent":"{DECLINE}"}}.'
#: Slots that name a thing of the home, first in every answer, in this order.
_NAMED = ("name", "area", "floor", "domain", "device_class")
#: Share of in-scope examples said from an area (a satellite's), so that the model learns
#: to use the area when the sentence names no place.
CONTEXT_SHARE = 0.2
#: Share of declines in the sample, above their 13 % among the generated sentences: trained on
#: 320 sentences at that 13 %, SmolLM2 began nearly every answer with "Hass" and, guided,
#: accepted all 82 out-of-scope development cases (at 30 %: 78 % on 400 sentences, 39 % on 720).
DECLINE_SHARE = 0.3


@dataclass(frozen=True)
class Example:
    text: str
    area: str | None
    """The area the request was said in, when the device that heard it has one."""
    intent: str
    slots: dict[str, SlotValue] = field(default_factory=dict)

    @property
    def answer(self) -> str:
        return answer_json(self.intent, self.slots)

    def messages(self) -> list[dict[str, str]]:
        """The chat up to and including the answer."""
        return [
            *prompt_messages(self.text, self.area),
            {"role": "assistant", "content": self.answer},
        ]


def prompt_messages(text: str, area: str | None) -> list[dict[str, str]]:
    """The chat a request is asked with: the task, then the request (and where it was said)."""
    user = text if area is None else f"{text}\n(said in the {area})"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def answer_json(intent: str, slots: dict[str, SlotValue]) -> str:
    """The compact JSON the model writes: named slots first, then the rest by name."""
    if intent == DECLINE:
        return json.dumps({"intent": DECLINE}, separators=(",", ":"))
    ordered = dict(sorted(slots.items(), key=lambda item: _slot_order(item[0])))
    return json.dumps({"intent": intent, "slots": ordered}, separators=(",", ":"))


def _slot_order(name: str) -> tuple[int, str]:
    return (_NAMED.index(name) if name in _NAMED else len(_NAMED), name)


@dataclass(frozen=True)
class DomainData:
    examples: list[Example]
    """Those kept (at most `max_sentences`, DECLINE_SHARE of them declines), in a seeded
    order."""
    generated: int
    """How many sentences the home gave before the cap."""
    intents: tuple[str, ...]
    """Every intent among the home's sentences (the schema's enum), DECLINE last."""
    slot_types: dict[str, str]
    """Each slot name seen, and "number" or "string"."""
    intent_slots: dict[str, tuple[str, ...]]
    """The slots each intent's answers name, in answer order."""
    domains: tuple[str, ...]
    """The domains the answers name: the home's entities', and those a sentence names by a
    word ("all the lights")."""


def domain_examples(home: Home, *, max_sentences: int, seed: int) -> DomainData:
    """The home's sentences as examples, a seeded sample of `max_sentences` of them."""
    sentences = training_sentences(home, TrainingConfig(seed=seed))
    rng = random.Random(seed)
    resolver = SlotResolver(home=home)
    areas = list(home.areas)
    examples = []
    for sentence in sentences:
        if sentence.label == OUT_OF_SCOPE:
            examples.append(Example(sentence.text, None, DECLINE))
            continue
        label = Label.parse(sentence.label)
        area = rng.choice(areas) if areas and rng.random() < CONTEXT_SHARE else None
        slots = resolver.resolve(sentence.text, label, area=area).slots
        examples.append(Example(sentence.text, area.name if area else None, label.intent, slots))
    intents = sorted({e.intent for e in examples if e.intent != DECLINE})
    kept = _sample(examples, max_sentences, rng)
    return DomainData(
        examples=kept,
        generated=len(sentences),
        intents=(*intents, DECLINE),
        slot_types=_slot_types(examples),
        intent_slots={
            intent: tuple(
                sorted(
                    {n for e in examples if e.intent == intent for n in e.slots}, key=_slot_order
                )
            )
            for intent in intents
        },
        domains=tuple(
            sorted(
                {e.domain for e in home.entities}
                | {str(e.slots["domain"]) for e in examples if "domain" in e.slots}
            )
        ),
    )


def _sample(examples: list[Example], size: int, rng: random.Random) -> list[Example]:
    """`size` examples, DECLINE_SHARE of them declines (as many as there are), shuffled."""
    declines = [e for e in examples if e.intent == DECLINE]
    commands = [e for e in examples if e.intent != DECLINE]
    wanted = min(len(declines), round(min(size, len(examples)) * DECLINE_SHARE))
    kept = rng.sample(declines, wanted)
    kept += rng.sample(commands, min(len(commands), min(size, len(examples)) - wanted))
    rng.shuffle(kept)
    return kept


def _slot_types(examples: Iterable[Example]) -> dict[str, str]:
    types: dict[str, set[str]] = {}
    for example in examples:
        for name, value in example.slots.items():
            kind = "number" if isinstance(value, int | float) else "string"
            types.setdefault(name, set()).add(kind)
    return {name: "number" if kinds == {"number"} else "string" for name, kinds in types.items()}


def answer_schema(home: Home, data: DomainData) -> dict[str, Any]:
    """A JSON schema an answer for `home` fits: its intents, and every slot that names a
    thing an enum of the home's own (so a guided answer cannot name what the home lacks)."""
    named = {
        "name": sorted({e.name for e in home.entities}),
        "area": sorted({a.name for a in home.areas}),
        "floor": sorted({f.name for f in home.floors}),
        "domain": list(data.domains),
    }
    properties: dict[str, Any] = {}
    for name, kind in data.slot_types.items():
        if named.get(name):
            properties[name] = {"enum": named[name]}
        elif kind == "number":
            properties[name] = {"type": "number"}
        else:
            properties[name] = {"type": "string", "maxLength": 60}
    # One branch per intent with only the slots that intent takes: a small model, free to
    # add any slot, goes on adding them until it runs out of tokens.
    commands = [
        {
            "type": "object",
            "properties": {
                "intent": {"const": intent},
                "slots": {
                    "type": "object",
                    "properties": {
                        name: {"$ref": f"#/$defs/{name}"} for name in data.intent_slots[intent]
                    },
                    "additionalProperties": False,
                },
            },
            "required": ["intent", "slots"],
            "additionalProperties": False,
        }
        for intent in data.intents
        if intent != DECLINE
    ]
    decline = {
        "type": "object",
        "properties": {"intent": {"const": DECLINE}},
        "required": ["intent"],
        "additionalProperties": False,
    }
    return {"anyOf": [*commands, decline], "$defs": properties}
