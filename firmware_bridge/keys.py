"""Per-device shared keys: a frame from a device with a key must carry a tag, the first
16 bytes of HMAC-SHA256 (RFC 2104) with that key over the packet's flags and the Frame,
so a host on the LAN cannot speak for a device whose key it does not hold (pure, but for
reading a keys file).

A keys file holds one `device = hex key` a line (at least 16 bytes of key, 32 advised;
`#` starts a comment). Frames the bridge sends to a keyed device carry a tag too.
16 bytes (128 bits) is the truncation RFC 2104 and RFC 4868 advise: half the hash.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from slm_mesh.services.errors import EXIT_BAD_INPUT, SlmMeshError

TAG_BYTES = 16
MIN_KEY_BYTES = 16


class DeviceKeyError(SlmMeshError):
    """A key or a keys file that cannot be used; the message says which and why."""

    code = "misconfigured"
    exit_code = EXIT_BAD_INPUT


def tag(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()[:TAG_BYTES]


def tag_matches(key: bytes, data: bytes, given: bytes) -> bool:
    return hmac.compare_digest(tag(key, data), given)


def parse_key(text: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise DeviceKeyError("a device key is written in hex") from None
    if len(key) < MIN_KEY_BYTES:
        raise DeviceKeyError(f"a device key needs at least {MIN_KEY_BYTES} bytes (32 hex digits)")
    return key


@dataclass(frozen=True)
class DeviceKeys:
    """Who must sign: a key by device id. `required`: a device without a key is refused."""

    keys: Mapping[str, bytes] = field(default_factory=dict)
    required: bool = False

    def __repr__(self) -> str:  # never the keys themselves
        return f"DeviceKeys(devices={sorted(self.keys)}, required={self.required})"

    def key(self, device: str) -> bytes | None:
        return self.keys.get(device)

    def requiring(self, required: bool) -> DeviceKeys:
        return DeviceKeys(self.keys, required)

    @classmethod
    def from_lines(cls, lines: Iterable[str], *, where: str = "keys") -> DeviceKeys:
        """`device = hex key` lines (also `device=hex`, as `--key` takes them)."""
        keys: dict[str, bytes] = {}
        for number, raw in enumerate(lines, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            device, sep, text = line.partition("=")
            device = device.strip()
            if not sep or not device:
                raise DeviceKeyError(f"{where}:{number}: expected `device = hex key`")
            try:
                keys[device] = parse_key(text)
            except DeviceKeyError as err:
                raise DeviceKeyError(f"{where}:{number}: {device}: {err}") from None
        return cls(keys)

    @classmethod
    def load(cls, path: Path) -> DeviceKeys:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise DeviceKeyError(f"cannot read the device keys {path}: {err}") from None
        return cls.from_lines(text.splitlines(), where=str(path))

    def merged(self, other: DeviceKeys) -> DeviceKeys:
        return DeviceKeys({**self.keys, **other.keys}, self.required or other.required)
