"""The simple methods the summarizer must beat, for side-by-side evaluation.

Each takes a read text and a sentence budget and returns the chosen sentence indexes. Like
the summarizer they never pick a heading (a title is no summary).
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from slm_mesh.services.summarizer._words import STOPWORDS
from slm_mesh.services.summarizer.document import Document
from slm_mesh.services.summarizer.extractive import Embed

_WORD = re.compile(r"[a-z0-9]+")


def lead(document: Document, budget: int) -> list[int]:
    """The first sentences."""
    return _body(document)[:budget]


def centroid(document: Document, budget: int, embed: Embed) -> list[int]:
    """The sentences whose vectors are closest to the mean of all sentence vectors."""
    body = _body(document)
    vectors = np.asarray(embed([document.sentence(i) for i in body]), dtype=np.float32)
    closeness = vectors @ vectors.mean(axis=0)
    ranked = sorted(range(len(body)), key=lambda k: (-float(closeness[k]), k))
    return [body[k] for k in ranked[:budget]]


def word_frequency(document: Document, budget: int) -> list[int]:
    """The classic: mean frequency (relative to the commonest) of a sentence's non-stopwords."""
    body = _body(document)
    words = {
        i: [w for w in _WORD.findall(document.sentence(i).lower()) if w not in STOPWORDS]
        for i in body
    }
    counts = Counter(word for i in body for word in words[i])
    top = max(counts.values(), default=1)
    scores = {
        i: sum(counts[w] for w in words[i]) / (top * len(words[i])) if words[i] else 0.0
        for i in body
    }
    return sorted(body, key=lambda i: (-scores[i], i))[:budget]


def _body(document: Document) -> list[int]:
    return [i for i, heading in enumerate(document.headings) if not heading]
