"""Requests no local tier could answer, kept for a person to review and for later training.

One JSON object a line, in a file only its owner may read (0600, in a 0700 directory it
creates): the records hold what people said at home. Each record is one `write` to a file
opened with O_APPEND, so concurrent writers never interleave, and a record cut short (a
crash, a full disk) is closed off by the next one instead of swallowing it; the reader
skips such a line and counts it. When the file reaches its size limit it moves to
`<name>.1` (replacing the older one), so the log never holds more than twice the limit.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import structlog

from slm_mesh.services.redact import scrub
from slm_mesh.services.settings import Settings

log = structlog.get_logger(__name__)

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


class UnansweredLog:
    def __init__(self, *, path: Path, max_bytes: int = 1_000_000) -> None:
        if max_bytes < 1024:
            raise ValueError("max_bytes must be at least 1024")
        self.path = path
        self.max_bytes = max_bytes
        self.damaged_lines = 0
        """Lines `entries()` skipped because they were not whole JSON records."""
        self._lock = threading.Lock()

    def record(self, entry: dict[str, Any]) -> None:
        """Append one record; OSError when it cannot be written (the caller decides)."""
        record = {"time": round(time.time(), 3), **entry}
        line = scrub(json.dumps(record, ensure_ascii=False)) + "\n"
        data = line.encode("utf-8")
        with self._lock:
            self._make_directory()
            if self.path.exists() and self.path.stat().st_size + len(data) > self.max_bytes:
                self.path.replace(self.path.with_name(self.path.name + ".1"))
            descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, FILE_MODE)
            try:
                os.fchmod(descriptor, FILE_MODE)  # a file made by an older version, or by hand
                if _ends_unfinished(descriptor):
                    data = b"\n" + data
                os.write(descriptor, data)
            finally:
                os.close(descriptor)

    def _make_directory(self) -> None:
        directory = self.path.parent
        if not directory.exists():
            directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)

    def entries(self) -> list[dict[str, Any]]:
        """Oldest first, across the rotated file and the current one; damaged lines are
        skipped and counted in `damaged_lines`."""
        older = self.path.with_name(self.path.name + ".1")
        found: list[dict[str, Any]] = []
        for path in (older, self.path):
            if not path.exists():
                continue
            for line in path.read_bytes().splitlines():
                if not line.strip():
                    continue
                try:
                    record = json.loads(line.decode("utf-8"))
                except (ValueError, RecursionError):
                    record = None
                if isinstance(record, dict):
                    found.append(record)
                else:
                    self.damaged_lines += 1
                    log.warning("damaged line in the unanswered log skipped", path=str(path))
        return found


def unanswered_log(settings: Settings) -> UnansweredLog:
    """The log the settings name (default: in the cache directory), read by the router
    and by `slm-mesh factory learn`."""
    path = settings.unanswered.log or settings.cache_dir / "unanswered" / "unanswered.jsonl"
    return UnansweredLog(path=path, max_bytes=settings.unanswered.log_max_bytes)


def _ends_unfinished(descriptor: int) -> bool:
    """Whether the file's last record was cut short (it does not end with a newline)."""
    size = os.fstat(descriptor).st_size
    return size > 0 and os.pread(descriptor, 1, size - 1) != b"\n"
