"""The C reference (firmware_bridge/device/c): its own unit tests, compiled with the host's
`cc`, and the same bytes as the bridge's Python for COBS, CRC-32 and packets."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slm_mesh.firmware_bridge import cobs
from slm_mesh.firmware_bridge.crc import crc32
from slm_mesh.firmware_bridge.frames import FrameReader, Received, pack
from slm_mesh.firmware_bridge.keys import DeviceKeys, tag
from slm_mesh.v1.bridge_pb2 import Event, Frame

SOURCE = Path(__file__).resolve().parent.parent / "firmware_bridge" / "device" / "c"
WARNINGS = ["-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Werror"]


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        pytest.skip("no C compiler (cc)")
    binary = tmp_path_factory.mktemp("c") / "test_slm_frame"
    sources = [str(SOURCE / "slm_frame.c"), str(SOURCE / "test_slm_frame.c")]
    subprocess.run(
        [compiler, "-std=c99", "-O1", *WARNINGS, "-o", str(binary), *sources],
        check=True,
        capture_output=True,
        text=True,
    )
    return binary


class Pipe:
    """One running `test_slm_frame pipe`: a line in, a line out."""

    def __init__(self, program: Path) -> None:
        self.process = subprocess.Popen(
            [str(program), "pipe"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def ask(self, op: str, data: bytes) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{op} {data.hex()}\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def close(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(5)
        self.process.stdout.close()


@pytest.fixture(scope="module")
def pipe(program: Path) -> Iterator[Pipe]:
    running = Pipe(program)
    yield running
    running.close()


def test_the_c_unit_tests_pass(program: Path) -> None:
    result = subprocess.run([str(program)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=700))
def test_c_writes_the_same_cobs_and_crc_as_python(pipe: Pipe, data: bytes) -> None:
    assert pipe.ask("cobs", data) == cobs.encode(data).hex()
    assert pipe.ask("uncobs", cobs.encode(data)) == data.hex()
    assert int(pipe.ask("crc", data), 16) == crc32(data)


@pytest.mark.parametrize("length", [253, 254, 255, 508, 509, 510])
def test_c_and_python_agree_at_the_block_edges(pipe: Pipe, length: int) -> None:
    for data in (bytes([7]) * length, bytes([7]) * length + b"\x00", b"\x00" + bytes([7]) * length):
        assert pipe.ask("cobs", data) == cobs.encode(data).hex()


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200), seq=st.integers(0, 2**32 - 1))
def test_a_packet_from_c_is_read_by_the_bridge_and_back(pipe: Pipe, text: str, seq: int) -> None:
    frame = Frame(version=1, device="uno-1", seq=seq, event=Event(text=text or "x"))
    message = frame.SerializeToString()
    packet = bytes.fromhex(pipe.ask("packet", message))
    assert packet == pack(frame)
    (result,) = FrameReader(DeviceKeys()).feed(packet)
    assert isinstance(result, Received) and result.frame == frame
    assert bytes.fromhex(pipe.ask("unpacket", pack(frame)[:-1])) == message


def test_a_tag_made_on_the_device_is_taken_by_the_bridge(pipe: Pipe) -> None:
    key = bytes(range(32))
    frame = Frame(version=1, device="uno-1", seq=1, event=Event(text="lights off"))
    message = frame.SerializeToString()
    device_tag = tag(key, b"\x01" + message)  # what mbedTLS's HMAC would give the device
    packet = bytes.fromhex(pipe.ask("tagged", device_tag + message))
    assert packet == pack(frame, key=key)
    (result,) = FrameReader(DeviceKeys({"uno-1": key})).feed(packet)
    assert isinstance(result, Received) and result.authenticated


@pytest.mark.parametrize(
    ("packet", "code"),
    [(b"\x05\x11", -1), (cobs.encode(b"\x00abcd"), -2), (cobs.encode(b"\x00\x00"), -4)],
)
def test_c_refuses_bad_packets(pipe: Pipe, packet: bytes, code: int) -> None:
    assert pipe.ask("unpacket", packet) == f"error {code}"


def test_c_refuses_reserved_flags(pipe: Pipe) -> None:
    body = b"\x02abc"
    packet = cobs.encode(body + crc32(body).to_bytes(4, "little"))
    assert pipe.ask("unpacket", packet) == "error -3"
