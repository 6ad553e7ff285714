"""Progress of a one-off long step (a model's int8 conversion, the intent heads trained for
a new home), shown where a person watches: on a terminal, one line on stderr redrawn in
place, then how long it took. Elsewhere (a container, a pipe) it writes nothing; the step
logs its start and end as every step does."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Self, TextIO


class Progress:
    def __init__(self, what: str, *, total: int = 0, stream: TextIO | None = None) -> None:
        """`total` steps to come (0: only that it runs, and how long it took)."""
        self.what = what
        self.total = total
        self.done = 0
        self._stream = stream or sys.stderr
        self._shown = self._stream.isatty()
        self._started = time.perf_counter()

    def __enter__(self) -> Self:
        self._draw()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._shown:
            outcome = "failed" if exc_type is not None else "done"
            seconds = time.perf_counter() - self._started
            self._stream.write(f"\r{self.what}: {outcome} in {seconds:.1f} s\x1b[K\n")
            self._stream.flush()

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        self._draw()

    def _draw(self) -> None:
        if not self._shown:
            return
        share = f" {min(100, 100 * self.done // self.total)}%" if self.total else " ..."
        self._stream.write(f"\r{self.what}:{share}\x1b[K")
        self._stream.flush()
