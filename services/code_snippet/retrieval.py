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
from slm_mesh.services.home.model import Entity

Embed = Callable[[Sequence[str]], np.ndarray]
AUTOMATION = "homeassistant-automation"

WORD_WEIGHT = 0.3
"""The words' share of closeness, beside the encoder's cosine."""
CLOSE_ENOUGH = 0.15
"""How much less close than the closest a snippet may be and still be chosen: for taking
more of what the request names, or for being one the home can fill."""
TAKES_WEIGHT = 0.2
"""What taking all the entities a request names is worth, in closeness."""
GUESS_COST = 0.1
"""What an entity the snippet needs and the request does not name costs, in closeness."""
CANDIDATES = 6

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
    """Of the closest few snippets, the one that takes most of what the request names
    (a snippet with a person in it for "when Priya arrives home") and needs least that it
    does not name, that the home can fill, and is closest; None when the library has no
    snippet of the format."""
    ranked = index.rank(prompt, fmt=fmt)[:CANDIDATES]
    if not ranked:
        return None
    top = ranked[0][1]
    mentions = filler.mentions(prompt)
    named = [m.target for m in mentions.entities if isinstance(m.target, Entity)]
    scored = []
    for snippet, closeness in ranked:
        if closeness < top - CLOSE_ENOUGH:
            break
        filled = filler.fill(prompt, list(snippet.params.values()), mentions=mentions)
        guesses = sum("names no" in note for note in filled.notes)
        fit = (
            closeness
            + TAKES_WEIGHT * _takes(snippet, named)
            - GUESS_COST * guesses
            - (1.0 if filled.problems else 0.0)
        )
        scored.append((fit, snippet, filled, closeness))
    if not scored:
        snippet, closeness = ranked[0]
        filled = filler.fill(prompt, list(snippet.params.values()), mentions=mentions)
        scored.append((0.0, snippet, filled, closeness))
    _, snippet, filled, closeness = max(scored, key=lambda item: item[0])
    code = render(snippet, filled.values) if not filled.problems else ""
    if code and fmt == AUTOMATION:
        mentioned = [entity.id for entity in named]
        code = refine_automation(code, prompt, filler.home, mentioned=mentioned)
    elif code:
        code = token_variable(code, prompt)
    return Retrieved(snippet=snippet, code=code, filled=filled, closeness=closeness)


#: The environment variable the library's snippets read Home Assistant's token from.
TOKEN_VARIABLE = "HA_TOKEN"
_VARIABLE = re.compile(r"\$?\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_(?:TOKEN|KEY)[A-Z0-9_]*)\b")


def token_variable(code: str, prompt: str) -> str:
    """The token read from the variable the request names ("the token is in HASS_TOKEN")."""
    named = _VARIABLE.search(prompt)
    if named is None or named.group(1) == TOKEN_VARIABLE:
        return code
    return re.sub(rf"\b{TOKEN_VARIABLE}\b", named.group(1), code)


def _takes(snippet: Snippet, named: Sequence[Entity]) -> float:
    """The share of the entities a request names that some parameter of `snippet` could
    take (by domain and device class)."""
    if not named:
        return 0.0
    params = [p for p in snippet.params.values() if p.kind == "entity"]
    fits = sum(
        any(
            e.domain in p.domains and (not p.device_classes or e.device_class in p.device_classes)
            for p in params
        )
        for e in named
    )
    return fits / len(named)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.casefold()) if w not in _STOP}
