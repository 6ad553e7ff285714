"""One Frame on the wire, and a byte stream back into Frames (pure).

    packet  := COBS( flags | Frame | [tag] | crc32 ) 0x00

    flags   1 byte. Bit 0: a tag follows the Frame. Bits 1-7 are reserved, must be 0;
            a packet with any of them set is dropped (a later layout will set one).
    Frame   the protobuf message slm_mesh.v1.Frame (protos/slm_mesh/v1/bridge.proto).
    tag     16 bytes, only with flag bit 0: HMAC-SHA256 over flags | Frame with the
            device's key, truncated (`keys`).
    crc32   4 bytes, little-endian: CRC-32 (zlib's) over flags | Frame | tag (`crc`).
    0x00    ends the packet; COBS leaves no other zero in it (`cobs`).

A packet is at most 1024 bytes before COBS (1030 after). A reader drops, and reports
why, whatever fails: a packet over that size, bad COBS, a CRC that does not match, a
reserved flag, a Frame that does not decode, an unknown version, a device id that cannot
be a topic level, no body, or a missing or wrong tag from a device that has a key.
Empty packets (two zeros in a row) are skipped: a sender may start with 0x00 to end
whatever noise came before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from slm_mesh.firmware_bridge import cobs
from slm_mesh.firmware_bridge.crc import with_crc, without_crc
from slm_mesh.firmware_bridge.keys import TAG_BYTES, DeviceKeys, tag, tag_matches
from slm_mesh.v1.bridge_pb2 import Frame

VERSION = 1
FLAG_TAGGED = 0x01
KNOWN_FLAGS = FLAG_TAGGED
DELIMITER = b"\x00"
MAX_PACKET_BYTES = 1024
"""flags, Frame, tag and CRC together, before COBS."""
MAX_ENCODED_BYTES = cobs.max_encoded_length(MAX_PACKET_BYTES)
NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
"""A device id (or a button's or a sensor's name): one MQTT topic level, no wildcards."""

Reason = Literal[
    "oversize",
    "cobs",
    "crc",
    "flags",
    "decode",
    "version",
    "device",
    "body",
    "unauthenticated",
]


class FrameError(ValueError):
    def __init__(self, reason: Reason, detail: str, *, device: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: Reason = reason
        self.detail = detail
        self.device = device


@dataclass(frozen=True)
class Received:
    frame: Frame
    authenticated: bool
    """It carried a tag its device's key made."""


@dataclass(frozen=True)
class Rejected:
    reason: Reason
    detail: str
    device: str | None = None
    """The device the frame named, when it got as far as naming one."""


def is_name(text: str) -> bool:
    return NAME.fullmatch(text) is not None


def pack(frame: Frame, *, key: bytes | None = None) -> bytes:
    """The packet for `frame`, 0x00 included: tagged with `key` when one is given."""
    flags = FLAG_TAGGED if key is not None else 0
    body = bytes([flags]) + frame.SerializeToString()
    if key is not None:
        body += tag(key, body)
    data = with_crc(body)
    if len(data) > MAX_PACKET_BYTES:
        raise FrameError("oversize", f"{len(data)} bytes, over {MAX_PACKET_BYTES}")
    return cobs.encode(data) + DELIMITER


def unpack(packet: bytes, keys: DeviceKeys) -> Received:
    """The Frame in one COBS packet (without its 0x00); FrameError saying why not."""
    if len(packet) > MAX_ENCODED_BYTES:
        raise FrameError("oversize", f"{len(packet)} bytes, over {MAX_ENCODED_BYTES}")
    try:
        data = cobs.decode(packet)
    except cobs.CobsError as err:
        raise FrameError("cobs", str(err)) from None
    body = without_crc(data)
    if body is None:
        raise FrameError("crc", "the CRC-32 does not match")
    if not body:
        raise FrameError("decode", "no flags byte")
    flags = body[0]
    if flags & ~KNOWN_FLAGS:
        raise FrameError("flags", f"reserved flag bits set: {flags:#04x}")
    tagged = bool(flags & FLAG_TAGGED)
    if tagged and len(body) < 1 + TAG_BYTES:
        raise FrameError("decode", "too short for its tag")
    message = body[1 : len(body) - TAG_BYTES] if tagged else body[1:]
    frame = _parse(message)
    device = frame.device
    key = keys.key(device)
    authenticated = False
    if key is not None:
        if not tagged or not tag_matches(key, body[:-TAG_BYTES], body[-TAG_BYTES:]):
            why = "a wrong tag" if tagged else "no tag"
            raise FrameError("unauthenticated", f"{why} from a device with a key", device=device)
        authenticated = True
    elif keys.required:
        raise FrameError("unauthenticated", "a device without a key", device=device)
    return Received(frame=frame, authenticated=authenticated)


def _parse(message: bytes) -> Frame:
    frame = Frame()
    try:
        frame.ParseFromString(message)
    except Exception as err:  # DecodeError, and whatever else bad bytes make it raise
        raise FrameError("decode", f"not a Frame: {err}") from None
    if frame.version != VERSION:
        raise FrameError("version", f"version {frame.version}, not {VERSION}", device=frame.device)
    if not is_name(frame.device):
        raise FrameError("device", f"device id {frame.device[:80]!r} is not [A-Za-z0-9_.-]{{1,64}}")
    if frame.WhichOneof("body") is None:
        raise FrameError("body", "the frame has no body", device=frame.device)
    return frame


class FrameReader:
    """Frames out of a byte stream, fed in whatever pieces it arrives in. One reader per
    stream: a serial connection, or a single UDP datagram (whose end ends a packet)."""

    def __init__(self, keys: DeviceKeys) -> None:
        self.keys = keys
        self._buffer = bytearray()
        self._overflow = False

    def feed(self, data: bytes) -> list[Received | Rejected]:
        results: list[Received | Rejected] = []
        start = 0
        while (end := data.find(0, start)) >= 0:
            self._keep(data[start:end])
            result = self._finish()
            if result is not None:
                results.append(result)
            start = end + 1
        self._keep(data[start:])
        return results

    def end(self) -> list[Received | Rejected]:
        """The end of the stream ends the packet in progress (the end of a datagram)."""
        result = self._finish()
        return [] if result is None else [result]

    def _keep(self, piece: bytes) -> None:
        if self._overflow or not piece:
            return
        if len(self._buffer) + len(piece) > MAX_ENCODED_BYTES:
            self._overflow = True
            self._buffer.clear()
        else:
            self._buffer += piece

    def _finish(self) -> Received | Rejected | None:
        packet, overflow = bytes(self._buffer), self._overflow
        self._buffer.clear()
        self._overflow = False
        if overflow:
            return Rejected("oversize", f"a packet over {MAX_ENCODED_BYTES} bytes")
        if not packet:
            return None
        try:
            return unpack(packet, self.keys)
        except FrameError as err:
            return Rejected(err.reason, err.detail, err.device)
