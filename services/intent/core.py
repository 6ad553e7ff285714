"""The intent core behind an asyncio face: concurrent requests share micro-batches.

Validation and tier 0 (templates: pure Python, a fraction of a millisecond) happen at once,
on the caller's task, so one bad request fails alone and a template match answers without
waiting. The texts the SLM must read queue for the micro-batcher, which embeds them in one
model call in a worker thread (ONNX Runtime releases the GIL); their answers are then
decided here. A lone sentence (`Pace`) runs the model here instead.

Every face (gRPC, MQTT, the router in-process) calls `handle`, so the bound on what
one call may cost, its texts' characters all together, is checked here once for all of
them, before any work. Batches are bounded in characters too, and calls take turns in them,
so a big call holds the model only briefly and a small one is not kept behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

import numpy as np

from slm_mesh.services.contracts.intent import IntentRequest, IntentResult
from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.intent.recognizer import IntentRecognizer
from slm_mesh.services.kit.batcher import MicroBatcher
from slm_mesh.services.kit.pace import Pace


class IntentService:
    def __init__(
        self,
        *,
        recognizer: IntentRecognizer,
        max_batch_size: int = 32,
        max_wait_ms: float = 2.0,
        max_batch_chars: int = 2000,
        max_call_chars: int = 16_000,
    ) -> None:
        if max_call_chars < 1:
            raise ValueError(f"max_call_chars must be at least 1, got {max_call_chars}")
        self.recognizer = recognizer
        self._max_call_chars = max_call_chars
        self._pace = Pace()
        self._batcher: MicroBatcher[str, np.ndarray] = MicroBatcher(
            process=self._embed,
            max_batch_size=max_batch_size,
            max_wait_ms=max_wait_ms,
            # The model's time grows with a text's tokens; characters are a cheap measure.
            cost=len,
            max_batch_cost=max_batch_chars,
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

    async def watch(self) -> None:
        """Until the service closes; raises if its batcher dies (to be supervised)."""
        await self._batcher.watch()

    def use(self, recognizer: IntentRecognizer) -> None:
        """Answer with `recognizer` from now on (a home that changed); requests already
        past their templates finish with the one they started with."""
        self.recognizer = recognizer

    def _embed(self, texts: list[str]) -> list[np.ndarray]:
        return list(self.recognizer.embed(texts))

    async def handle(self, requests: Sequence[IntentRequest]) -> list[IntentResult]:
        """Answers in order; InvalidRequestError for a call over the character bound, or
        for the first request that is refused."""
        total = sum(len(request.text) for request in requests)
        if total > self._max_call_chars:
            raise InvalidRequestError(
                f"the texts in this call have {total} characters in all, over the limit of "
                f"{self._max_call_chars} per call: split them across smaller calls",
                field="requests",
            )
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
