"""Dynamic micro-batching: concurrent requests share one model call, as in Triton.

Policy: a request that finds the model free goes to it at once, alone, so batching never
adds latency to a lone request. While a batch is running, the next one forms: it takes
everything queued, waits up to `max_wait_ms` for more (the model is busy anyway), then keeps
collecting until a slot frees or `max_batch_size` is reached. Batches run in an executor
thread, leaving the event loop free; the moment one finishes, its slot is given back and the
next batch is handed over before the finished batch's results are delivered, so the model
never waits on the event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_Entry = tuple[T, "asyncio.Future[R]"]
_STOP = object()


class MicroBatcher(Generic[T, R]):
    """Collects items from many coroutines and hands them to `process` in batches.

    `process` runs in an executor thread and must return one result per item, in order.
    If it raises, every caller of that batch gets the exception; other batches go on.
    """

    def __init__(
        self,
        *,
        process: Callable[[list[T]], list[R]],
        max_batch_size: int = 32,
        max_wait_ms: float = 2.0,
        executor: concurrent.futures.Executor | None = None,
        max_concurrent_batches: int = 1,
    ) -> None:
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be at least 1, got {max_batch_size}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must not be negative, got {max_wait_ms}")
        if max_concurrent_batches < 1:
            raise ValueError(
                f"max_concurrent_batches must be at least 1, got {max_concurrent_batches}"
            )
        self._process = process
        self._max_batch_size = max_batch_size
        self._max_wait_s = max_wait_ms / 1000
        self._own_executor = executor is None
        self._executor = executor or concurrent.futures.ThreadPoolExecutor(
            max_workers=max_concurrent_batches, thread_name_prefix="micro-batch"
        )
        self._max_concurrent = max_concurrent_batches
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._slots: asyncio.Semaphore | None = None
        self._collector: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._closed = False
        self.batches = 0
        """Batches handed to `process` so far (with `items`, the mean batch size for stats)."""
        self.items = 0
        """Items handed to `process` so far."""

    async def start(self) -> None:
        """Start collecting; call from the event loop that will submit."""
        if self._closed:
            raise RuntimeError("this MicroBatcher is closed; create a new one")
        if self._collector is None:
            self._slots = asyncio.Semaphore(self._max_concurrent)
            self._collector = asyncio.get_running_loop().create_task(self._collect())

    async def aclose(self) -> None:
        """Stop taking requests, finish every request already queued, then stop."""
        if self._closed:
            return
        self._closed = True
        if self._collector is not None:
            self._queue.put_nowait(_STOP)
            await self._collector
            await asyncio.gather(*self._running)
        if self._own_executor:
            self._executor.shutdown(wait=False)

    async def __aenter__(self) -> MicroBatcher[T, R]:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def idle(self) -> bool:
        """Nothing queued and no batch running."""
        return not self._running and self._queue.empty()

    async def submit(self, item: T) -> R:
        """The result for one item, computed in a batch with whatever else is waiting."""
        return await self._enqueue(item)

    async def submit_many(self, items: Iterable[T]) -> list[R]:
        """Results for several items, in order; they may be split across batches."""
        futures = [self._enqueue(item) for item in items]
        return list(await asyncio.gather(*futures))

    def _enqueue(self, item: T) -> asyncio.Future[R]:
        if self._closed:
            raise RuntimeError("this MicroBatcher is closed")
        if self._collector is None:
            raise RuntimeError("MicroBatcher not started: call start() or use `async with`")
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        return future

    async def _collect(self) -> None:
        assert self._slots is not None
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is _STOP:
                return
            batch: list[_Entry[T, R]] = [first]  # type: ignore[list-item]
            stopping = self._drain(batch)
            if not stopping and len(batch) < self._max_batch_size and self._running:
                stopping = await self._wait_for_more(batch)
            await self._slots.acquire()
            if not stopping:
                stopping = self._drain(batch)  # what arrived while we waited for a slot
            live = [(item, fut) for item, fut in batch if not fut.done()]  # skip the cancelled
            if not live:
                self._slots.release()
                continue
            self._launch(live)

    def _drain(self, batch: list[_Entry[T, R]]) -> bool:
        """Move already-queued requests into `batch`; True once the stop marker is seen."""
        while len(batch) < self._max_batch_size and not self._queue.empty():
            entry = self._queue.get_nowait()
            if entry is _STOP:
                return True
            batch.append(entry)  # type: ignore[arg-type]
        return False

    async def _wait_for_more(self, batch: list[_Entry[T, R]]) -> bool:
        """Wait up to max_wait for the batch to fill; True once the stop marker is seen."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._max_wait_s
        while len(batch) < self._max_batch_size:
            try:
                entry = await asyncio.wait_for(self._queue.get(), deadline - loop.time())
            except TimeoutError:
                return False
            if entry is _STOP:
                return True
            batch.append(entry)  # type: ignore[arg-type]
        return False

    def _launch(self, batch: list[_Entry[T, R]]) -> None:
        """Hand the batch to the executor now; a task delivers its results."""
        items = [item for item, _ in batch]
        self.batches += 1
        self.items += len(items)
        loop = asyncio.get_running_loop()
        running = loop.run_in_executor(self._executor, self._process, items)
        task = loop.create_task(self._deliver(batch, running))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _deliver(self, batch: list[_Entry[T, R]], running: asyncio.Future[list[R]]) -> None:
        assert self._slots is not None
        try:
            try:
                results = await running
            finally:
                self._slots.release()  # the next batch goes before these results are handed out
            if len(results) != len(batch):
                raise ValueError(f"process returned {len(results)} results for {len(batch)} items")
        except Exception as err:
            for _, future in batch:
                if not future.done():
                    future.set_exception(err)
        else:
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
