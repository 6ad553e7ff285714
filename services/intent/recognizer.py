"""The intent core: validate, then tier 0 (strict templates), then tier 1 (the SLM).

A strict template match is certain, so it answers first. Matching a sentence against all
of Home Assistant's templates costs 10 ms of pure Python, three times the SLM itself; so a
small head on the sentence's words alone (microseconds) names the two most likely intents,
and only their templates are tried. The SLM runs only for sentences no template matched.

Knows nothing of gRPC or MQTT. Works on batches, in two steps that a caller may run apart:
`match_templates` (pure Python) and `answer_the_rest`, given the SLM's vectors for what the
templates left; the service batches only the vectors across concurrent requests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from slm_mesh.services.contracts.intent import IntentRequest, IntentResult
from slm_mesh.services.contracts.text import check_text
from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.home.model import Area, Home
from slm_mesh.services.intent.direction import TURN_INTENTS, intent_the_words_say, says_which_way
from slm_mesh.services.intent.head import IntentHeads
from slm_mesh.services.intent.lexical import lexical_features
from slm_mesh.services.intent.slots import OUT_OF_SCOPE, Label, SlotResolver
from slm_mesh.services.intent.templates import TemplateMatcher

Embed = Callable[[Sequence[str]], np.ndarray]
#: Labels tried, best first, before declining a request whose slots cannot be filled.
_CANDIDATES = 3
#: How many of the word head's most likely intents get their templates tried.
_TEMPLATE_INTENTS = 2


@dataclass(frozen=True)
class TemplatePass:
    """A batch after tier 0: what the templates answered, and which texts the SLM must."""

    texts: list[str]
    areas: list[Area | None]
    words: np.ndarray
    results: list[IntentResult | None]

    @property
    def pending(self) -> list[int]:
        return [i for i, result in enumerate(self.results) if result is None]

    @property
    def pending_texts(self) -> list[str]:
        return [self.texts[i] for i in self.pending]


class IntentRecognizer:
    def __init__(
        self,
        *,
        home: Home,
        embed: Embed,
        heads: IntentHeads,
        templates: TemplateMatcher | None = None,
        min_confidence: float = 0.3,
        max_text_chars: int = 1000,
    ) -> None:
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError("min_confidence must be between 0 and 1")
        if max_text_chars < 1:
            raise ValueError("max_text_chars must be at least 1")
        self.home = home
        self.embed = embed
        self.head = heads.full
        self.words_head = heads.words
        self.templates = templates
        self.min_confidence = min_confidence
        self.max_text_chars = max_text_chars
        self.resolver = SlotResolver(home=home)
        self._out_of_scope_index = self.head.labels.index(OUT_OF_SCOPE)
        self._labels = [Label.parse(key) for key in self.head.labels]
        self._word_intents = [Label.parse(key).intent for key in self.words_head.labels]
        self._turn_indices = [
            i for i, label in enumerate(self._labels) if label.intent in TURN_INTENTS
        ]

    def for_home(self, home: Home, templates: TemplateMatcher | None) -> IntentRecognizer:
        """The same model and heads over another home: its names, areas and templates are
        known at once; the heads, trained on the old home's sentences, are retrained for it
        at the service's next start."""
        return IntentRecognizer(
            home=home,
            embed=self.embed,
            heads=IntentHeads(full=self.head, words=self.words_head),
            templates=templates,
            min_confidence=self.min_confidence,
            max_text_chars=self.max_text_chars,
        )

    def validate(self, request: IntentRequest) -> Area | None:
        """Refuse what cannot be answered; return the context area, resolved."""
        check_text(request.text, max_chars=self.max_text_chars)
        if not request.area:
            return None
        area = self.home.find_area(request.area)
        if area is None:
            known = ", ".join(a.name for a in self.home.areas)
            raise InvalidRequestError(
                f"unknown context area {request.area!r}; this home has: {known}", field="area"
            )
        return area

    def recognize(self, request: IntentRequest) -> IntentResult:
        return self.recognize_batch([request])[0]

    def recognize_batch(self, requests: Sequence[IntentRequest]) -> list[IntentResult]:
        """Answers in order; raises InvalidRequestError for the first invalid request."""
        first = self.match_templates(requests)
        return self.answer_the_rest(first, self.embed(first.pending_texts))

    def match_templates(self, requests: Sequence[IntentRequest]) -> TemplatePass:
        """Tier 0, pure Python: raises InvalidRequestError for the first invalid request."""
        areas = [self.validate(request) for request in requests]
        texts = [request.text.strip() for request in requests]
        words = lexical_features(texts)
        results: list[IntentResult | None] = [None] * len(texts)
        if self.templates is not None and texts:
            for i, probs in enumerate(self.words_head.probabilities(words)):
                only = self._likely_intents(probs)
                results[i] = self.templates.match(texts[i], area=areas[i], only=only)
        return TemplatePass(texts, areas, words, results)

    def answer_the_rest(
        self, first: TemplatePass, vectors: np.ndarray | Sequence[np.ndarray]
    ) -> list[IntentResult]:
        """Tier 1 for what the templates left, given the SLM's vectors for those texts
        (one row each, in the order of `first.pending_texts`)."""
        results = list(first.results)
        pending = first.pending
        if pending:
            features = np.hstack([np.vstack(list(vectors)), first.words[pending]])
            for i, probs in zip(pending, self.head.probabilities(features), strict=True):
                results[i] = self._decide(first.texts[i], probs, first.areas[i])
        return [result for result in results if result is not None]

    def _likely_intents(self, probs: np.ndarray) -> set[str]:
        """The intents of the word head's best labels (out-of-scope aside), two of them:
        hassil prefers a match that names an entity, which settles "what is the outside
        temperature" (a sensor's state, not the climate)."""
        intents: set[str] = set()
        for index in np.argsort(probs)[::-1]:
            intent = self._word_intents[index]
            if intent != OUT_OF_SCOPE:
                intents.add(intent)
            if len(intents) == _TEMPLATE_INTENTS:
                break
        return intents

    def _decide(self, text: str, probs: np.ndarray, area: Area | None) -> IntentResult:
        ranked = np.argsort(probs)[::-1]
        top = float(probs[ranked[0]])
        top_label = self.head.labels[ranked[0]]
        out_of_scope = float(probs[self._out_of_scope_index])
        if top_label == OUT_OF_SCOPE:
            return IntentResult(
                text, None, {}, top, "none", f"out of scope at {top:.2f}", out_of_scope
            )
        # "Secure the front door": the head spreads itself over turning on and turning off,
        # but the words say which way; it need only be sure that something is turned.
        turn_sure = float(probs[self._turn_indices].sum()) if says_which_way(text) else 0.0
        if max(top, turn_sure if ranked[0] in self._turn_indices else 0.0) < self.min_confidence:
            return IntentResult(
                text, None, {}, 1.0 - top, "none", f"unsure: {top_label} at {top:.2f}", out_of_scope
            )
        passed_over: list[str] = []
        for index in ranked[:_CANDIDATES]:
            key = self.head.labels[index]
            confidence = float(probs[index])
            if index in self._turn_indices:
                confidence = max(confidence, turn_sure)
            if key == OUT_OF_SCOPE or confidence < self.min_confidence * 0.3:
                break
            label = self._labels[index]
            resolution = self.resolver.resolve(text, label, area=area)
            if not resolution.complete:
                passed_over.append(f"{key} lacked its slots")
                continue
            intent = intent_the_words_say(text, label.intent, resolution.slots)
            if intent != label.intent:
                passed_over.append(f"{key} turned to {intent} by the words")
            reason = "; ".join(["slm", *passed_over])
            return IntentResult(
                text, intent, resolution.slots, confidence, "slm", reason, out_of_scope
            )
        return IntentResult(text, None, {}, top, "none", "; ".join(passed_over), out_of_scope)
