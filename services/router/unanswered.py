"""Requests no local tier could answer, kept for a person to review and for later training.

One JSON object a line; when the file reaches its size limit it moves to `<name>.1`
(replacing the older one), so the log never holds more than twice the limit.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any


class UnansweredLog:
    def __init__(self, *, path: Path, max_bytes: int = 1_000_000) -> None:
        if max_bytes < 1024:
            raise ValueError("max_bytes must be at least 1024")
        self.path = path
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def record(self, entry: dict[str, Any]) -> None:
        line = json.dumps({"time": round(time.time(), 3), **entry}, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            size = len(line.encode("utf-8"))
            if self.path.exists() and self.path.stat().st_size + size > self.max_bytes:
                self.path.replace(self.path.with_name(self.path.name + ".1"))
            with self.path.open("a", encoding="utf-8") as log_file:
                log_file.write(line)

    def entries(self) -> list[dict[str, Any]]:
        """Oldest first, across the rotated file and the current one."""
        older = self.path.with_name(self.path.name + ".1")
        return [
            json.loads(line)
            for path in (older, self.path)
            if path.exists()
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
