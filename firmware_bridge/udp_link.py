"""Devices on the LAN: one UDP socket, each datagram one or more packets (the end of the
datagram ends the last one). Answers go back to the address the device's last good frame
came from; with keys, only a frame with a good tag teaches the bridge an address, so a
host that forges a device's id can neither speak for it nor draw its answers away.
"""

from __future__ import annotations

import asyncio
import socket

import structlog

from slm_mesh.firmware_bridge.config import BridgeConfigError
from slm_mesh.firmware_bridge.frames import FrameReader
from slm_mesh.firmware_bridge.keys import DeviceKeys
from slm_mesh.firmware_bridge.link import Address, Deliver, LinkDown, Route

log = structlog.get_logger(__name__)


class UdpLink(asyncio.DatagramProtocol):
    def __init__(self, host: str, port: int, *, deliver: Deliver, keys: DeviceKeys) -> None:
        self.host = host
        self.port = port
        self.keys = keys
        self._deliver = deliver
        self._transport: asyncio.DatagramTransport | None = None
        self.datagrams = 0
        self.send_errors = 0

    @property
    def name(self) -> str:
        return f"udp:{self.host}:{self.port}"

    async def start(self) -> Address:
        """Bind the socket; the address it got (port 0 picks a free one)."""
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: self, local_addr=(self.host, self.port), family=family
            )
        except OSError as err:
            raise BridgeConfigError(
                f"cannot listen on UDP {self.host}:{self.port}: {err}"
            ) from None
        self._transport = transport
        sockname = transport.get_extra_info("sockname")
        self.port = int(sockname[1])
        log.info("udp link listening", address=f"{self.host}:{self.port}")
        return str(sockname[0]), self.port

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.datagrams += 1
        address = (str(addr[0]), int(str(addr[1])))
        reader = FrameReader(self.keys)
        try:
            self._deliver([*reader.feed(data), *reader.end()], Route(self, address))
        except Exception:  # the bridge counts its own; the socket must keep being read
            log.exception("udp datagram could not be handled", peer=f"{address[0]}:{address[1]}")

    def error_received(self, exc: Exception) -> None:
        """An ICMP error for something we sent (a device gone from the LAN): not fatal."""
        self.send_errors += 1
        log.debug("udp send error", why=str(exc))

    async def send(self, packet: bytes, address: Address | None) -> None:
        if self._transport is None or self._transport.is_closing():
            raise LinkDown(f"{self.name} is closed")
        if address is None:
            raise LinkDown(f"{self.name}: no address for the device")
        try:
            self._transport.sendto(packet, address)
        except OSError as err:
            self.send_errors += 1
            raise LinkDown(f"{self.name}: {err}") from None
