"""Consistent Overhead Byte Stuffing (Cheshire and Baker, 1999): a packet without a single
zero byte, so 0x00 can end each packet on a byte stream (pure).

Any n bytes encode to at most n + ceil(n / 254) + 1 bytes; after a lost byte or a reset
the next 0x00 puts a reader back in step. Written here rather than taken from PyPI (the
`cobs` package is fine): it is 40 lines, the same lines are in the MicroPython client and
the C reference (device/), and the three are tested to write identical bytes. The output
is the canonical encoding (a run of 254 non-zero bytes at the end adds no empty block).
"""

from __future__ import annotations

BLOCK = 0xFF
"""The code of a full block: 254 data bytes and no zero after them."""


class CobsError(ValueError):
    """The bytes are not a COBS encoding."""


def encode(data: bytes) -> bytes:
    """`data` with every zero byte removed; the 0x00 delimiter is not included."""
    out = bytearray(1)
    code_at = 0
    code = 1
    last = len(data) - 1
    for i, byte in enumerate(data):
        if byte:
            out.append(byte)
            code += 1
        if not byte or code == BLOCK:
            out[code_at] = code
            code = 1
            code_at = len(out)
            if not byte or i < last:
                out.append(0)
    if code_at < len(out):
        out[code_at] = code
    return bytes(out)


def decode(packet: bytes) -> bytes:
    """The data `encode` made `packet` from (without its 0x00 delimiter); CobsError when
    it holds a zero or a block runs past its end."""
    out = bytearray()
    i = 0
    end = len(packet)
    while i < end:
        code = packet[i]
        if code == 0:
            raise CobsError(f"a zero byte at {i} inside a packet")
        block_end = i + code
        if block_end > end:
            raise CobsError(f"the block at {i} runs {block_end - end} bytes past the end")
        block = packet[i + 1 : block_end]
        if 0 in block:
            raise CobsError(f"a zero byte inside the block at {i}")
        out += block
        i = block_end
        if code < BLOCK and i < end:
            out.append(0)
    return bytes(out)


def max_encoded_length(length: int) -> int:
    """The most bytes `encode` writes for `length` bytes of data."""
    return length + length // 254 + 1
