"""Micro-batching: concurrent callers share batches, each gets its own answer."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable
from typing import TypeVar

import pytest

from slm_mesh.services.kit.batcher import MicroBatcher

T = TypeVar("T")


def _run(awaitable: Awaitable[T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(awaitable, timeout=20)  # fail, never hang

    return asyncio.run(bounded())


class Recorder:
    """A process function that doubles numbers and refuses negative ones."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.threads: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, items: list[int]) -> list[int]:
        with self.lock:
            self.batches.append(list(items))
            self.threads.append(threading.get_ident())
        if any(item < 0 for item in items):
            raise ValueError(f"negative item in {items}")
        return [item * 2 for item in items]


def test_concurrent_submits_share_batches_and_keep_their_answers() -> None:
    recorder = Recorder()

    async def scenario() -> list[int]:
        async with MicroBatcher(process=recorder, max_batch_size=8) as batcher:
            results = await asyncio.gather(*(batcher.submit(i) for i in range(20)))
        assert (batcher.batches, batcher.items) == (len(recorder.batches), 20)
        return results

    assert _run(scenario()) == [i * 2 for i in range(20)]
    sizes = [len(batch) for batch in recorder.batches]
    assert sum(sizes) == 20 and max(sizes) > 1 and max(sizes) <= 8


def test_submit_many_returns_results_in_order() -> None:
    async def scenario() -> list[int]:
        async with MicroBatcher(process=Recorder(), max_batch_size=3) as batcher:
            return await batcher.submit_many(range(10))

    assert _run(scenario()) == [i * 2 for i in range(10)]


def test_an_error_reaches_only_the_callers_of_its_batch() -> None:
    recorder = Recorder()

    async def scenario() -> list[object]:
        async with MicroBatcher(process=recorder, max_batch_size=2) as batcher:
            first = await asyncio.gather(
                *(batcher.submit(i) for i in (1, -1, 2, 3)), return_exceptions=True
            )
            return [*first, await batcher.submit(4)]

    results = _run(scenario())
    assert recorder.batches[:2] == [[1, -1], [2, 3]]
    assert all(isinstance(r, ValueError) for r in results[:2])
    assert results[2:] == [4, 6, 8]


def test_lone_requests_do_not_wait_for_a_batch_to_form() -> None:
    recorder = Recorder()

    async def scenario() -> list[int]:
        # A minute of max_wait: were a lone request held for it, the 20 s bound would fail.
        async with MicroBatcher(process=recorder, max_wait_ms=60_000) as batcher:
            return [await batcher.submit(i) for i in range(3)]

    assert _run(scenario()) == [0, 2, 4]
    assert recorder.batches == [[0], [1], [2]]


def test_requests_arriving_while_a_batch_runs_form_the_next_batch_off_the_event_loop() -> None:
    recorder = Recorder()
    running = threading.Event()
    release = threading.Event()

    def held_first(items: list[int]) -> list[int]:
        if not recorder.batches:
            running.set()
            release.wait(timeout=10)
        return recorder(items)

    async def scenario() -> list[int]:
        async with MicroBatcher(process=held_first, max_batch_size=8) as batcher:
            first = asyncio.create_task(batcher.submit(0))
            await asyncio.to_thread(running.wait, 10)
            later = [asyncio.create_task(batcher.submit(i)) for i in range(1, 6)]
            await asyncio.sleep(0.01)
            release.set()
            return [await first, *[await task for task in later]]

    assert _run(scenario()) == [i * 2 for i in range(6)]
    assert recorder.batches == [[0], [1, 2, 3, 4, 5]]
    assert threading.get_ident() not in recorder.threads


class Held:
    """A Recorder whose first batch holds the model until `release` is set, so that what
    callers submit meanwhile waits, and the next batches form from it."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.running = threading.Event()
        self.release = threading.Event()

    def __call__(self, items: list[int]) -> list[int]:
        if not self.recorder.batches:
            self.running.set()
            self.release.wait(timeout=10)
        return self.recorder(items)

    @property
    def batches(self) -> list[list[int]]:
        return self.recorder.batches

    async def hold_the_model(self, batcher: MicroBatcher[int, int]) -> asyncio.Task[int]:
        first = asyncio.create_task(batcher.submit(0))
        await asyncio.to_thread(self.running.wait, 10)
        return first


def test_a_small_call_after_a_big_one_joins_the_next_batch() -> None:
    held = Held()

    async def scenario() -> tuple[list[int], list[int]]:
        async with MicroBatcher(process=held, max_batch_size=4) as batcher:
            first = await held.hold_the_model(batcher)
            big = asyncio.create_task(batcher.submit_many(range(100, 120)))
            await asyncio.sleep(0)  # the big call is queued first
            small = asyncio.create_task(batcher.submit_many([7]))
            await asyncio.sleep(0)
            held.release.set()
            await first
            return await big, await small

    big, small = _run(scenario())
    assert (big, small) == ([i * 2 for i in range(100, 120)], [14])
    assert held.batches[0] == [0]
    assert 7 in held.batches[1]
    assert all(len(batch) <= 4 for batch in held.batches)


def test_waiting_calls_take_turns_within_each_batch() -> None:
    held = Held()

    async def scenario() -> None:
        async with MicroBatcher(process=held, max_batch_size=4) as batcher:
            first = await held.hold_the_model(batcher)
            calls = [asyncio.create_task(batcher.submit_many(range(n, n + 8))) for n in (10, 20)]
            await asyncio.sleep(0)
            held.release.set()
            await asyncio.gather(first, *calls)

    _run(scenario())
    rest = held.batches[1:]
    # A new call takes every other place until it is served; then all waiting calls rotate.
    assert rest[0] == [10, 11, 20, 12]
    assert rest[1] == [21, 13, 22, 14]
    assert sorted(item for batch in rest for item in batch) == [*range(10, 18), *range(20, 28)]


def test_a_batch_stays_within_its_cost_unless_one_item_alone_exceeds_it() -> None:
    held = Held()

    async def scenario() -> list[int]:
        async with MicroBatcher(
            process=held, max_batch_size=8, cost=float, max_batch_cost=25
        ) as batcher:
            first = await held.hold_the_model(batcher)
            call = asyncio.create_task(batcher.submit_many([10, 10, 10, 30, 1, 2]))
            await asyncio.sleep(0)
            held.release.set()
            await first
            return await call

    assert _run(scenario()) == [20, 20, 20, 60, 2, 4]
    assert held.batches == [[0], [10, 10], [10], [30], [1, 2]]


def test_a_cancelled_callers_queued_items_never_reach_process() -> None:
    held = Held()

    async def scenario() -> list[int]:
        async with MicroBatcher(process=held, max_batch_size=4) as batcher:
            first = await held.hold_the_model(batcher)
            gone = asyncio.create_task(batcher.submit_many(range(100, 110)))
            kept = asyncio.create_task(batcher.submit_many([7, 8]))
            await asyncio.sleep(0)  # both calls are queued behind the held batch
            gone.cancel()
            await asyncio.gather(gone, return_exceptions=True)
            assert gone.cancelled()
            held.release.set()
            await first
            return await kept

    assert _run(scenario()) == [14, 16]
    assert held.batches == [[0], [7, 8]]


def test_a_caller_failed_by_one_batch_has_its_later_items_dropped() -> None:
    recorder = Recorder()

    async def scenario() -> None:
        async with MicroBatcher(process=recorder, max_batch_size=2) as batcher:
            with pytest.raises(ValueError, match="negative"):
                await batcher.submit_many([1, -1, 2, 3, 4, 5, 6, 7])

    _run(scenario())
    # The batch after the failed one was already handed over when the error came back.
    assert recorder.batches == [[1, -1], [2, 3]]


def test_cancelled_callers_are_skipped() -> None:
    recorder = Recorder()

    async def scenario() -> int:
        async with MicroBatcher(process=recorder) as batcher:
            gone = asyncio.create_task(batcher.submit(1))
            kept = asyncio.create_task(batcher.submit(2))
            await asyncio.sleep(0)  # both are queued, the collector has not run yet
            gone.cancel()
            return await kept

    assert _run(scenario()) == 4
    assert recorder.batches == [[2]]


def test_aclose_finishes_queued_requests_then_refuses_new_ones() -> None:
    recorder = Recorder()

    async def scenario() -> list[int]:
        batcher: MicroBatcher[int, int] = MicroBatcher(process=recorder, max_batch_size=4)
        await batcher.start()
        pending = [asyncio.create_task(batcher.submit(i)) for i in range(10)]
        await asyncio.sleep(0)
        await batcher.aclose()
        await asyncio.sleep(0)  # let the callers see their resolved futures
        assert all(task.done() for task in pending)
        with pytest.raises(RuntimeError, match="closed"):
            await batcher.submit(99)
        return [task.result() for task in pending]

    assert _run(scenario()) == [i * 2 for i in range(10)]


def test_submit_before_start_is_a_clear_error() -> None:
    async def scenario() -> None:
        with pytest.raises(RuntimeError, match="not started"):
            await MicroBatcher(process=Recorder()).submit(1)

    _run(scenario())


def test_wrong_number_of_results_fails_the_batch() -> None:
    def drop_last(items: list[int]) -> list[int]:
        return items[:-1]

    async def scenario() -> None:
        async with MicroBatcher(process=drop_last) as batcher:
            with pytest.raises(ValueError, match="returned 0 results for 1 items"):
                await batcher.submit(1)

    _run(scenario())


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="max_batch_size"):
        MicroBatcher(process=Recorder(), max_batch_size=0)
    with pytest.raises(ValueError, match="max_wait_ms"):
        MicroBatcher(process=Recorder(), max_wait_ms=-1)
    with pytest.raises(ValueError, match="together"):
        MicroBatcher(process=Recorder(), max_batch_cost=10)
    with pytest.raises(ValueError, match="max_batch_cost"):
        MicroBatcher(process=Recorder(), cost=float, max_batch_cost=0)
