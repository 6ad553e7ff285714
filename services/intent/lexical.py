"""Word features beside the sentence embedding.

A sentence encoder places "it's too dark in here" and "it's too bright in here" almost on
top of each other: their meaning differs by one word, which the mean-pooled vector barely
moves for. Hashed word and word-pair counts give the head that word back.
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Sequence

import numpy as np

DIMENSIONS = 2048
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def lexical_features(texts: Sequence[str], *, dimensions: int = DIMENSIONS) -> np.ndarray:
    """float32 [len(texts), dimensions]: hashed unigrams and bigrams, unit length."""
    features = np.zeros((len(texts), dimensions), dtype=np.float32)
    for row, text in enumerate(texts):
        words = _WORD.findall(text.casefold())
        for term in [*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))]:
            features[row, zlib.crc32(term.encode("utf-8")) % dimensions] += 1.0
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    unit: np.ndarray = features / np.maximum(norms, 1e-6)
    return unit
