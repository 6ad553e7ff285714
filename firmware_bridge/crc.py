"""The frame check: CRC-32 as zlib, Ethernet and PNG compute it (CRC-32/ISO-HDLC:
polynomial 0x04C11DB7 reflected, initial value and final XOR 0xFFFFFFFF; the CRC of
b"123456789" is 0xCBF43926), sent little-endian after the bytes it covers (pure).

Why CRC-32 and not CRC-16/CCITT-FALSE: a serial line carries noise a 16-bit check lets
through once in 65,536 tries (an ESP32 prints its boot ROM's log on the same UART, a
half-plugged cable sends garbage, a reader joins mid-frame); 32 bits lets random bytes
through once in four billion, and still finds every error of up to 3 bits in frames of up
to 11 KB and every burst of up to 32 bits. It is built into CPython (zlib) and most
MicroPython ports (binascii.crc32), and is 10 lines of C without a table. Two more bytes
a frame is the whole cost.
"""

from __future__ import annotations

import zlib

CRC_BYTES = 4


def crc32(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def crc32_bitwise(data: bytes) -> int:
    """The same CRC one bit at a time, as the device code computes it (a reference)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def with_crc(data: bytes) -> bytes:
    """`data` followed by its CRC-32, little-endian."""
    return data + crc32(data).to_bytes(CRC_BYTES, "little")


def without_crc(data: bytes) -> bytes | None:
    """What precedes a CRC-32 that matches it; None when it does not (or is too short)."""
    if len(data) < CRC_BYTES:
        return None
    body, check = data[:-CRC_BYTES], data[-CRC_BYTES:]
    if crc32(body) != int.from_bytes(check, "little"):
        return None
    return body
