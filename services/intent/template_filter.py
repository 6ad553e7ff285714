"""A cheap proof that no strict template can match, before hassil's full matcher runs.

hassil narrows the templates it tries with one regular expression per template, in which
every list reference is `.+`. Most templates hold a `{name}` or an `{area}`, so almost any
sentence passes, and when none does hassil tries them all anyway (a skip word may have been
removed from the text). That is the slow path, and the common one here: most sentences
the SLM answers match no template, and proving it cost milliseconds.

`TemplateFilter` compiles the same expressions with the lists filled in (the home's names,
areas and floors, Home Assistant's own value lists; numbers and wildcards stay `.+`) and
tries them on every text hassil would match against (skip words removed, kept, kept at one
end). If none matches, no template can, and the full matcher is skipped; otherwise hassil
gets only the templates that matched (one to a few), which also makes a match cheap.

Given the contexts of the entities the text names, it also drops the blocks that require a
domain or device class none of them has ("is the porch light on" cannot be a motion
sensor's state): hassil would match such a template up to the name and only then give up.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
from hassil.intents import Intent, IntentData, Intents, SlotList, TextSlotList
from hassil.util import (
    check_required_context,
    normalize_text,
    normalize_whitespace,
    remove_punctuation,
)

from slm_mesh.services.intent.hass_lists import ENTITY_CONTEXT_KEYS

_ANY = "(?:.+)"
_NEVER = "(?!)"


class SkipWords:
    """hassil's `remove_skip_words` (whitespace-separated languages) with its expressions
    compiled once: hassil builds them on every call, which was most of the cost of ruling a
    sentence out."""

    def __init__(self, skip_words: Collection[str]) -> None:
        words = sorted({w.strip() for w in skip_words if w.strip()}, key=len, reverse=True)
        alternatives = "|".join(re.escape(w) for w in words) or _NEVER
        self._none = not words
        self._any = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
        self._start = re.compile(rf"^\s*(?:{alternatives})(?=\s|$|[^\w])\s*", re.IGNORECASE)
        self._end = re.compile(rf"\s*(?<!\w)(?:{alternatives})\s*$", re.IGNORECASE)

    def removed(self, text: str, *, start: bool = True, end: bool = True) -> str:
        if self._none:
            return text
        if start and end:
            return normalize_whitespace(self._any.sub(" ", text)).strip()
        pattern = self._start if start else self._end
        while (shorter := normalize_whitespace(pattern.sub("", text)).strip()) != text:
            text = shorter
        return text

    def texts_to_try(self, text: str) -> set[str]:
        """Every form of `text` that hassil's strict matcher compares with a template."""
        kept = normalize_text(remove_punctuation(text)).strip()
        return {
            kept,
            self.removed(kept),
            self.removed(kept, start=False),
            self.removed(kept, end=False),
        }


class TemplateFilter:
    """The templates that could match a text; compiled per intent, on first use."""

    def __init__(self, intents: Intents, slot_lists: Mapping[str, SlotList]) -> None:
        if intents.settings.ignore_whitespace:
            raise ValueError("languages matched without word breaks are not filtered")
        self._intents = intents
        self._slot_lists = {**intents.slot_lists, **slot_lists}
        self._skip_words = SkipWords(intents.skip_words)
        self._compiled: dict[str, list[_Block]] = {}

    def compile_all(self) -> None:
        """Compile every intent's templates now (about a second), not on first use."""
        for name in self._intents.intents:
            self._blocks(name)

    def narrowed(
        self,
        text: str,
        intent_names: Collection[str],
        *,
        entity_contexts: Sequence[dict[str, Any]] | None = None,
    ) -> Intents | None:
        """These intents with only the templates that could match `text`, for hassil to
        try (it then tries a handful, not hundreds); None when none could.
        `entity_contexts`: those of every entity name in the text (None: not checked)."""
        texts = self._skip_words.texts_to_try(text)
        kept: dict[str, Intent] = {}
        for name in intent_names:
            blocks = []
            for block in self._blocks(name):
                if entity_contexts is not None and not block.allows_any(entity_contexts):
                    continue
                sentences = [
                    sentence
                    for sentence, pattern in block.templates
                    if any(pattern.match(candidate) for candidate in texts)
                ]
                if sentences:
                    blocks.append(_with_sentences(block.data, sentences))
            if blocks:
                kept[name] = Intent(name=name, data=blocks)
        return dataclasses.replace(self._intents, intents=kept) if kept else None

    def _blocks(self, name: str) -> list[_Block]:
        blocks = self._compiled.get(name)
        if blocks is None:
            blocks = self._compiled[name] = []
            intent = self._intents.intents.get(name)
            for data in intent.data if intent is not None else ():
                rules = {**self._intents.expansion_rules, **data.expansion_rules}
                lists = {**self._slot_lists, **data.slot_lists}
                templates = []
                for sentence in data.sentences:
                    pattern = _regex(sentence, rules, lists).replace(r"\ ", "[ ]*")
                    templates.append((sentence, re.compile(f"^{pattern}$", re.IGNORECASE)))
                entity_requires = {
                    key: value
                    for key, value in (data.requires_context or {}).items()
                    if key in ENTITY_CONTEXT_KEYS
                }
                blocks.append(_Block(data, templates, entity_requires))
        return blocks


@dataclass(frozen=True)
class _Block:
    """One block of an intent's templates (they share slots and context), compiled."""

    data: IntentData
    templates: list[tuple[Sentence, re.Pattern[str]]]
    entity_requires: dict[str, Any]
    """The block's required context that only a matched entity name can bring."""

    def allows_any(self, entity_contexts: Sequence[dict[str, Any]]) -> bool:
        return not self.entity_requires or any(
            check_required_context(self.entity_requires, context) for context in entity_contexts
        )


def _with_sentences(data: IntentData, sentences: list[Sentence]) -> IntentData:
    """`data` holding only `sentences`, already parsed: hassil parses `sentence_texts`
    into the cached property `sentences` on first use, so it is filled in beforehand."""
    # Each has its text: hassil parses `sentence_texts` with `keep_text=True`.
    texts = [s.text for s in sentences if s.text is not None]
    narrowed = dataclasses.replace(data, sentence_texts=texts)
    narrowed.__dict__["sentences"] = sentences
    return narrowed


def _regex(
    expression: Expression | Sentence,
    rules: Mapping[str, Sentence],
    lists: Mapping[str, SlotList],
) -> str:
    """hassil's own compilation (`Sentence.compile`), with text lists spelled out."""
    if isinstance(expression, Sentence):
        return _regex(expression.expression, rules, lists)
    if isinstance(expression, TextChunk):
        return re.escape(expression.text)
    if isinstance(expression, Alternative):
        return "(?:" + "|".join(_regex(item, rules, lists) for item in expression.items) + ")"
    if isinstance(expression, Permutation):
        items = "|".join(_regex(item, rules, lists) for item in expression.items)
        return f"(?:{items}){{{len(expression.items)}}}"
    if isinstance(expression, Group):
        return "".join(_regex(item, rules, lists) for item in expression.items)
    if isinstance(expression, RuleReference):
        return _regex(rules[expression.rule_name], rules, lists)
    if isinstance(expression, ListReference):
        slot_list = lists.get(expression.list_name)
        if not isinstance(slot_list, TextSlotList):
            return _ANY  # numbers (digits or words) and wildcards
        if not slot_list.values:
            return _NEVER
        values = "|".join(_regex(value.text_in, rules, lists) for value in slot_list.values)
        return f"(?:{values})"
    raise ValueError(f"cannot compile a template part of type {type(expression).__name__}")
