"""Which frames are new: duplicates dropped, restarts told from replays (pure).

Each device numbers its frames from 0 at every start (`Frame.seq`). The bridge keeps, per
device, the highest number seen and which of the 64 below it came (a sliding window, as
IPsec's anti-replay check does), so frames that UDP reorders are taken once each and a
repeat of any of them is dropped.

A device that restarts counts from 0 again. It says so by drawing a new `boot_id` (a
random number, or a boot counter kept in flash); a frame of a boot this device has
already left is a replay and is dropped. A device that cannot draw one (boot_id 0) is
taken to have restarted when it comes back after `gap_s` of silence (its heartbeat
timeout) with a number lower than before and low (under 64); a lower number from a device
that was talking a moment ago is a duplicate or a replay, and dropped. Frames dropped here
do not count as being heard from the device, so a boot_id-less device that restarts at
once loses what it sends until that silence has passed: devices should draw boot ids.

The table holds at most `max_devices` devices, the least recently heard leaving first.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Literal

WINDOW = 64
MAX_DEVICES = 4096
RETIRED_BOOTS = 8
"""Boot ids remembered per device, to refuse frames of a boot the device has left."""

Outcome = Literal["first", "next", "late", "restart", "duplicate", "stale", "old_boot"]


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    session: int
    """Unique, in this process, to one device's one boot: with `seq`, it names a frame."""

    @property
    def accepted(self) -> bool:
        return self.outcome in ("first", "next", "late", "restart")


@dataclass
class _Device:
    boot_id: int
    session: int
    highest: int
    seen: int
    """Bit i: frame `highest - i` came."""
    heard_at: float
    retired: deque[int] = field(default_factory=lambda: deque(maxlen=RETIRED_BOOTS))


class SequenceTracker:
    def __init__(self, *, window: int = WINDOW, max_devices: int = MAX_DEVICES) -> None:
        if not 1 <= window <= 1024:
            raise ValueError("the window is 1 to 1024 frames")
        self.window = window
        self.max_devices = max_devices
        self._devices: OrderedDict[str, _Device] = OrderedDict()
        self._sessions = 0

    def check(self, device: str, *, boot_id: int, seq: int, now: float, gap_s: float) -> Verdict:
        """Whether frame `seq` of `device` is new; `now` on a monotonic clock, `gap_s` the
        silence after which a boot_id-less device may have restarted."""
        state = self._devices.get(device)
        if state is None:
            return self._start(device, boot_id, seq, now, "first")
        if boot_id != state.boot_id:
            if boot_id != 0 and boot_id in state.retired:
                return Verdict("old_boot", state.session)
            if state.boot_id != 0:
                state.retired.append(state.boot_id)
            return self._start(device, boot_id, seq, now, "restart", retired=state.retired)
        if seq > state.highest:
            shift = seq - state.highest
            state.seen = ((state.seen << shift) | 1) & self._mask if shift < self.window else 1
            state.highest = seq
            return self._heard(device, state, now, "next")
        if self._restarted(state, boot_id, seq, now, gap_s):
            return self._start(device, boot_id, seq, now, "restart", retired=state.retired)
        behind = state.highest - seq
        if behind < self.window:
            bit = 1 << behind
            if state.seen & bit:
                return Verdict("duplicate", state.session)
            state.seen |= bit
            return self._heard(device, state, now, "late")
        return Verdict("stale", state.session)

    def _restarted(self, state: _Device, boot_id: int, seq: int, now: float, gap_s: float) -> bool:
        """A device without boot ids, back from silence with a lower, low number."""
        return (
            boot_id == 0
            and seq < state.highest
            and seq < self.window
            and now - state.heard_at >= gap_s
        )

    def forget(self, device: str) -> None:
        self._devices.pop(device, None)

    def __len__(self) -> int:
        return len(self._devices)

    @property
    def _mask(self) -> int:
        return (1 << self.window) - 1

    def _heard(self, device: str, state: _Device, now: float, outcome: Outcome) -> Verdict:
        state.heard_at = now
        self._devices.move_to_end(device)
        return Verdict(outcome, state.session)

    def _start(
        self,
        device: str,
        boot_id: int,
        seq: int,
        now: float,
        outcome: Outcome,
        *,
        retired: deque[int] | None = None,
    ) -> Verdict:
        self._sessions += 1
        state = _Device(boot_id=boot_id, session=self._sessions, highest=seq, seen=1, heard_at=now)
        if retired is not None:
            state.retired = retired
        self._devices[device] = state
        self._devices.move_to_end(device)
        while len(self._devices) > self.max_devices:
            self._devices.popitem(last=False)
        return Verdict(outcome, state.session)
