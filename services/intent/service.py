"""The intent core behind an asyncio face: concurrent requests share micro-batches.

Validation happens at once, on the caller's task, so one bad request fails alone; valid
requests queue for the micro-batcher, which runs the recognizer in a worker thread
(ONNX Runtime releases the GIL) on as many of them as arrived together.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from slm_mesh.services.intent.recognizer import IntentRecognizer
from slm_mesh.services.intent.result import IntentRequest, IntentResult
from slm_mesh.services.runtime.batcher import MicroBatcher


class IntentService:
    def __init__(
        self, *, recognizer: IntentRecognizer, max_batch_size: int = 32, max_wait_ms: float = 2.0
    ) -> None:
        self.recognizer = recognizer
        self._batcher: MicroBatcher[IntentRequest, IntentResult] = MicroBatcher(
            process=self._recognize_batch,
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
        """Answer with `recognizer` from now on (a home that changed); batches already
        running finish with the one they started with."""
        self.recognizer = recognizer

    def _recognize_batch(self, requests: list[IntentRequest]) -> list[IntentResult]:
        return self.recognizer.recognize_batch(requests)

    async def recognize_many(self, requests: Sequence[IntentRequest]) -> list[IntentResult]:
        """Answers in order; InvalidRequestError for the first request that is refused."""
        for request in requests:
            self.recognizer.validate(request)
        return await self._batcher.submit_many(list(requests))
