"""How many calls the fallback may make: per minute and per day, over sliding windows,
so a chatty device cannot run up a cloud bill or starve a shared model server."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

_MINUTE_S = 60.0
_DAY_S = 86_400.0


class CallBudget:
    """Two sliding windows of call times; a limit of 0 allows no calls at all."""

    def __init__(
        self,
        *,
        per_minute: int,
        per_day: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if per_minute < 0 or per_day < 0:
            raise ValueError(f"budget limits must not be negative: {per_minute}/min, {per_day}/day")
        self.per_minute = per_minute
        self.per_day = per_day
        self._clock = clock
        self._calls: deque[float] = deque()
        """Times of the calls in the last day, oldest first."""

    def _forget_old(self, now: float) -> None:
        while self._calls and now - self._calls[0] >= _DAY_S:
            self._calls.popleft()

    def _used(self, now: float) -> tuple[int, int]:
        self._forget_old(now)
        minute = sum(1 for t in reversed(self._calls) if now - t < _MINUTE_S)
        return minute, len(self._calls)

    def refusal(self) -> str | None:
        """Why a call may not go out now, or None when it may."""
        minute, day = self._used(self._clock())
        if minute >= self.per_minute:
            return f"budget spent: {self.per_minute}/min"
        if day >= self.per_day:
            return f"budget spent: {self.per_day}/day"
        return None

    def spend(self) -> None:
        """Count one call; check `refusal()` first."""
        self._calls.append(self._clock())

    def state(self) -> dict[str, int]:
        """Used and remaining calls, reported with every fallback answer."""
        minute, day = self._used(self._clock())
        return {
            "minute_used": minute,
            "minute_remaining": max(0, self.per_minute - minute),
            "day_used": day,
            "day_remaining": max(0, self.per_day - day),
        }
