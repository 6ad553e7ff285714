"""The sentiment core: texts in, one calibrated result per text out; no I/O after start-up."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from slm_mesh.services.contracts.sentiment import SentimentResult
from slm_mesh.services.sentiment.head import SentimentHead

Embed = Callable[[Sequence[str]], np.ndarray]
"""The shared sentence encoder: float32 [n, dim] for n texts (`Embedder.embed`)."""


class SentimentClassifier:
    """Scores texts positive or negative with the shared encoder and a trained head."""

    def __init__(self, *, embed: Embed, head: SentimentHead) -> None:
        self._embed = embed
        self._head = head

    def classify(self, texts: Sequence[str]) -> list[SentimentResult]:
        """One result per text, in order; the encoder runs once for the whole batch."""
        if not texts:
            return []
        positive = self._head.positive_probability(self._embed(texts), texts)
        return [
            SentimentResult(
                text=text,
                label="positive" if p >= 0.5 else "negative",
                scores={"positive": float(p), "negative": float(1.0 - p)},
            )
            for text, p in zip(texts, positive, strict=True)
        ]
