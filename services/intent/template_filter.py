"""A cheap proof that no strict template can match, before hassil's full matcher runs.

hassil narrows the templates it tries with one regular expression per template, in which
every list reference is `.+`. Most templates hold a `{name}` or an `{area}`, so almost any
sentence passes, and when none does hassil tries them all anyway (a skip word may have been
removed from the text). That is the slow path, and the common one here: most sentences
the SLM answers match no template, and proving it cost milliseconds.

`TemplateFilter` compiles the same expressions with the lists filled in (the home's names,
areas and floors, Home Assistant's own value lists; numbers and wildcards stay `.+`) and
tries them on every text hassil would match against (skip words removed, kept, kept at one
end). If none matches, no template can, and the full matcher is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

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
from hassil.intents import Intents, SlotList, TextSlotList
from hassil.util import normalize_text, remove_punctuation, remove_skip_words

_ANY = "(?:.+)"
_NEVER = "(?!)"


def texts_to_try(text: str, intents: Intents) -> set[str]:
    """Every form of `text` that hassil's strict matcher compares with a template."""
    kept = normalize_text(remove_punctuation(text)).strip()
    skip_words = intents.skip_words
    return {
        kept,
        remove_skip_words(kept, skip_words, False),
        remove_skip_words(kept, skip_words, False, start=False),
        remove_skip_words(kept, skip_words, False, end=False),
    }


class TemplateFilter:
    """Which intents' templates could match a text; compiled per intent, on first use."""

    def __init__(self, intents: Intents, slot_lists: Mapping[str, SlotList]) -> None:
        if intents.settings.ignore_whitespace:
            raise ValueError("languages matched without word breaks are not filtered")
        self._intents = intents
        self._slot_lists = {**intents.slot_lists, **slot_lists}
        self._patterns: dict[str, list[re.Pattern[str]]] = {}

    def could_match(self, text: str, intent_names: Collection[str]) -> bool:
        """False only when no template of these intents can match `text` strictly."""
        texts = texts_to_try(text, self._intents)
        return any(
            pattern.match(candidate)
            for name in intent_names
            for pattern in self._intent_patterns(name)
            for candidate in texts
        )

    def _intent_patterns(self, name: str) -> list[re.Pattern[str]]:
        patterns = self._patterns.get(name)
        if patterns is None:
            patterns = self._patterns[name] = []
            intent = self._intents.intents.get(name)
            for data in intent.data if intent is not None else ():
                rules = {**self._intents.expansion_rules, **data.expansion_rules}
                lists = {**self._slot_lists, **data.slot_lists}
                for sentence in data.sentences:
                    pattern = _regex(sentence, rules, lists).replace(r"\ ", "[ ]*")
                    patterns.append(re.compile(f"^{pattern}$", re.IGNORECASE))
        return patterns


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
