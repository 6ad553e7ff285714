"""ROUGE-N as `rouge-score` computes it: lowercase, alphanumeric tokens, optional Porter stems.

Tokens are runs of a-z and 0-9 after lowercasing (everything else separates them); with
stemming, words longer than three letters are stemmed. Precision, recall and F1 count
clipped n-gram matches over the whole text, across sentence boundaries.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from slm_mesh.services.summarizer._porter import stem as porter_stem

_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class RougeScore:
    precision: float
    recall: float
    f1: float


def rouge_tokens(text: str, *, stem: bool = False) -> list[str]:
    """The tokens ROUGE compares ("U.S. sales rose" -> ["u", "s", "sales", "rose"])."""
    tokens = _NOT_ALPHANUMERIC.sub(" ", text.lower()).split()
    if stem:
        return [porter_stem(token) if len(token) > 3 else token for token in tokens]
    return tokens


def rouge_n(candidate: str, reference: str, n: int, *, stem: bool = False) -> RougeScore:
    """ROUGE-`n` of a candidate summary against one reference."""
    if n < 1:
        raise ValueError(f"ROUGE-N needs n of at least 1, got {n}")
    made = _ngrams(rouge_tokens(candidate, stem=stem), n)
    wanted = _ngrams(rouge_tokens(reference, stem=stem), n)
    overlap = sum(min(count, made[gram]) for gram, count in wanted.items())
    precision = overlap / max(sum(made.values()), 1)
    recall = overlap / max(sum(wanted.values()), 1)
    total = precision + recall
    return RougeScore(precision, recall, 2 * precision * recall / total if total else 0.0)


def _ngrams(tokens: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
