"""A core that is one batch function: concurrent calls share micro-batches, run in a worker
thread, so the event loop serves while the model reads (ONNX Runtime releases the GIL)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Generic, TypeVar

from slm_mesh.services.kit.batcher import MicroBatcher

Req = TypeVar("Req")
Ans = TypeVar("Ans")


class BatchedCore(Generic[Req, Ans]):
    """`validate` runs on each request at once, on the caller's task, so one bad request
    fails its call alone; `process` answers a batch, one answer per request, in order."""

    def __init__(
        self,
        *,
        process: Callable[[list[Req]], list[Ans]],
        validate: Callable[[Req], None],
        max_batch_size: int = 32,
        max_wait_ms: float = 2.0,
    ) -> None:
        self._validate = validate
        self._batcher: MicroBatcher[Req, Ans] = MicroBatcher(
            process=process, max_batch_size=max_batch_size, max_wait_ms=max_wait_ms
        )

    async def __aenter__(self) -> BatchedCore[Req, Ans]:
        await self._batcher.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._batcher.aclose()

    async def watch(self) -> None:
        """Until the core closes; raises if its batcher dies (to be supervised)."""
        await self._batcher.watch()

    async def handle(self, requests: Sequence[Req]) -> list[Ans]:
        for request in requests:
            self._validate(request)
        return await self._batcher.submit_many(requests)
