"""What the bridge did with what it got: counts, by kind and by why a thing was dropped."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class BridgeCounts:
    frames: int = 0
    """Frames taken from devices (new, whole, and allowed)."""
    events: int = 0
    answers: int = 0
    """Answer frames sent to devices."""
    heartbeats: int = 0
    commands: int = 0
    """Command frames sent to devices."""
    restarts: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    """Frames and commands dropped, by why: a packet's fault ("crc", "decode", ...),
    "duplicate", "stale", "old_boot", "direction", "busy", "command:retained", ..."""
    undeliverable: int = 0
    """Frames for a device that could not be sent (no route, port unplugged)."""
    failed: int = 0
    """Frames whose handling met a bug (logged with its traceback)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "frames": self.frames,
            "events": self.events,
            "answers": self.answers,
            "heartbeats": self.heartbeats,
            "commands": self.commands,
            "restarts": self.restarts,
            "dropped": dict(self.dropped),
            "undeliverable": self.undeliverable,
            "failed": self.failed,
        }
