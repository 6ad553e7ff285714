"""What every device link (a serial port, a UDP socket) gives the bridge: frames in, with
the route back to the device that sent them, and a way to send a packet out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from slm_mesh.firmware_bridge.frames import Received, Rejected

Address = tuple[str, int]
"""A UDP peer: host and port."""


class LinkDown(Exception):
    """The packet cannot be sent: the port is unplugged, the socket closed."""


class Link(Protocol):
    @property
    def name(self) -> str:
        """`serial:/dev/ttyACM0`, `udp:0.0.0.0:5683`."""
        ...

    async def send(self, packet: bytes, address: Address | None) -> None:
        """Send one packet (its 0x00 included); LinkDown when it cannot go."""
        ...


@dataclass(frozen=True)
class Route:
    """Where a device was last heard: a link, and on UDP its address."""

    link: Link
    address: Address | None = None

    def __str__(self) -> str:
        if self.address is None:
            return self.link.name
        return f"udp:{self.address[0]}:{self.address[1]}"


Deliver = Callable[[list[Received | Rejected], Route], None]
"""Hands what a link read (frames, and packets it dropped) to the bridge, on the loop."""
