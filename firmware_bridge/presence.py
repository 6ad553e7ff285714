"""Which devices are online: heard from within their timeout, three heartbeat intervals
(the interval the device's heartbeats give, else the bridge's default) (pure).

MQTT gives one last will per connection, and the bridge holds one connection for all its
devices, so a device's presence is a retained status message the bridge keeps: "online"
when a device is first heard (or heard again after going silent), "offline" when it stays
silent past its timeout or the bridge stops. Each "online" status is sent with an MQTT 5
message expiry of twice the timeout and sent again every timeout while the device talks,
so the broker forgets it by itself when the bridge dies without a word; the bridge's own
status, whose last will the broker does publish, says so at once.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

DEFAULT_INTERVAL_S = 10.0
MISSES = 3
MAX_DEVICES = 4096


@dataclass
class _Device:
    link: str
    heard_at: float
    interval_s: float
    announced_at: float = float("-inf")
    online: bool = False


class Presence:
    def __init__(
        self,
        *,
        default_interval_s: float = DEFAULT_INTERVAL_S,
        misses: int = MISSES,
        max_devices: int = MAX_DEVICES,
    ) -> None:
        self.default_interval_s = default_interval_s
        self.misses = misses
        self.max_devices = max_devices
        self._devices: OrderedDict[str, _Device] = OrderedDict()

    def heard(self, device: str, *, now: float, link: str, interval_s: float | None = None) -> bool:
        """Note a frame from `device`; True when its status should be announced (it came
        online, or it moved to another link)."""
        state = self._devices.get(device)
        if state is None:
            state = _Device(link=link, heard_at=now, interval_s=self.default_interval_s)
            self._devices[device] = state
            while len(self._devices) > self.max_devices:
                self._devices.popitem(last=False)
        changed = not state.online or state.link != link
        state.link, state.heard_at, state.online = link, now, True
        if interval_s:
            state.interval_s = interval_s
        self._devices.move_to_end(device)
        return changed

    def timeout_s(self, device: str) -> float:
        state = self._devices.get(device)
        interval = state.interval_s if state is not None else self.default_interval_s
        return self.misses * interval

    def link(self, device: str) -> str | None:
        state = self._devices.get(device)
        return state.link if state is not None else None

    def announced(self, device: str, *, now: float) -> None:
        """Its status was just published."""
        state = self._devices.get(device)
        if state is not None:
            state.announced_at = now

    def gone_silent(self, *, now: float) -> list[str]:
        """Devices online until now and silent past their timeout: now offline."""
        gone = [
            device
            for device, state in self._devices.items()
            if state.online and now - state.heard_at >= self.timeout_s(device)
        ]
        for device in gone:
            self._devices[device].online = False
        return gone

    def due_again(self, *, now: float) -> list[str]:
        """Online devices whose retained status was published a timeout or more ago."""
        return [
            device
            for device, state in self._devices.items()
            if state.online and now - state.announced_at >= self.timeout_s(device)
        ]

    def online(self) -> list[str]:
        return [device for device, state in self._devices.items() if state.online]

    def is_online(self, device: str) -> bool:
        state = self._devices.get(device)
        return state is not None and state.online
