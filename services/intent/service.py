"""The intent core behind an asyncio face: concurrent requests share micro-batches.

Validation and tier 0 (templates: pure Python, a fraction of a millisecond) happen at once,
on the caller's task, so one bad request fails alone and a template match answers without
waiting. The texts the SLM must read queue for the micro-batcher, which embeds them in one
model call in a worker thread (ONNX Runtime releases the GIL); their answers are then
decided here. A lone sentence (`Pace`) runs the model here instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

import numpy as np

from slm_mesh.services.intent.recognizer import IntentRecognizer
from slm_mesh.services.intent.result import IntentRequest, IntentResult
from slm_mesh.services.runtime.batcher import MicroBatcher
from slm_mesh.services.runtime.pace import Pace


class IntentService:
    def __init__(
        self, *, recognizer: IntentRecognizer, max_batch_size: int = 32, max_wait_ms: float = 2.0
    ) -> None:
        self.recognizer = recognizer
        self._pace = Pace()
        self._batcher: MicroBatcher[str, np.ndarray] = MicroBatcher(
            process=self._embed,
            max_batch_size=max_batch_size,
            max_wait_ms=max_wait_ms,
        )

    async def __aenter__(self) -> IntentService:
        await self._batcher.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._batcher.__aexit__(exc_type, exc, traceback)

    def use(self, recognizer: IntentRecognizer) -> None:
        """Answer with `recognizer` from now on (a home that changed); requests already
        past their templates finish with the one they started with."""
        self.recognizer = recognizer

    def _embed(self, texts: list[str]) -> list[np.ndarray]:
        return list(self.recognizer.embed(texts))

    async def recognize_many(self, requests: Sequence[IntentRequest]) -> list[IntentResult]:
        """Answers in order; InvalidRequestError for the first request that is refused."""
        alone = self._pace.arrive()
        try:
            recognizer = self.recognizer
            first = recognizer.match_templates(requests)
            texts = first.pending_texts
            if not texts:
                vectors: Sequence[np.ndarray] = []
            elif alone and len(texts) == 1 and self._batcher.idle:
                vectors = list(recognizer.embed(texts))
            else:
                vectors = await self._batcher.submit_many(texts)
            return recognizer.answer_the_rest(first, vectors)
        finally:
            self._pace.leave()
