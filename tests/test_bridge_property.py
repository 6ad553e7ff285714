"""Whatever the line carries (noise, corrupted, cut and repeated frames, in any pieces),
every valid frame reaches the mesh exactly once and nothing else does."""

from __future__ import annotations

import asyncio
import re

from bridge_fakes import FakeLink, FakeMesh
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slm_mesh.firmware_bridge.bridge import Bridge
from slm_mesh.firmware_bridge.frames import FrameReader, Received, pack
from slm_mesh.firmware_bridge.keys import DeviceKeys
from slm_mesh.firmware_bridge.link import Route
from slm_mesh.firmware_bridge.topics import BridgeTopics
from slm_mesh.v1.bridge_pb2 import Button, Event, Frame

DEVICES = ("esp32-a", "rp2040-b", "uno-c")
EVENT_ID = re.compile(r"(?P<device>[^/]+)/\d+/(?P<seq>\d+)")


def event_frame(device: str, seq: int, kind: int) -> Frame:
    event = (
        Event(text=f"lights off {seq}")
        if kind
        else Event(button=Button(name="a", press=Button.PRESS_SHORT))
    )
    return Frame(version=1, device=device, seq=seq, boot_id=DEVICES.index(device) + 1, event=event)


@st.composite
def line(draw: st.DrawFn) -> tuple[list[bytes], set[tuple[str, int]]]:
    """The packets on a line, in order, and the (device, seq) of its valid frames."""
    per_device = {
        device: sorted(draw(st.sets(st.integers(0, 300), max_size=12))) for device in DEVICES
    }
    order = draw(st.permutations([d for d, seqs in per_device.items() for _ in seqs]))
    positions = dict.fromkeys(DEVICES, 0)
    items: list[bytes] = []
    valid: set[tuple[str, int]] = set()
    for device in order:
        seq = per_device[device][positions[device]]
        positions[device] += 1
        items.append(pack(event_frame(device, seq, draw(st.integers(0, 1)))))
        valid.add((device, seq))
    valid_packets = list(items)
    for _ in range(draw(st.integers(0, 12))):
        where = draw(st.integers(0, len(items)))
        fault = draw(st.sampled_from(["noise", "flip", "cut", "repeat"]))
        if fault == "noise" or not valid_packets:
            items.insert(where, draw(st.binary(max_size=40)) + b"\x00")
            continue
        packet = draw(st.sampled_from(valid_packets))
        source = items.index(packet)
        if fault == "flip":
            at = draw(st.integers(0, len(packet) - 2))
            mask = draw(st.integers(1, 255))
            damaged = bytearray(packet)
            damaged[at] ^= mask
            items.insert(where, bytes(damaged))
        elif fault == "cut":
            items.insert(where, packet[: draw(st.integers(0, len(packet) - 2))] + b"\x00")
        else:  # the same packet again, later on the line
            items.insert(draw(st.integers(source + 1, len(items))), packet)
    return items, valid


def delivered(mesh: FakeMesh) -> list[tuple[str, int]]:
    """(device, seq) of every event that reached the mesh, from the ids the bridge gave."""
    ids = [body["id"] for _, body in mesh.asked] + [
        body["id"] for topic, body, _, _ in mesh.published if "/button/" in topic
    ]
    found = [EVENT_ID.fullmatch(i) for i in ids]
    return [(m["device"], int(m["seq"])) for m in found if m is not None]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(line(), st.lists(st.integers(1, 64), min_size=1, max_size=50))
def test_every_valid_frame_is_delivered_once_and_nothing_else(
    stream: tuple[list[bytes], set[tuple[str, int]]], cuts: list[int]
) -> None:
    items, valid = stream
    data = b"".join(items)

    async def scenario() -> list[tuple[str, int]]:
        mesh, link = FakeMesh(), FakeLink()
        bridge = Bridge(mesh=mesh, topics=BridgeTopics(), keys=DeviceKeys(), instance="b")
        reader = FrameReader(DeviceKeys())
        route = Route(link)
        start = 0
        for size in [*cuts, len(data)]:  # the line read in pieces of any size
            bridge.deliver(reader.feed(data[start : start + size]), route)
            start += size
            if start >= len(data):
                break
        await bridge.drain()
        assert bridge.counts.failed == 0
        return delivered(mesh)

    got = asyncio.run(scenario())
    assert sorted(got) == sorted(valid)  # each once: no more, no fewer, nothing invented


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes_never_make_a_frame(data: bytes) -> None:
    reader = FrameReader(DeviceKeys())
    results = reader.feed(data) + reader.end()
    assert not any(isinstance(r, Received) for r in results)
