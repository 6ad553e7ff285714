"""What a bridge serves: its links, the devices' keys, timeouts (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

from slm_mesh.firmware_bridge.keys import DeviceKeys
from slm_mesh.firmware_bridge.link import Address
from slm_mesh.firmware_bridge.presence import DEFAULT_INTERVAL_S
from slm_mesh.services.errors import EXIT_BAD_INPUT, SlmMeshError


class BridgeConfigError(SlmMeshError):
    """Options a bridge cannot run with; the message says which."""

    code = "misconfigured"
    exit_code = EXIT_BAD_INPUT


@dataclass(frozen=True)
class BridgeOptions:
    serial: tuple[str, ...] = ()
    """Serial ports: /dev/ttyACM0, /dev/serial/by-id/usb-…"""
    udp: Address | None = None
    """Where to listen for devices on the LAN; port 0 picks a free one."""
    baudrate: int = 115200
    keys: DeviceKeys = field(default_factory=DeviceKeys)
    require_keys: bool = False
    """On UDP, refuse every device that has no key (serial ports take any device)."""
    heartbeat_s: float = DEFAULT_INTERVAL_S
    """A device's heartbeat interval when its heartbeats do not say."""
    deadline_ms: int = 5000
    """How long the router has to answer a device's event."""
    max_in_flight: int = 64
    role: str = "bridge"
    """The broker login used when the URL names none (`broker_access`)."""

    def __post_init__(self) -> None:
        if not self.serial and self.udp is None:
            raise BridgeConfigError("nothing to bridge: give --serial PORT or --udp HOST:PORT")
        if self.require_keys and not self.keys.keys:
            raise BridgeConfigError("--require-keys needs device keys (--keys FILE)")
        if not 0 < self.deadline_ms <= 600_000:
            raise BridgeConfigError("the deadline is 1 to 600000 ms")
        if self.heartbeat_s <= 0:
            raise BridgeConfigError("the heartbeat interval must be positive")


def parse_udp(text: str) -> Address:
    """`HOST:PORT` (`[::]:5683` for IPv6) as an address to bind."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise BridgeConfigError(f"--udp {text!r}: expected HOST:PORT, e.g. 0.0.0.0:5683")
    return host, int(port)
