"""Dynamic micro-batching: concurrent requests share one model call, as in Triton.

Policy: a request that finds the model free goes to it at once, alone, so batching never
adds latency to a lone request. While a batch is running, the next one waits: up to
`max_wait_ms` for more requests (the model is busy anyway), then for a free slot, and is
formed at that moment from everything waiting. Batches run in an executor thread, leaving
the event loop free; the moment one finishes, its slot is given back and the next batch is
handed over before the finished batch's results are delivered, so the model never waits on
the event loop.

Fairness: each `submit` or `submit_many` call is a group, and a batch takes one item from
each waiting group in turn, so one caller's many items cannot keep a later caller waiting.
Groups not served yet take turns with those already served: a call that arrives behind big
ones joins the very next batch (unless many other new calls came just before it), and a
stream of new calls cannot starve the big ones either. A batch holds at most
`max_batch_size` items and `max_batch_cost` in all (`cost` of each item; one item alone may
exceed it), so it holds the model for a bounded time.

Items whose caller has gone (cancelled, or failed by another of its items' batches) are
dropped as batches form and never reach `process`; a batch already running cannot be
interrupted, and runs to its end.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
from collections import deque
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_Entry = tuple[T, asyncio.Future[R], float]
"""An item, the future its caller awaits, and its cost."""
_Group = deque[_Entry[T, R]]
"""The items of one call still waiting, in order."""


def _free(item: object) -> float:
    return 0.0


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
        cost: Callable[[T], float] | None = None,
        max_batch_cost: float | None = None,
    ) -> None:
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be at least 1, got {max_batch_size}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must not be negative, got {max_wait_ms}")
        if max_concurrent_batches < 1:
            raise ValueError(
                f"max_concurrent_batches must be at least 1, got {max_concurrent_batches}"
            )
        if (cost is None) != (max_batch_cost is None):
            raise ValueError("give cost and max_batch_cost together, or neither")
        if max_batch_cost is not None and max_batch_cost <= 0:
            raise ValueError(f"max_batch_cost must be positive, got {max_batch_cost}")
        self._process = process
        self._max_batch_size = max_batch_size
        self._max_wait_s = max_wait_ms / 1000
        self._cost = cost or _free
        self._max_cost = math.inf if max_batch_cost is None else max_batch_cost
        self._own_executor = executor is None
        self._executor = executor or concurrent.futures.ThreadPoolExecutor(
            max_workers=max_concurrent_batches, thread_name_prefix="micro-batch"
        )
        self._max_concurrent = max_concurrent_batches
        self._new: deque[_Group[T, R]] = deque()
        """Groups none of whose items has been taken yet, in order of arrival."""
        self._served: deque[_Group[T, R]] = deque()
        """Groups with items taken and items left, in turn."""
        self._waiting = 0
        self._waiting_cost = 0.0
        self._arrived = asyncio.Event()
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
            self._arrived.set()
            await self._collector
            await asyncio.gather(*self._running)
        if self._own_executor:
            self._executor.shutdown(wait=False)

    async def __aenter__(self) -> MicroBatcher[T, R]:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def watch(self) -> None:
        """Until the batcher closes; with the collector's error if it dies instead, so a
        supervisor (`runtime/supervise.py`) sees it rather than callers waiting in vain."""
        if self._collector is None:
            raise RuntimeError("MicroBatcher not started: call start() or use `async with`")
        await asyncio.shield(self._collector)

    @property
    def idle(self) -> bool:
        """Nothing queued and no batch running."""
        return not self._running and not self._waiting

    async def submit(self, item: T) -> R:
        """The result for one item, computed in a batch with whatever else is waiting."""
        (future,) = self._enqueue((item,))
        return await future

    async def submit_many(self, items: Iterable[T]) -> list[R]:
        """Results for several items, in order; they may be split across batches."""
        futures = self._enqueue(items)
        try:
            return list(await asyncio.gather(*futures))
        except BaseException:
            for future in futures:  # the caller is gone: what is still queued is dropped
                future.cancel()
            raise

    def _enqueue(self, items: Iterable[T]) -> list[asyncio.Future[R]]:
        if self._closed:
            raise RuntimeError("this MicroBatcher is closed")
        if self._collector is None:
            raise RuntimeError("MicroBatcher not started: call start() or use `async with`")
        create_future = asyncio.get_running_loop().create_future
        group: _Group[T, R] = deque((item, create_future(), self._cost(item)) for item in items)
        if group:
            self._new.append(group)
            self._waiting += len(group)
            self._waiting_cost += sum(cost for _, _, cost in group)
            self._arrived.set()
        return [future for _, future, _ in group]

    async def _collect(self) -> None:
        assert self._slots is not None
        while True:
            if not self._waiting:
                if self._closed:
                    return
                self._arrived.clear()
                await self._arrived.wait()
                continue
            if self._running and not self._closed:
                await self._wait_for_more()
            await self._slots.acquire()
            batch = self._take()
            if batch:
                self._launch(batch)
            else:  # everything waiting had been cancelled
                self._slots.release()

    def _full(self) -> bool:
        return self._waiting >= self._max_batch_size or self._waiting_cost >= self._max_cost

    async def _wait_for_more(self) -> None:
        """Wait up to max_wait for a full batch's worth of items (or for aclose)."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout_at(loop.time() + self._max_wait_s):
                while not self._full() and not self._closed:
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            pass

    def _take(self) -> list[tuple[T, asyncio.Future[R]]]:
        """The next batch: one item per group in turn, new groups and served ones alternating,
        within the size and cost bounds; items whose caller is gone are dropped on the way."""
        batch: list[tuple[T, asyncio.Future[R]]] = []
        total = 0.0
        new_turn = True
        while len(batch) < self._max_batch_size:
            groups = self._new if (new_turn and self._new) or not self._served else self._served
            if not groups:
                break
            group = groups[0]
            item, future, cost = group[0]
            if not future.done() and batch and total + cost > self._max_cost:
                break
            group.popleft()
            self._waiting -= 1
            self._waiting_cost -= cost
            if future.done():  # cancelled: its caller has gone
                if not group:
                    groups.popleft()
                continue
            batch.append((item, future))
            total += cost
            groups.popleft()
            if group:
                self._served.append(group)
            new_turn = groups is self._served
        return batch

    def _launch(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        """Hand the batch to the executor now; a task delivers its results."""
        items = [item for item, _ in batch]
        self.batches += 1
        self.items += len(items)
        loop = asyncio.get_running_loop()
        running = loop.run_in_executor(self._executor, self._process, items)
        task = loop.create_task(self._deliver(batch, running))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _deliver(
        self, batch: list[tuple[T, asyncio.Future[R]]], running: asyncio.Future[list[R]]
    ) -> None:
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
