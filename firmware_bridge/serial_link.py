"""A device on a serial port (USB CDC, a USB-UART bridge, a Pi's UART), through pyserial.

The port is read on the event loop (`add_reader`, POSIX), so no thread waits on it; a
packet goes out in a worker thread, bounded by a write timeout, so a device that stopped
reading costs that packet and never stalls the loop. When the device is unplugged the
read fails, the port is closed and opened again, with a doubling delay, until the device
is back (its path may be a udev link such as /dev/serial/by-id/…, which follows it to
whatever ttyACM number it gets). Each connection starts a fresh frame reader, so half a
packet from before the unplug cannot join the first one after it.

The port opens with DTR and RTS released, so an ESP32 board's auto-reset circuit does
not hold the chip in reset or boot mode; an Arduino Uno still restarts when its port
opens, as with any serial monitor.
"""

from __future__ import annotations

import asyncio
import contextlib

import serial
import structlog

from slm_mesh.firmware_bridge.frames import FrameReader
from slm_mesh.firmware_bridge.keys import DeviceKeys
from slm_mesh.firmware_bridge.link import Address, Deliver, LinkDown, Route

log = structlog.get_logger(__name__)

RETRY_MIN_S = 0.25
RETRY_MAX_S = 5.0
WRITE_TIMEOUT_S = 1.0
READ_CHUNK = 4096


class SerialLink:
    def __init__(
        self,
        path: str,
        *,
        deliver: Deliver,
        keys: DeviceKeys,
        baudrate: int = 115200,
        retry_min_s: float = RETRY_MIN_S,
        retry_max_s: float = RETRY_MAX_S,
    ) -> None:
        self.path = path
        self.baudrate = baudrate
        self.keys = keys
        self._deliver = deliver
        self._retry_min_s = retry_min_s
        self._retry_max_s = retry_max_s
        self._port: serial.Serial | None = None
        self._write_lock = asyncio.Lock()
        self.connected = asyncio.Event()
        self.connects = 0
        self.disconnects = 0
        self.write_failures = 0

    @property
    def name(self) -> str:
        return f"serial:{self.path}"

    async def run(self) -> None:
        """Open the port, read it until it fails, and again; until cancelled."""
        delay = self._retry_min_s
        waiting_logged = False
        while True:
            try:
                port = self._open()  # pyserial opens with O_NONBLOCK: it does not wait
            except (serial.SerialException, OSError, ValueError) as err:
                if not waiting_logged:
                    log.warning("serial port not available; waiting", port=self.path, why=str(err))
                    waiting_logged = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max_s)
                continue
            delay, waiting_logged = self._retry_min_s, False
            why = await self._serve(port)
            log.warning("serial port lost; reopening", port=self.path, why=why)

    def _open(self) -> serial.Serial:
        port = serial.Serial()
        port.port = self.path
        port.baudrate = self.baudrate
        port.timeout = 0  # reads return what is there, at once
        port.write_timeout = WRITE_TIMEOUT_S
        port.exclusive = True  # one bridge per port
        port.dtr = False
        port.rts = False
        port.open()
        return port

    async def _serve(self, port: serial.Serial) -> str:
        """Read `port` until it fails; why it did."""
        loop = asyncio.get_running_loop()
        lost: asyncio.Future[str] = loop.create_future()
        reader = FrameReader(self.keys)
        route = Route(self)

        def readable() -> None:
            try:
                data = port.read(READ_CHUNK)
            except (serial.SerialException, OSError) as err:
                if not lost.done():
                    lost.set_result(str(err))
                return
            if data:
                try:
                    self._deliver(reader.feed(data), route)
                except Exception:  # the bridge counts its own; this must not stop reading
                    log.exception("serial data could not be handled", port=self.path)

        fd = port.fileno()
        loop.add_reader(fd, readable)
        self._port = port
        self.connects += 1
        self.connected.set()
        log.info("serial port open", port=self.path, baudrate=self.baudrate)
        try:
            return await lost
        finally:
            loop.remove_reader(fd)
            self._port = None
            self.connected.clear()
            self.disconnects += 1
            with contextlib.suppress(Exception):
                port.close()

    async def send(self, packet: bytes, address: Address | None = None) -> None:
        port = self._port
        if port is None:
            raise LinkDown(f"{self.name} is not connected")
        async with self._write_lock:
            try:
                await asyncio.to_thread(port.write, packet)
            except (serial.SerialException, OSError) as err:
                self.write_failures += 1
                raise LinkDown(f"{self.name}: {err}") from None
