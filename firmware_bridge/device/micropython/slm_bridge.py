"""slm-mesh firmware bridge client for MicroPython (ESP32, RP2040, ...): one file, no
dependencies. Copy it to the board and:

    from machine import UART
    import slm_bridge

    client = slm_bridge.Client("esp32-lounge", slm_bridge.UartLink(UART(1, 115200)))
    client.text("lights off")                  # a voice-command transcript
    client.button("a", slm_bridge.PRESS_SHORT)
    client.sensor("temperature", 21.5, "°C")
    for message in client.poll():              # answers and commands, as dicts
        print(message)
    client.heartbeat()                         # every `interval_s` seconds

Over Wi-Fi: `slm_bridge.UdpLink("192.168.1.10", 5683)` instead of the UART link. With a
device key (`key=bytes.fromhex(...)`, the same as in the bridge's --keys file) every frame
is signed and only signed frames are taken from the bridge.

Wire format (the bridge's firmware_bridge/frames.py): COBS(flags | Frame | [tag] | crc32)
then 0x00; Frame is slm_mesh.v1.Frame (protos/slm_mesh/v1/bridge.proto), written here by
a minimal protobuf encoder. Function annotations and type comments are for the host's
type checker; MicroPython ignores them (no variable annotations, which older ports refuse).
"""

import hashlib
import os
import socket
import struct
import time

try:  # most ports have binascii.crc32; older ones call the module ubinascii
    _crc32_builtin = getattr(__import__("binascii"), "crc32", None)
except ImportError:
    _crc32_builtin = None

VERSION = 1
FLAG_TAGGED = 0x01
TAG_BYTES = 16
MAX_PACKET_BYTES = 1024

PRESS_SHORT = 1
PRESS_LONG = 2
PRESS_DOUBLE = 3
PRESS_RELEASE = 4

# Field numbers of slm_mesh.v1.Frame and its bodies.
_EVENT, _COMMAND, _ANSWER, _HEARTBEAT = 10, 11, 12, 13
_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


# -- COBS


def cobs_encode(data: bytes) -> bytes:
    out = bytearray(1)
    code_at = 0
    code = 1
    last = len(data) - 1
    for i in range(len(data)):
        byte = data[i]
        if byte:
            out.append(byte)
            code += 1
        if not byte or code == 0xFF:
            out[code_at] = code
            code = 1
            code_at = len(out)
            if not byte or i < last:
                out.append(0)
    if code_at < len(out):
        out[code_at] = code
    return bytes(out)


def cobs_decode(packet: bytes) -> bytes:
    out = bytearray()
    i = 0
    end = len(packet)
    while i < end:
        code = packet[i]
        if code == 0 or i + code > end:
            raise ValueError("bad COBS")
        block = packet[i + 1 : i + code]
        if 0 in block:
            raise ValueError("bad COBS")
        out.extend(block)
        i += code
        if code < 0xFF and i < end:
            out.append(0)
    return bytes(out)


# -- CRC-32 (zlib's) and HMAC-SHA256


def crc32(data: bytes) -> int:
    if _crc32_builtin is not None:
        return int(_crc32_builtin(data)) & 0xFFFFFFFF
    return crc32_bitwise(data)


def crc32_bitwise(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key + bytes(64 - len(key))
    inner = hashlib.sha256(bytes([b ^ 0x36 for b in key]) + data).digest()
    return hashlib.sha256(bytes([b ^ 0x5C for b in key]) + inner).digest()


def _same(a: bytes, b: bytes) -> bool:
    """Equal, in time that does not depend on where they differ."""
    if len(a) != len(b):
        return False
    diff = 0
    for i in range(len(a)):
        diff |= a[i] ^ b[i]
    return diff == 0


# -- packets


def pack(frame: bytes, key: bytes | None = None) -> bytes:
    """The packet for an encoded Frame, its closing 0x00 included."""
    body = bytes([FLAG_TAGGED if key else 0]) + frame
    if key:
        body += hmac_sha256(key, body)[:TAG_BYTES]
    body += struct.pack("<I", crc32(body))
    return cobs_encode(body) + b"\x00"


def unpack(packet: bytes, key: bytes | None = None) -> bytes:
    """The Frame's bytes in one packet (without its 0x00); ValueError when it is bad,
    or unsigned while we hold a key."""
    data = cobs_decode(packet)
    if len(data) < 5 or struct.unpack("<I", data[-4:])[0] != crc32(data[:-4]):
        raise ValueError("bad CRC")
    body = data[:-4]
    flags = body[0]
    if flags & ~FLAG_TAGGED:
        raise ValueError("unknown flags")
    if flags & FLAG_TAGGED:
        if len(body) < 1 + TAG_BYTES:
            raise ValueError("short")
        signed, tag = body[:-TAG_BYTES], body[-TAG_BYTES:]
        if key and not _same(hmac_sha256(key, signed)[:TAG_BYTES], tag):
            raise ValueError("bad tag")
        return signed[1:]
    if key:
        raise ValueError("unsigned")
    return body[1:]


class Deframer:
    """Packets out of a byte stream, in whatever pieces it comes."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._overflow = False

    def feed(self, data: bytes) -> list[bytes]:
        packets = []  # type: list[bytes]
        for byte in data:
            if byte == 0:
                if self._buffer and not self._overflow:
                    packets.append(bytes(self._buffer))
                self._buffer = bytearray()
                self._overflow = False
            elif len(self._buffer) < MAX_PACKET_BYTES + 8:
                self._buffer.append(byte)
            else:
                self._overflow = True
        return packets


# -- protobuf: just what a Frame needs


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _uint(number: int, value: int) -> bytes:
    return _key(number, _VARINT) + _varint(value) if value else b""


def _bytes(number: int, value: bytes, always: bool = False) -> bytes:
    if not value and not always:
        return b""
    return _key(number, _BYTES) + _varint(len(value)) + value


def _text(number: int, value: str, always: bool = False) -> bytes:
    return _bytes(number, value.encode("utf-8"), always)


def _double(number: int, value: float) -> bytes:
    return _key(number, _FIXED64) + struct.pack("<d", value) if value else b""


def encode_frame(
    device: str, seq: int, body_field: int, body: bytes, boot_id: int = 0, timestamp_ms: int = 0
) -> bytes:
    """A Frame whose body (`body_field`, e.g. 10 for an event) holds the message `body`."""
    return (
        _uint(1, VERSION)
        + _text(2, device)
        + _uint(3, seq)
        + _uint(4, timestamp_ms)
        + _uint(5, boot_id)
        + _bytes(body_field, body, True)
    )


def text_event(text: str, area: str = "") -> bytes:
    return _text(1, text, True) + _text(4, area)


def button_event(name: str, press: int = PRESS_SHORT, area: str = "") -> bytes:
    return _bytes(2, _text(1, name) + _uint(2, press), True) + _text(4, area)


def sensor_event(name: str, value: float, unit: str = "", area: str = "") -> bytes:
    sensor = _text(1, name) + _double(2, value) + _text(3, unit)
    return _bytes(3, sensor, True) + _text(4, area)


def heartbeat(uptime_ms: int, interval_s: int = 0) -> bytes:
    return _uint(1, uptime_ms) + _uint(2, interval_s)


def fields(data: bytes) -> dict[int, list[int | bytes]]:
    """A protobuf message's fields by number: ints for varints, bytes for the rest."""
    found = {}  # type: dict[int, list[int | bytes]]
    i = 0
    while i < len(data):
        key, i = _read_varint(data, i)
        number, wire = key >> 3, key & 7
        value = 0  # type: int | bytes
        if wire == _VARINT:
            value, i = _read_varint(data, i)
        elif wire == _BYTES:
            length, i = _read_varint(data, i)
            value = data[i : i + length]
            i += length
        elif wire == _FIXED64:
            value = data[i : i + 8]
            i += 8
        elif wire == _FIXED32:
            value = data[i : i + 4]
            i += 4
        else:
            raise ValueError("unknown wire type")
        if i > len(data):
            raise ValueError("truncated")
        found.setdefault(number, []).append(value)
    return found


def _read_varint(data: bytes, i: int) -> tuple[int, int]:
    value = 0
    shift = 0
    while True:
        if i >= len(data) or shift > 63:
            raise ValueError("bad varint")
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


def _one_int(found: dict[int, list[int | bytes]], number: int) -> int:
    value = found.get(number, [0])[-1]
    return value if isinstance(value, int) else 0


def _one_bytes(found: dict[int, list[int | bytes]], number: int) -> bytes:
    value = found.get(number, [b""])[-1]
    return value if isinstance(value, bytes) else b""


def _one_text(found: dict[int, list[int | bytes]], number: int) -> str:
    return _one_bytes(found, number).decode("utf-8")


def decode_frame(data: bytes) -> dict[str, object]:
    """A Frame from the bridge: {"device", "seq", "boot_id", "timestamp_ms"} and
    "answer" ({"seq", "text", "intent", "slots", "tier", "confidence", "error"}) or
    "command" ({"name", "payload"})."""
    found = fields(data)
    frame = {  # type: dict[str, object]
        "version": _one_int(found, 1),
        "device": _one_text(found, 2),
        "seq": _one_int(found, 3),
        "timestamp_ms": _one_int(found, 4),
        "boot_id": _one_int(found, 5),
    }
    if _ANSWER in found:
        answer = fields(_one_bytes(found, _ANSWER))
        slots = {}  # type: dict[str, str]
        for entry in answer.get(4, []):
            if isinstance(entry, bytes):
                pair = fields(entry)
                slots[_one_text(pair, 1)] = _one_text(pair, 2)
        confidence = _one_bytes(answer, 6)
        frame["answer"] = {
            "seq": _one_int(answer, 1),
            "text": _one_text(answer, 2),
            "intent": _one_text(answer, 3),
            "slots": slots,
            "tier": _one_text(answer, 5),
            "confidence": struct.unpack("<f", confidence)[0] if len(confidence) == 4 else 0.0,
            "error": _one_text(answer, 7),
        }
    if _COMMAND in found:
        command = fields(_one_bytes(found, _COMMAND))
        frame["command"] = {"name": _one_text(command, 1), "payload": _one_text(command, 2)}
    return frame


# -- links


class Link:
    """Bytes out and in; `read` never waits."""

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    def read(self) -> bytes:
        raise NotImplementedError


class UartLink(Link):
    """A machine.UART (or anything with write(bytes) and read() -> bytes | None)."""

    def __init__(self, uart: Link) -> None:
        self.uart = uart

    def write(self, data: bytes) -> None:
        self.uart.write(data)

    def read(self) -> bytes:
        return self.uart.read() or b""


class UdpLink(Link):
    """Datagrams to the bridge's --udp address; answers come back to our port."""

    def __init__(self, host: str, port: int) -> None:
        self.address = socket.getaddrinfo(host, port)[0][-1]
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.setblocking(False)

    def write(self, data: bytes) -> None:
        self.socket.sendto(data, self.address)

    def read(self) -> bytes:
        try:
            return self.socket.recv(MAX_PACKET_BYTES * 2)
        except OSError:  # nothing waiting
            return b""

    def close(self) -> None:
        self.socket.close()


# -- the client


def _uptime_ms() -> int:
    ticks = getattr(time, "ticks_ms", None)
    if ticks is not None:
        return int(ticks())
    return int(time.monotonic() * 1000)


def _random_boot_id() -> int:
    try:
        return int.from_bytes(os.urandom(4), "little") or 1
    except (AttributeError, NotImplementedError, OSError):
        return 0


class Client:
    """One device: numbers its frames, signs them when it has a key, and reads what the
    bridge sends back. `clock_ms`, when the board keeps time (after ntptime.settime()),
    gives milliseconds since the Unix epoch."""

    def __init__(
        self,
        device: str,
        link: Link,
        key: bytes | None = None,
        boot_id: int | None = None,
        interval_s: int = 10,
        clock_ms: object = None,
    ) -> None:
        self.device = device
        self.link = link
        self.key = key
        self.boot_id = _random_boot_id() if boot_id is None else boot_id
        self.interval_s = interval_s
        self.clock_ms = clock_ms
        self.seq = 0
        self.dropped = 0
        self._deframer = Deframer()
        self._started = False

    def _send(self, body_field: int, body: bytes) -> int:
        seq = self.seq
        now = self.clock_ms() if callable(self.clock_ms) else 0
        frame = encode_frame(self.device, seq, body_field, body, self.boot_id, int(now))
        packet = pack(frame, self.key)
        if not self._started:  # a zero first ends whatever noise the line held
            packet = b"\x00" + packet
            self._started = True
        self.link.write(packet)
        self.seq = (seq + 1) & 0xFFFFFFFF
        return seq

    def text(self, text: str, area: str = "") -> int:
        """Ask the mesh; the answer comes back (`poll`) with this sequence number."""
        return self._send(_EVENT, text_event(text, area))

    def button(self, name: str, press: int = PRESS_SHORT, area: str = "") -> int:
        return self._send(_EVENT, button_event(name, press, area))

    def sensor(self, name: str, value: float, unit: str = "", area: str = "") -> int:
        return self._send(_EVENT, sensor_event(name, value, unit, area))

    def heartbeat(self) -> int:
        return self._send(_HEARTBEAT, heartbeat(_uptime_ms(), self.interval_s))

    def poll(self) -> list[dict[str, object]]:
        """What the bridge sent since the last call: answers and commands for us."""
        return self.feed(self.link.read())

    def feed(self, data: bytes) -> list[dict[str, object]]:
        messages = []  # type: list[dict[str, object]]
        for packet in self._deframer.feed(data):
            try:
                frame = decode_frame(unpack(packet, self.key))
            except (ValueError, UnicodeError):
                self.dropped += 1
                continue
            if frame["device"] != self.device:
                self.dropped += 1
                continue
            messages.append(frame)
        return messages
