"""Requests seen lately, so a copy (QoS 1 delivers at least once; a device retries) is
answered once (pure).

A request is known by where its answer goes and by its own id or correlation data: two
devices that both number their requests from 1 are two requests, and a client cannot
silence another's request by sending its id first. Each key is remembered for
`remember_s` (the longest deadline a request may have) and at most `limit` keys at once,
the oldest forgotten first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable


class SeenRequests:
    def __init__(
        self,
        *,
        remember_s: float = 600.0,
        limit: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if remember_s <= 0 or limit < 1:
            raise ValueError("remember_s must be positive and limit at least 1")
        self._remember_s = remember_s
        self._limit = limit
        self._clock = clock
        self._until: OrderedDict[Hashable, float] = OrderedDict()

    def first_time(self, key: Hashable) -> bool:
        """True the first time `key` is seen within `remember_s`; remembers it."""
        now = self._clock()
        while self._until and next(iter(self._until.values())) <= now:
            self._until.popitem(last=False)
        if key in self._until:
            return False
        self._until[key] = now + self._remember_s
        if len(self._until) > self._limit:
            self._until.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._until)
