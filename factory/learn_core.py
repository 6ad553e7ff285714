"""What `slm-mesh factory learn` learns, decided without I/O: the router's unanswered
records whose fallback answer was an intent checked against the home, a person's
corrections (which win), and the sentences learned before; each kept only if its intent is
one the head can be taught and the words give the slots the answer has, so the SLM will
answer it the same way. Requests the fallback answered in words, or could not help with,
are out of scope: they are never learned as intents.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import yaml

from slm_mesh.factory.errors import FactoryError
from slm_mesh.factory.learn import OUT_OF_SCOPE_WORD
from slm_mesh.services.contracts.intent import SlotValue
from slm_mesh.services.fallback.schema import SLOTS
from slm_mesh.services.home.model import Home
from slm_mesh.services.intent.direction import intent_the_words_say
from slm_mesh.services.intent.learned import LearnedSentence, normalized
from slm_mesh.services.intent.slots import LABEL_SLOTS, OUT_OF_SCOPE, Label, SlotResolver

#: The slots an intent answer may have: the fallback's, and those the SLM reads itself.
KNOWN_SLOTS = frozenset(SLOTS) | frozenset(LABEL_SLOTS) | {
    "percentage", "temperature_unit", "state", "search_query", "media_class",
}  # fmt: skip
DAMAGED = "a damaged record"
IN_WORDS = "out of scope: the fallback answered in words"
NO_HELP = "the fallback could not help"
NOT_ASKED = "no fallback was asked"


@dataclass(frozen=True)
class Skipped:
    text: str
    reason: str


def from_log(records: Iterable[Mapping[str, Any]]) -> tuple[list[LearnedSentence], list[Skipped]]:
    """The sentences the fallback answered with an intent it checked against the home,
    the newest answer for each; and the rest, with why they were left."""
    found: dict[str, LearnedSentence] = {}
    skipped: list[Skipped] = []
    for record in records:
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            skipped.append(Skipped("", DAMAGED))
            continue
        answer = record.get("fallback")
        kind = answer.get("kind") if isinstance(answer, dict) else None
        if kind != "intent":
            why = {None: NOT_ASKED, "answer": IN_WORDS, "cannot_help": NO_HELP}.get(kind, DAMAGED)
            skipped.append(Skipped(normalized(text), why))
            continue
        assert isinstance(answer, dict)
        sentence = _logged_intent(normalized(text), answer.get("intent"), record)
        if sentence is None:
            skipped.append(Skipped(normalized(text), DAMAGED))
            continue
        found.pop(sentence.text, None)  # the newest answer, in the order it came
        found[sentence.text] = sentence
    return list(found.values()), skipped


def _logged_intent(text: str, result: Any, record: Mapping[str, Any]) -> LearnedSentence | None:
    if not isinstance(result, dict) or not isinstance(result.get("intent"), str):
        return None
    slots = result.get("slots") or {}
    if not isinstance(slots, dict) or not all(_is_slot_value(v) for v in slots.values()):
        return None
    context = record.get("context")
    area = record.get("area") or (context.get("area") if isinstance(context, dict) else None)
    return LearnedSentence(
        text=text,
        intent=result["intent"],
        slots={str(k): v for k, v in slots.items()},
        area=area if isinstance(area, str) else None,
    )


def _is_slot_value(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def parse_corrections(text: str, *, where: str, intents: frozenset[str]) -> list[LearnedSentence]:
    """A person's corrections: `sentence: INTENT`, `sentence: {intent: INTENT, slots: {...},
    area: AREA}` or `sentence: out_of_scope`. FactoryError naming the line for anything
    else, and for an intent or slot the head cannot be taught."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        raise FactoryError(f"{where} is not YAML: {err}; fix it and run again") from None
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise FactoryError(
            f"{where} line {root.start_mark.line + 1}: expected `sentence: intent` lines, as in\n"
            f'  "give the desk lamp a rest": {{intent: HassTurnOff, slots: {{name: Desk Lamp}}}}\n'
            f'  "tell me about the moon": {OUT_OF_SCOPE_WORD}'
        )
    loader = yaml.SafeLoader("")
    corrections = []
    for key, value in root.value:
        line = key.start_mark.line + 1
        said = loader.construct_object(key, deep=True)
        label = loader.construct_object(value, deep=True)
        try:
            corrections.append(_correction(said, label, intents))
        except ValueError as err:
            raise FactoryError(f"{where} line {line}: {err}") from None
    return corrections


def _correction(said: Any, label: Any, intents: frozenset[str]) -> LearnedSentence:
    if not isinstance(said, str) or not said.strip():
        raise ValueError(f"the sentence must be text, not {said!r}")
    if isinstance(label, str):
        label = {"intent": label}
    if not isinstance(label, dict) or not isinstance(label.get("intent"), str):
        raise ValueError(f"{said!r} needs an intent (or {OUT_OF_SCOPE_WORD}), not {label!r}")
    unknown = set(label) - {"intent", "slots", "area"}
    if unknown:
        raise ValueError(f"{said!r}: unknown keys {sorted(unknown)}; use intent, slots, area")
    intent = label["intent"]
    if intent == OUT_OF_SCOPE_WORD:
        return LearnedSentence(normalized(said), OUT_OF_SCOPE, source="correction")
    if intent not in intents:
        raise ValueError(
            f"{said!r}: {intent!r} is not an intent the SLM can learn; {_hint(intent, intents)}"
        )
    slots = label.get("slots") or {}
    if not isinstance(slots, dict):
        raise ValueError(f"{said!r}: slots must be `name: value` pairs, not {slots!r}")
    for name, value in slots.items():
        if name not in KNOWN_SLOTS:
            raise ValueError(f"{said!r}: unknown slot {name!r}; {_hint(str(name), KNOWN_SLOTS)}")
        if not _is_slot_value(value):
            raise ValueError(f"{said!r}: slot {name!r} must be text or a number, not {value!r}")
    area = label.get("area")
    if area is not None and not isinstance(area, str):
        raise ValueError(f"{said!r}: area must be the name of an area, not {area!r}")
    return LearnedSentence(normalized(said), intent, dict(slots), area, source="correction")


def _hint(wrong: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(wrong, list(known), n=3)
    if close:
        return f"did you mean {' or '.join(close)}?"
    return f"known: {', '.join(sorted(known))}"


def merged(*sources: Iterable[LearnedSentence]) -> list[LearnedSentence]:
    """One sentence per text; a later source wins (learned before, the log, corrections)."""
    found: dict[str, LearnedSentence] = {}
    for source in sources:
        for sentence in source:
            found.pop(sentence.text, None)
            found[sentence.text] = sentence
    return list(found.values())


def answerable(
    sentences: Sequence[LearnedSentence], home: Home, *, intents: frozenset[str]
) -> tuple[list[LearnedSentence], list[Skipped]]:
    """Those the SLM will answer as they were answered once learned (with the area in the
    home's spelling, or none where the home has no such area); and the rest, with why."""
    resolver = SlotResolver(home=home)
    kept: list[LearnedSentence] = []
    skipped: list[Skipped] = []
    for sentence in sentences:
        place = home.find_area(sentence.area) if sentence.area else None
        sentence = replace(sentence, area=place.name if place else None)
        if sentence.intent == OUT_OF_SCOPE:
            kept.append(sentence)
            continue
        if sentence.intent not in intents:
            skipped.append(
                Skipped(sentence.text, f"{sentence.intent} is not an intent the SLM learns")
            )
            continue
        label = Label.parse(sentence.label)
        read = resolver.resolve(sentence.text, label, area=place)
        said_intent = intent_the_words_say(sentence.text, label.intent, read.slots)
        differ = _differ(sentence.slots, read.slots)
        if not read.complete:
            why = f"its words do not give {sentence.intent}'s slots"
        elif said_intent != sentence.intent:
            why = f"its words say {said_intent}, not {sentence.intent}"
        elif differ:
            why = f"its words give {differ}"
        else:
            kept.append(sentence)
            continue
        skipped.append(Skipped(sentence.text, f"{why}: the fallback keeps answering it"))
    return kept, skipped


def _differ(wanted: Mapping[str, SlotValue], read: Mapping[str, SlotValue]) -> str:
    """'name=X, not Y' for each slot the words give otherwise (or not at all)."""
    found = []
    for name, value in wanted.items():
        got = read.get(name)
        same = (
            isinstance(got, str) and isinstance(value, str) and got.casefold() == value.casefold()
        ) or (_is_slot_value(got) and not isinstance(got, str) and got == value)
        if not same:
            found.append(f"{name}={got if got is not None else 'nothing'}, not {value}")
    return "; ".join(found)
