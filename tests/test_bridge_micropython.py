"""The MicroPython client (firmware_bridge/device/micropython/slm_bridge.py), run under
CPython: the bytes it writes are the ones protobuf and the bridge write, and it reads what
the bridge sends."""

from __future__ import annotations

import hashlib
import hmac
import math
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

import slm_mesh.firmware_bridge.device.micropython.slm_bridge as slm_bridge
from slm_mesh.firmware_bridge import cobs
from slm_mesh.firmware_bridge.frames import FrameReader, Received, Rejected, pack
from slm_mesh.firmware_bridge.keys import DeviceKeys
from slm_mesh.v1.bridge_pb2 import Answer, Button, Command, Event, Frame, Heartbeat, Sensor

KEY = bytes(range(32))
names = st.from_regex(r"[A-Za-z0-9_.-]{1,64}", fullmatch=True)
u32 = st.integers(0, 2**32 - 1)


class Wire(slm_bridge.Link):
    def __init__(self) -> None:
        self.written = b""
        self.incoming = b""

    def write(self, data: bytes) -> None:
        self.written += data

    def read(self) -> bytes:
        data, self.incoming = self.incoming, b""
        return data


def bridge_reads(data: bytes, keys: DeviceKeys | None = None) -> list[Received | Rejected]:
    reader = FrameReader(keys or DeviceKeys())
    return reader.feed(data)


@given(st.binary(max_size=1000))
def test_its_cobs_and_crc_are_the_bridges(data: bytes) -> None:
    assert slm_bridge.cobs_encode(data) == cobs.encode(data)
    assert slm_bridge.cobs_decode(cobs.encode(data)) == data
    assert slm_bridge.crc32(data) == zlib.crc32(data)
    assert slm_bridge.crc32_bitwise(data) == zlib.crc32(data)


@given(st.binary(max_size=100), st.binary(max_size=200))
def test_its_hmac_is_rfc_2104(key: bytes, data: bytes) -> None:
    assert slm_bridge.hmac_sha256(key, data) == hmac.new(key, data, hashlib.sha256).digest()


@given(
    device=names,
    seq=u32,
    boot_id=u32,
    timestamp_ms=st.integers(0, 2**63),
    text=st.text(max_size=100),
    area=st.text(max_size=20),
)
def test_a_text_event_is_byte_for_byte_what_protobuf_writes(
    device: str, seq: int, boot_id: int, timestamp_ms: int, text: str, area: str
) -> None:
    ours = slm_bridge.encode_frame(
        device, seq, 10, slm_bridge.text_event(text, area), boot_id, timestamp_ms
    )
    expected = Frame(
        version=1,
        device=device,
        seq=seq,
        boot_id=boot_id,
        timestamp_ms=timestamp_ms,
        event=Event(text=text, area=area),
    )
    assert ours == expected.SerializeToString()


@given(
    name=names,
    value=st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda v: v != 0 or math.copysign(1, v) > 0
    ),
    unit=st.text(max_size=5),
    press=st.integers(0, 4),
    uptime=st.integers(0, 2**40),
    interval=st.integers(0, 3600),
)
def test_buttons_sensors_and_heartbeats_are_what_protobuf_writes(
    name: str, value: float, unit: str, press: int, uptime: int, interval: int
) -> None:
    sensor = slm_bridge.encode_frame("d", 1, 10, slm_bridge.sensor_event(name, value, unit))
    expected = Frame(
        version=1, device="d", seq=1, event=Event(sensor=Sensor(name=name, value=value, unit=unit))
    )
    assert sensor == expected.SerializeToString()
    button = slm_bridge.encode_frame("d", 2, 10, slm_bridge.button_event(name, press))
    expected = Frame(
        version=1,
        device="d",
        seq=2,
        event=Event(button=Button(name=name, press=Button.Press.Name(press))),
    )
    assert button == expected.SerializeToString()
    beat = slm_bridge.encode_frame("d", 3, 13, slm_bridge.heartbeat(uptime, interval))
    expected = Frame(
        version=1, device="d", seq=3, heartbeat=Heartbeat(uptime_ms=uptime, interval_s=interval)
    )
    assert beat == expected.SerializeToString()


def test_the_client_numbers_its_frames_and_the_bridge_reads_them() -> None:
    wire = Wire()
    client = slm_bridge.Client("esp32-lounge", wire, boot_id=42, clock_ms=lambda: 1_764_370_000_000)
    assert [client.text("lights off", "Lounge"), client.button("a"), client.heartbeat()] == [
        0,
        1,
        2,
    ]
    client.sensor("temperature", 21.5, "°C")
    assert wire.written.startswith(b"\x00")  # ends whatever noise came before
    results = bridge_reads(wire.written)
    frames = [r.frame for r in results if isinstance(r, Received)]
    assert len(frames) == 4 == len(results)
    assert [f.seq for f in frames] == [0, 1, 2, 3]
    assert {f.boot_id for f in frames} == {42}
    assert frames[0].event.text == "lights off" and frames[0].event.area == "Lounge"
    assert frames[0].timestamp_ms == 1_764_370_000_000
    assert frames[1].event.button.press == Button.PRESS_SHORT
    assert frames[2].heartbeat.interval_s == 10
    assert frames[3].event.sensor.value == 21.5 and frames[3].event.sensor.unit == "°C"


def test_a_client_with_a_key_signs_and_reads_only_signed_frames() -> None:
    wire = Wire()
    client = slm_bridge.Client("esp32-lounge", wire, key=KEY)
    client.text("lights off")
    keys = DeviceKeys({"esp32-lounge": KEY})
    (result,) = bridge_reads(wire.written, keys)
    assert isinstance(result, Received) and result.authenticated
    answer = Frame(
        version=1, device="esp32-lounge", seq=0, answer=Answer(seq=0, intent="HassTurnOff")
    )
    assert client.feed(pack(answer)) == []  # unsigned
    assert client.feed(pack(answer, key=bytes(32))) == []  # another key
    (got,) = client.feed(pack(answer, key=KEY))
    assert got["answer"]["intent"] == "HassTurnOff"  # type: ignore[index]
    assert client.dropped == 2


def test_the_client_reads_answers_and_commands_in_any_pieces() -> None:
    wire = Wire()
    client = slm_bridge.Client("esp32-lounge", wire)
    answer = Frame(
        version=1,
        device="esp32-lounge",
        seq=5,
        boot_id=9,
        answer=Answer(seq=3, intent="HassLightSet", slots={"name": "Desk Lamp", "brightness": "40"},
                      tier="template", confidence=0.75, text="ok"),
    )  # fmt: skip
    command = Frame(
        version=1, device="esp32-lounge", seq=6, command=Command(name="relay", payload="ON")
    )
    stranger = Frame(version=1, device="another", seq=1, command=Command(name="x"))
    stream = b"noise\x00" + pack(answer) + pack(command) + pack(stranger)
    got = [m for i in range(0, len(stream), 7) for m in client.feed(stream[i : i + 7])]
    assert got[0]["answer"] == {
        "seq": 3,
        "text": "ok",
        "intent": "HassLightSet",
        "slots": {"name": "Desk Lamp", "brightness": "40"},
        "tier": "template",
        "confidence": 0.75,
        "error": "",
    }
    assert (got[0]["seq"], got[0]["boot_id"]) == (5, 9)
    assert got[1]["command"] == {"name": "relay", "payload": "ON"}
    assert len(got) == 2 and client.dropped == 2  # the noise and the stranger


def test_poll_reads_from_its_link() -> None:
    wire = Wire()
    client = slm_bridge.Client("d", wire)
    wire.incoming = pack(Frame(version=1, device="d", command=Command(name="led", payload="1")))
    assert client.poll()[0]["command"] == {"name": "led", "payload": "1"}
    assert client.poll() == []


@pytest.mark.parametrize("bad", [b"\x05\x11", cobs.encode(b"\x00abcd"), b"\x01" * 2000])
def test_bad_packets_cost_the_client_nothing_but_a_count(bad: bytes) -> None:
    client = slm_bridge.Client("d", Wire())
    assert client.feed(bad + b"\x00") == []
    assert client.dropped == (0 if len(bad) > 1100 else 1)  # too long: dropped unread
