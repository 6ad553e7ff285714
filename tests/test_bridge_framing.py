"""The bridge's wire format: COBS, CRC-32, keys and packets (pure)."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slm_mesh.firmware_bridge import cobs
from slm_mesh.firmware_bridge.crc import crc32, crc32_bitwise, with_crc, without_crc
from slm_mesh.firmware_bridge.frames import (
    MAX_ENCODED_BYTES,
    FrameError,
    FrameReader,
    Received,
    Rejected,
    pack,
    unpack,
)
from slm_mesh.firmware_bridge.keys import DeviceKeyError, DeviceKeys, tag
from slm_mesh.v1.bridge_pb2 import Event, Frame, Heartbeat

KEY = bytes(range(32))


def text_frame(text: str = "lights off", *, device: str = "esp32-lounge", seq: int = 1) -> Frame:
    return Frame(version=1, device=device, seq=seq, boot_id=7, event=Event(text=text))


# -- COBS


@pytest.mark.parametrize(
    ("data", "encoded"),
    [  # Cheshire and Baker's examples, as Wikipedia lists them
        (b"", b"\x01"),
        (b"\x00", b"\x01\x01"),
        (b"\x00\x00", b"\x01\x01\x01"),
        (b"\x00\x11\x00", b"\x01\x02\x11\x01"),
        (b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"),
        (b"\x11\x22\x33\x44", b"\x05\x11\x22\x33\x44"),
        (b"\x11\x00\x00\x00", b"\x02\x11\x01\x01\x01"),
        (bytes(range(1, 255)), b"\xff" + bytes(range(1, 255))),
        (bytes(range(256)), b"\x01\xff" + bytes(range(1, 255)) + b"\x02\xff"),
        (bytes(range(1, 256)), b"\xff" + bytes(range(1, 255)) + b"\x02\xff"),
        (bytes(range(2, 256)) + b"\x00", b"\xff" + bytes(range(2, 256)) + b"\x01\x01"),
    ],
)
def test_cobs_writes_the_canonical_encoding(data: bytes, encoded: bytes) -> None:
    assert cobs.encode(data) == encoded
    assert cobs.decode(encoded) == data


@given(st.binary(max_size=2000))
def test_cobs_round_trips_without_a_zero_and_within_its_bound(data: bytes) -> None:
    encoded = cobs.encode(data)
    assert 0 not in encoded
    assert len(encoded) <= cobs.max_encoded_length(len(data))
    assert cobs.decode(encoded) == data


@pytest.mark.parametrize("packet", [b"\x05\x11\x22", b"\x03\x11\x00", b"\x00", b"\x02"])
def test_cobs_refuses_what_no_encoder_writes(packet: bytes) -> None:
    with pytest.raises(cobs.CobsError):
        cobs.decode(packet)


# -- CRC-32


def test_crc32_is_zlibs_with_its_check_value() -> None:
    assert crc32(b"123456789") == 0xCBF43926
    assert crc32_bitwise(b"123456789") == 0xCBF43926


@given(st.binary(max_size=300))
def test_the_bitwise_crc_the_devices_use_agrees_with_zlib(data: bytes) -> None:
    assert crc32_bitwise(data) == zlib.crc32(data)


def test_a_crc_is_checked_and_removed() -> None:
    sealed = with_crc(b"abc")
    assert sealed[-4:] == crc32(b"abc").to_bytes(4, "little")
    assert without_crc(sealed) == b"abc"
    assert without_crc(b"abd" + sealed[-4:]) is None
    assert without_crc(b"\x01\x02") is None


# -- keys


def test_keys_are_read_from_lines_and_never_shown() -> None:
    keys = DeviceKeys.from_lines(["# devices", f"esp32-lounge = {KEY.hex()}  # the lounge", ""])
    assert keys.key("esp32-lounge") == KEY
    assert keys.key("other") is None
    assert KEY.hex() not in repr(keys)


@pytest.mark.parametrize(
    "line", ["esp32-lounge", "= 00", "esp32-lounge = zz", "esp32-lounge = 0011"]
)
def test_a_bad_key_line_says_where(line: str) -> None:
    with pytest.raises(DeviceKeyError, match="keys:1"):
        DeviceKeys.from_lines([line])


# -- packets


def test_a_frame_round_trips_through_its_packet() -> None:
    frame = text_frame()
    wire = pack(frame)
    assert wire.endswith(b"\x00") and 0 not in wire[:-1]
    received = unpack(wire[:-1], DeviceKeys())
    assert received == Received(frame=frame, authenticated=False)


def test_the_packet_layout_is_flags_frame_crc() -> None:
    frame = text_frame()
    data = cobs.decode(pack(frame)[:-1])
    assert data[0] == 0
    assert data[1:-4] == frame.SerializeToString()
    assert data[-4:] == crc32(data[:-4]).to_bytes(4, "little")


def test_the_readmes_example_is_what_the_bridge_writes() -> None:
    frame = Frame(version=1, device="d", seq=1, event=Event(text="hi"))
    wire = "01 12 08 01 12 01 64 18 01 52 04 0a 02 68 69 16 02 56 40 00"
    assert pack(frame) == bytes.fromhex(wire)


def test_a_tagged_packet_carries_hmac_sha256_over_flags_and_frame() -> None:
    frame = text_frame()
    data = cobs.decode(pack(frame, key=KEY)[:-1])
    body = data[:-4]
    assert body[0] == 1
    assert body[-16:] == tag(KEY, body[:-16])
    received = unpack(pack(frame, key=KEY)[:-1], DeviceKeys({"esp32-lounge": KEY}))
    assert received.authenticated


def reason(packet: bytes, keys: DeviceKeys | None = None) -> str:
    with pytest.raises(FrameError) as caught:
        unpack(packet, keys or DeviceKeys())
    return caught.value.reason


def seal(body: bytes) -> bytes:
    return cobs.encode(with_crc(body))


def test_each_fault_is_named() -> None:
    good = pack(text_frame())[:-1]
    flipped = bytearray(good)
    flipped[5] ^= 0x01
    assert reason(bytes(flipped)) in ("crc", "cobs")
    assert reason(b"\x05\x11") == "cobs"
    assert reason(seal(b"\x02" + text_frame().SerializeToString())) == "flags"
    assert reason(seal(b"\x00\xff\xff\xff")) == "decode"
    assert reason(seal(b"")) == "decode"
    assert (
        reason(
            seal(b"\x00" + Frame(version=2, device="a", event=Event(text="x")).SerializeToString())
        )
        == "version"
    )
    assert (
        reason(
            seal(
                b"\x00" + Frame(version=1, device="a/b", event=Event(text="x")).SerializeToString()
            )
        )
        == "device"
    )
    assert reason(seal(b"\x00" + Frame(version=1, device="a").SerializeToString())) == "body"
    assert reason(b"\x01" * (MAX_ENCODED_BYTES + 1)) == "oversize"


def test_a_keyed_device_must_sign_with_its_own_key() -> None:
    keys = DeviceKeys({"esp32-lounge": KEY})
    frame = text_frame()
    assert reason(pack(frame)[:-1], keys) == "unauthenticated"
    assert reason(pack(frame, key=bytes(32))[:-1], keys) == "unauthenticated"
    other = text_frame(device="esp32-hall")
    assert not unpack(pack(other)[:-1], keys).authenticated  # no key: taken, unsigned
    assert reason(pack(other)[:-1], keys.requiring(True)) == "unauthenticated"


def test_a_frame_too_big_for_a_packet_is_refused_when_packed() -> None:
    with pytest.raises(FrameError, match="oversize"):
        pack(text_frame("x" * 2000))


# -- the stream reader


def test_the_reader_takes_packets_in_any_pieces_and_skips_empty_ones() -> None:
    frames = [text_frame(seq=n) for n in range(3)]
    stream = b"\x00\x00" + b"".join(pack(f) for f in frames) + b"\x00"
    reader = FrameReader(DeviceKeys())
    results = [r for i in range(len(stream)) for r in reader.feed(stream[i : i + 1])]
    assert [r.frame for r in results if isinstance(r, Received)] == frames
    assert len(results) == 3


def test_noise_before_a_zero_costs_only_itself() -> None:
    reader = FrameReader(DeviceKeys())
    results = reader.feed(b"ets Jun  8 2016 00:22:57\r\nrst:0x1\x00" + pack(text_frame()))
    assert isinstance(results[0], Rejected)
    assert isinstance(results[1], Received)


def test_an_endless_packet_is_dropped_once_and_the_next_one_read() -> None:
    reader = FrameReader(DeviceKeys())
    results = reader.feed(b"\x01" * 5000)
    results += reader.feed(b"\x01" * 5000 + b"\x00" + pack(text_frame()))
    assert [type(r).__name__ for r in results] == ["Rejected", "Received"]
    assert isinstance(results[0], Rejected) and results[0].reason == "oversize"


def test_the_end_of_a_datagram_ends_its_last_packet() -> None:
    reader = FrameReader(DeviceKeys())
    assert reader.feed(pack(text_frame())[:-1]) == []
    (result,) = reader.end()
    assert isinstance(result, Received)


def test_a_heartbeat_frame_round_trips() -> None:
    frame = Frame(version=1, device="d", seq=3, heartbeat=Heartbeat(uptime_ms=5, interval_s=2))
    assert unpack(pack(frame)[:-1], DeviceKeys()).frame == frame
