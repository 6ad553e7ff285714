"""The bridge's topics, beside the mesh's (`services/runtime/topics.py`).

<prefix>/event/<device>                      a device's text event, to the router (its JSON)
<prefix>/device/<device>/status              retained: {"state": "online" | "offline", ...}
<prefix>/device/<device>/button/<name>       a button press: {"press": "short", ...}
<prefix>/device/<device>/sensor/<name>       retained: a reading, {"value", "unit", ...}
<prefix>/device/<device>/command/<name>      to the device: the payload, as text
<prefix>/status/bridge/<instance>            retained: the bridge's own status, last will
"""

from __future__ import annotations

from dataclasses import dataclass

from slm_mesh.firmware_bridge.frames import is_name


@dataclass(frozen=True)
class BridgeTopics:
    prefix: str = "slm-mesh"

    def _device(self, device: str) -> str:
        return f"{self.prefix}/device/{device}"

    def status(self, device: str) -> str:
        return f"{self._device(device)}/status"

    def button(self, device: str, name: str) -> str:
        return f"{self._device(device)}/button/{name}"

    def sensor(self, device: str, name: str) -> str:
        return f"{self._device(device)}/sensor/{name}"

    def command(self, device: str = "+", name: str = "+") -> str:
        return f"{self._device(device)}/command/{name}"

    def command_target(self, topic: str) -> tuple[str, str] | None:
        """(device, command name) from a command topic; None for any other topic."""
        head = f"{self.prefix}/device/"
        if not topic.startswith(head):
            return None
        parts = topic[len(head) :].split("/")
        if len(parts) != 3 or parts[1] != "command":
            return None
        device, _, name = parts
        return (device, name) if is_name(device) and is_name(name) else None
