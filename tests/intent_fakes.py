"""A stand-in recognizer for `IntentService` tests: no templates, a model that records each
batch it is given and holds the model while a text starting with "hold" is in it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import cast

import numpy as np

from slm_mesh.services.contracts.intent import IntentRequest, IntentResult
from slm_mesh.services.intent.recognizer import IntentRecognizer, TemplatePass


class HeldModel:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        """Every batch the model was given, in order."""
        self.holding = threading.Event()
        """Set once a "hold" text is in the model; it stays there until `release` is set."""
        self.release = threading.Event()
        self.matched = asyncio.Event()
        """Set each time a call reaches the service's template step (on the event loop)."""

    def recognizer(self) -> IntentRecognizer:
        return cast(IntentRecognizer, self)

    @property
    def texts(self) -> list[str]:
        return [text for batch in self.batches for text in batch]

    def match_templates(self, requests: Sequence[IntentRequest]) -> TemplatePass:
        self.matched.set()
        texts = [request.text for request in requests]
        return TemplatePass(
            texts, [None] * len(texts), np.zeros((len(texts), 1)), [None] * len(texts)
        )

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(list(texts))
        if any(text.startswith("hold") for text in texts):
            self.holding.set()
            self.release.wait(timeout=10)
        return np.zeros((len(texts), 2), dtype=np.float32)

    def answer_the_rest(
        self, first: TemplatePass, vectors: np.ndarray | Sequence[np.ndarray]
    ) -> list[IntentResult]:
        return [IntentResult(text, None, reason="fake") for text in first.texts]
