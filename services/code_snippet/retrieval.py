"""The default plugin, no generative model: the library snippet closest to the request,
filled with what the request names.

Closeness is the shared sentence encoder's cosine between the request and each snippet's
description and example phrasings, plus a share for the words they have in common: the
encoder reads "when it gets above 25" and "when it drops below 18" as near neighbours,
the words do not. Of the closest few, a snippet the home can fill (every entity it needs
is there) wins over a slightly closer one it cannot.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from slm_mesh.services.code_snippet.fill import Filled, Filler
from slm_mesh.services.code_snippet.library import Snippet, render
from slm_mesh.services.code_snippet.refine import refine_automation

Embed = Callable[[Sequence[str]], np.ndarray]
AUTOMATION = "homeassistant-automation"

WORD_WEIGHT = 0.3
"""The words' share of closeness, beside the encoder's cosine."""
CLOSE_ENOUGH = 0.08
"""A snippet the home can fill beats a closer one it cannot when it is within this."""
CANDIDATES = 4

_STOP = frozenset({
    "a", "an", "the", "to", "of", "in", "on", "for", "and", "or", "is", "it", "i", "me", "my",
    "when", "if", "then", "that", "this", "with", "at", "be", "by", "from", "as", "so", "can",
    "you", "please", "want", "would", "like", "some", "there", "should", "after", "again",
})  # fmt: skip


@dataclass(frozen=True)
class Retrieved:
    snippet: Snippet
    code: str
    filled: Filled
    closeness: float


class SnippetIndex:
    """The library's snippets as sentence vectors; built once per process."""

    def __init__(self, *, snippets: Sequence[Snippet], embed: Embed) -> None:
        self.snippets = tuple(snippets)
        texts, owners = [], []
        for index, snippet in enumerate(self.snippets):
            for text in (snippet.description, *snippet.examples):
                texts.append(text)
                owners.append(index)
        self._vectors = np.asarray(embed(texts), dtype=np.float32)
        self._owners = np.asarray(owners)
        self._words = [_words(" ".join((s.description, *s.examples))) for s in self.snippets]
        self._embed = embed

    def rank(self, prompt: str, *, fmt: str) -> list[tuple[Snippet, float]]:
        """The snippets of format `fmt`, closest first, with their closeness."""
        vector = np.asarray(self._embed([prompt]), dtype=np.float32)[0]
        cosines = self._vectors @ vector
        best = np.full(len(self.snippets), -1.0, dtype=np.float32)
        np.maximum.at(best, self._owners, cosines)
        said = _words(prompt)
        ranked = []
        for index, snippet in enumerate(self.snippets):
            if snippet.format != fmt:
                continue
            shared = len(said & self._words[index]) / max(len(said), 1)
            ranked.append((snippet, float(best[index]) + WORD_WEIGHT * shared))
        return sorted(ranked, key=lambda pair: -pair[1])


def retrieve(prompt: str, *, fmt: str, index: SnippetIndex, filler: Filler) -> Retrieved | None:
    """The closest snippet the home can fill (or the closest, with its problems); None
    when the library has no snippet of the format."""
    ranked = index.rank(prompt, fmt=fmt)[:CANDIDATES]
    if not ranked:
        return None
    top = ranked[0][1]
    tried = []
    for snippet, closeness in ranked:
        filled = filler.fill(prompt, list(snippet.params.values()))
        tried.append((snippet, filled, closeness))
        if not filled.problems:
            break
    fits = [t for t in tried if not t[1].problems and t[2] >= top - CLOSE_ENOUGH]
    snippet, filled, closeness = fits[0] if fits else tried[0]
    code = render(snippet, filled.values) if not filled.problems else ""
    if code and fmt == AUTOMATION:
        mentioned = [m.target.id for m in filler.mentions(prompt).entities]
        code = refine_automation(code, prompt, filler.home, mentioned=mentioned)
    return Retrieved(snippet=snippet, code=code, filled=filled, closeness=closeness)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.casefold()) if w not in _STOP}
