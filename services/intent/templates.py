"""Home Assistant's sentence templates: tier 0, the baseline, and training sentences.

`TemplateMatcher` is strict hassil matching as Home Assistant's default agent does it
(`recognize_best`, entity names preferred). `HassilBaseline` adds Home Assistant's fuzzy
n-gram stage after it, for comparing against. `sample_training_sentences` draws sentences
from the same templates, filled with the home's names, for the classifier to learn from.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from hassil import Intents, RecognizeResult, recognize_best
from hassil.expression import (
    Alternative,
    Expression,
    Group,
    ListReference,
    Permutation,
    RuleReference,
    Sentence,
    TextChunk,
)
from hassil.fuzzy import FuzzyResult
from hassil.intents import (
    Intent,
    IntentData,
    RangeFractionType,
    RangeSlotList,
    SlotList,
    TextSlotList,
    TextSlotValue,
    WildcardSlotList,
)
from hassil.util import check_excluded_context, check_required_context
from unicode_rbnf import RbnfEngine

from slm_mesh.services.contracts.intent import IntentResult, SlotValue
from slm_mesh.services.home.model import Area, Home
from slm_mesh.services.intent.hass_lists import (
    DEFAULT_WILDCARD_VALUES,
    WILDCARD_VALUES,
    NameFilter,
    fuzzy_matcher,
    hass_slot_lists,
    load_intents,
)
from slm_mesh.services.intent.template_filter import TemplateFilter

#: Context keys the request supplies at run time (the satellite's area), not the template.
RUNTIME_CONTEXT = frozenset({"area"})


def plain(value: Any) -> SlotValue:
    """A slot value as the project passes it: whole numbers as int, text as str."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, int | str):
        return value
    return str(value)


class TemplateMatcher:
    """Strict matching against Home Assistant's templates, with this home's names."""

    def __init__(self, *, home: Home, language: str = "en", narrow: bool = True) -> None:
        """`narrow=False` leaves out `TemplateFilter`: hassil alone, as Home Assistant runs
        it (the same answers, slower), for the baseline."""
        self.language = language
        self.intents: Intents = load_intents(language)
        lists = hass_slot_lists(home)
        self.slot_lists: dict[str, SlotList] = dict(lists)
        self._names_in = NameFilter(names=lists["name"])
        self._filter = TemplateFilter(self.intents, self.slot_lists) if narrow else None

    def prepare(self) -> None:
        """Do now the work the first requests would otherwise pay for (a service's start)."""
        if self._filter is not None:
            self._filter.compile_all()

    def recognize(
        self, text: str, *, area: Area | None = None, only: Collection[str] | None = None
    ) -> RecognizeResult | None:
        """hassil's own result; `only` limits the match to these intents (much cheaper)."""
        names = self._names_in(text)
        intents: Intents | None = self.intents
        if self._filter is not None:
            intents = self._filter.narrowed(
                text,
                only if only is not None else self.intents.intents,
                entity_contexts=[value.context or {} for value in names.values],
            )
        elif only is not None:
            kept = {
                name: self.intents.intents[name] for name in only if name in self.intents.intents
            }
            intents = dataclasses.replace(self.intents, intents=kept)
        if intents is None:
            return None
        return recognize_best(
            text,
            intents,
            slot_lists={**self.slot_lists, "name": names},
            intent_context={"area": area.name} if area is not None else None,
            language=self.language,
            best_slot_name="name",
        )

    def match(
        self, text: str, *, area: Area | None = None, only: Collection[str] | None = None
    ) -> IntentResult | None:
        result = self.recognize(text, area=area, only=only)
        if result is None:
            return None
        slots = {name: plain(entity.value) for name, entity in result.entities.items()}
        return IntentResult(
            text=text,
            intent=result.intent.name,
            slots=slots,
            confidence=1.0,
            tier="template",
            reason="strict template",
        )


class HassilBaseline:
    """Home Assistant's own order: strict templates, then its fuzzy n-gram matcher."""

    def __init__(self, *, home: Home, language: str = "en") -> None:
        self.templates = TemplateMatcher(home=home, language=language, narrow=False)
        self.fuzzy = fuzzy_matcher(self.templates.intents, self.templates.slot_lists, language)

    def match(self, text: str, *, area: Area | None = None) -> IntentResult:
        strict = self.templates.match(text, area=area)
        if strict is not None:
            return strict
        fuzzy: FuzzyResult | None = None
        if self.fuzzy is not None:
            fuzzy = self.fuzzy.match(text, context_area=area.name if area is not None else None)
        if fuzzy is None:
            return IntentResult(text=text, intent=None, reason="no template matched")
        return IntentResult(
            text=text,
            intent=fuzzy.intent_name,
            slots={name: plain(slot.value) for name, slot in fuzzy.slots.items()},
            confidence=1.0,
            tier="template",
            reason="fuzzy n-gram",
        )


@dataclass(frozen=True)
class TrainingSentence:
    text: str
    intent: str
    slots: dict[str, SlotValue]
    """Filled slots and the template's fixed ones (`domain`, `device_class`, ...)."""


def sample_training_sentences(
    home: Home, *, language: str = "en", max_per_intent: int = 400, seed: int = 0
) -> list[TrainingSentence]:
    """Up to `max_per_intent` distinct sentences per intent, the same for the same seed.

    Templates are drawn uniformly within an intent, then expanded at random (hassil's own
    sampler enumerates every alternative in order, which explodes on long templates).
    Ranges give a few numbers each, wildcards a few plausible words.
    """
    if max_per_intent < 1:
        raise ValueError(f"max_per_intent must be at least 1, not {max_per_intent}")
    intents = load_intents(language)
    sampler = _Sampler(
        intents=intents,
        slot_lists={**intents.slot_lists, **hass_slot_lists(home)},
        rng=random.Random(seed),
        language=language,
    )
    sentences: list[TrainingSentence] = []
    for name in sorted(intents.intents):
        sentences.extend(sampler.sample(intents.intents[name], max_per_intent))
    return sentences


class _Unfillable(Exception):
    """A template names a list that has no value this home can give it."""


class _Sampler:
    #: Draws per wanted sentence before an intent is taken as exhausted.
    ATTEMPTS = 4
    #: Numbers drawn from each range, besides its two ends.
    RANGE_PICKS = 6

    def __init__(
        self,
        *,
        intents: Intents,
        slot_lists: dict[str, SlotList],
        rng: random.Random,
        language: str,
    ) -> None:
        self.intents = intents
        self.slot_lists = slot_lists
        self.rng = rng
        self.numbers: dict[str, list[int | float]] = {}
        try:
            self.words: RbnfEngine | None = RbnfEngine.for_language(language)
        except ValueError:
            self.words = None

    def sample(self, intent: Intent, count: int) -> list[TrainingSentence]:
        templates = [(data, sentence) for data in intent.data for sentence in data.sentences]
        found: dict[str, TrainingSentence] = {}
        for _ in range(count * self.ATTEMPTS):
            if not templates or len(found) >= count:
                break
            index = self.rng.randrange(len(templates))
            data, sentence = templates[index]
            try:
                drawn = _Draw(self, data).expand(sentence)
            except _Unfillable:
                del templates[index]
                continue
            if drawn is not None and drawn[0].casefold() not in found:
                found[drawn[0].casefold()] = TrainingSentence(drawn[0], intent.name, drawn[1])
        return list(found.values())

    def range_numbers(self, list_name: str, slot_list: RangeSlotList) -> list[int | float]:
        """A few numbers of the range, chosen once per run so sentences share them."""
        if list_name not in self.numbers:
            whole = range(slot_list.start, slot_list.stop + 1, slot_list.step)
            picks = {
                whole[0],
                whole[-1],
                *self.rng.sample(whole, min(self.RANGE_PICKS, len(whole))),
            }
            numbers: list[int | float] = sorted(picks)
            fractions = RangeFractionType.get_fractions(slot_list.fraction_type)
            if fractions:
                numbers.append(
                    self.rng.choice(numbers[:-1] or numbers) + self.rng.choice(fractions)
                )
            self.numbers[list_name] = numbers
        return self.numbers[list_name]


class _Draw:
    """One random walk through one template, collecting its text, slots and context."""

    def __init__(self, sampler: _Sampler, data: IntentData) -> None:
        self.sampler = sampler
        self.rng = sampler.rng
        self.data = data
        self.rules = {**sampler.intents.expansion_rules, **data.expansion_rules}
        self.lists = {**sampler.slot_lists, **data.slot_lists}
        self.required = {
            key: value for key, value in data.requires_context.items() if key not in RUNTIME_CONTEXT
        }
        self.slots: dict[str, SlotValue] = {}
        self.context: dict[str, Any] = {}

    def expand(self, sentence: Sentence) -> tuple[str, dict[str, SlotValue]] | None:
        """The sentence and its slots, or None when the values drawn break the context."""
        text = " ".join(self.walk(sentence.expression).split())
        if any(key not in self.context for key in self.required):
            raise _Unfillable(f"nothing in the template gives {sorted(self.required)}")
        if not check_required_context(self.required, self.context):
            return None
        if not check_excluded_context(self.data.excludes_context, self.context):
            return None
        return text, {**{k: plain(v) for k, v in self.data.slots.items()}, **self.slots}

    def walk(self, expression: Expression) -> str:
        if isinstance(expression, TextChunk):
            return expression.original_text
        if isinstance(expression, Alternative):
            return self.walk(self.rng.choice(expression.items))
        if isinstance(expression, Permutation):
            items = list(expression.items)
            self.rng.shuffle(items)
            return " ".join(self.walk(item) for item in items)
        if isinstance(expression, Group):
            return "".join(self.walk(item) for item in expression.items)
        if isinstance(expression, RuleReference):
            return self.walk(self.rules[expression.rule_name].expression)
        if isinstance(expression, ListReference):
            return self.fill(expression)
        raise ValueError(f"cannot expand a template part of type {type(expression).__name__}")

    def fill(self, ref: ListReference) -> str:
        slot_list = self.lists.get(ref.list_name)
        if isinstance(slot_list, TextSlotList):
            values = self.fitting(slot_list.values)
            if not values:
                raise _Unfillable(ref.list_name)
            value = self.rng.choice(values)
            text = self.walk(value.text_in).strip()
            self.slots[ref.slot_name] = plain(text if value.value_out is None else value.value_out)
            self.context.update(value.context or {})
            return text
        if isinstance(slot_list, RangeSlotList):
            number = self.rng.choice(self.sampler.range_numbers(ref.list_name, slot_list))
            multiplier = slot_list.multiplier if slot_list.multiplier is not None else 1
            self.slots[ref.slot_name] = plain(number * multiplier)
            if slot_list.words and self.sampler.words is not None and self.rng.random() < 0.25:
                return str(self.sampler.words.format_number(number).text)
            return str(plain(number))
        if isinstance(slot_list, WildcardSlotList):
            words: Sequence[str] = WILDCARD_VALUES.get(ref.list_name, DEFAULT_WILDCARD_VALUES)
            self.slots[ref.slot_name] = filler = self.rng.choice(words)
            return filler
        raise _Unfillable(ref.list_name)

    def fitting(self, values: list[TextSlotValue]) -> list[TextSlotValue]:
        """Values whose context (an entity's domain, device class) this template accepts."""
        return [
            value
            for value in values
            if value.context is None
            or (
                check_required_context(self.required, value.context)
                and check_excluded_context(self.data.excludes_context, value.context)
            )
        ]
