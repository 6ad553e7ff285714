"""A small LRU cache with a time to live, so a repeated question ("what time is it?" from
a wall panel every minute) is answered without spending budget."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

CacheKey = tuple[str, str | None]
V = TypeVar("V")


def cache_key(text: str, area: str | None) -> CacheKey:
    """The same question said with other case or spacing, from the same area, is one key."""
    normal_area = " ".join(area.casefold().split()) if area else None
    return " ".join(text.casefold().split()).rstrip("?.!"), normal_area


class ResponseCache(Generic[V]):
    """At most `max_entries` values, each forgotten `ttl_s` seconds after it was stored;
    `max_entries=0` turns caching off."""

    def __init__(
        self,
        *,
        max_entries: int = 256,
        ttl_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 0:
            raise ValueError(f"max_entries must not be negative, not {max_entries}")
        if ttl_s <= 0:
            raise ValueError(f"ttl_s must be positive, not {ttl_s}")
        self._max = max_entries
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[CacheKey, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, value = entry
        if self._clock() - stored_at >= self._ttl_s:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def clear(self) -> None:
        self._entries.clear()

    def put(self, key: CacheKey, value: V) -> None:
        if self._max == 0:
            return
        self._entries[key] = (self._clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
