"""Whether requests come one at a time or back to back: when a lone one may skip the queue.

A request that finds nothing else going on runs the model right on the event loop: handing
it to a worker thread and back costs a few tenths of a millisecond on a small machine, as
much as a third of the answer. Under load that would be wrong: while the loop runs the
model, everyone else waits, and since nothing ever queues, the loop would never find out.
So a request is alone only when no other is in flight and the last one finished at least
`back_to_back_s` before it arrived; once load is seen, it is remembered for `memory_s`.

A lone caller's next request cannot come sooner than a loopback round trip after its
answer (0.4 ms or more on a 2-core box); under load, requests are in flight all the time
and the next one is often already waiting.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class Pace:
    def __init__(
        self,
        *,
        back_to_back_s: float = 0.0003,
        memory_s: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if back_to_back_s < 0 or memory_s < 0:
            raise ValueError("back_to_back_s and memory_s must not be negative")
        self._back_to_back_s = back_to_back_s
        self._memory_s = memory_s
        self._clock = clock
        self._in_flight = 0
        self._last_finished = -math.inf
        self._load_until = -math.inf

    def arrive(self) -> bool:
        """Count a request in; True when it came alone. Pair each call with `leave`."""
        now = self._clock()
        if self._in_flight or now - self._last_finished < self._back_to_back_s:
            self._load_until = now + self._memory_s
        self._in_flight += 1
        return now >= self._load_until

    def leave(self) -> None:
        self._in_flight -= 1
        self._last_finished = self._clock()
