"""The bridge between links and the mesh, with a recording mesh and link (no broker)."""

from __future__ import annotations

import asyncio
from typing import Any

from bridge_fakes import FakeLink, FakeMesh

from slm_mesh.firmware_bridge.bridge import Bridge
from slm_mesh.firmware_bridge.frames import FrameReader, Received, Rejected, pack
from slm_mesh.firmware_bridge.keys import DeviceKeys
from slm_mesh.firmware_bridge.link import Route
from slm_mesh.firmware_bridge.topics import BridgeTopics
from slm_mesh.services.errors import DeadlineExceeded
from slm_mesh.v1.bridge_pb2 import Answer, Button, Event, Frame, Heartbeat, Sensor

KEY = bytes(range(32))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_bridge(mesh: FakeMesh, **options: Any) -> Bridge:
    return Bridge(
        mesh=mesh, topics=BridgeTopics(), keys=DeviceKeys(), instance="bridge-test", **options
    )


def frame(seq: int, *, device: str = "esp32", boot_id: int = 7, **body: Any) -> Frame:
    return Frame(version=1, device=device, seq=seq, boot_id=boot_id, **body)


def read(*frames: Frame, keys: DeviceKeys | None = None) -> list[Received | Rejected]:
    reader = FrameReader(keys or DeviceKeys())
    return [r for f in frames for r in reader.feed(pack(f))]


def test_a_text_event_is_asked_and_answered_on_its_route() -> None:
    async def scenario() -> None:
        mesh, link = FakeMesh(), FakeLink()
        bridge = make_bridge(mesh)
        bridge.deliver(read(frame(4, event=Event(text="lights off", area="Lounge"))), Route(link))
        await bridge.drain()
        ((device, body),) = mesh.asked
        assert device == "esp32"
        assert body["text"] == "lights off" and body["area"] == "Lounge"
        assert body["id"].startswith("esp32/") and body["id"].endswith("/4")
        (answer,) = link.frames()
        assert answer.device == "esp32" and answer.WhichOneof("body") == "answer"
        assert answer.answer.seq == 4 and answer.answer.intent == "HassTurnOff"
        assert dict(answer.answer.slots) == {"area": "Lounge"}
        assert bridge.counts.answers == 1 and bridge.counts.events == 1
        status = mesh.on("slm-mesh/device/esp32/status")
        assert status[0]["state"] == "online" and status[0]["link"] == "serial:/dev/fake"

    asyncio.run(scenario())


def test_no_answer_in_time_is_told_to_the_device() -> None:
    async def late(device: str, body: dict[str, Any]) -> dict[str, Any]:
        raise DeadlineExceeded("no reply within 5 s")

    async def scenario() -> None:
        mesh, link = FakeMesh(late), FakeLink()
        bridge = make_bridge(mesh)
        bridge.deliver(read(frame(1, event=Event(text="lights off"))), Route(link))
        await bridge.drain()
        (answer,) = link.frames()
        assert answer.answer.error == "deadline_exceeded"

    asyncio.run(scenario())


def test_a_failure_while_asking_costs_that_event_only() -> None:
    calls = 0

    async def flaky(device: str, body: dict[str, Any]) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("boom")
        return {"intent": "HassTurnOn", "slots": {}, "tier": "slm", "confidence": 0.9}

    async def scenario() -> None:
        mesh, link = FakeMesh(flaky), FakeLink()
        bridge = make_bridge(mesh)
        route = Route(link)
        bridge.deliver(read(frame(1, event=Event(text="a"))), route)
        await bridge.drain()
        bridge.deliver(read(frame(2, event=Event(text="b"))), route)
        await bridge.drain()
        errors = [f.answer.error for f in link.frames()]
        assert errors == ["internal", ""]

    asyncio.run(scenario())


def test_duplicates_replays_and_bad_packets_are_counted_and_dropped() -> None:
    async def scenario() -> None:
        mesh, link = FakeMesh(), FakeLink()
        bridge = make_bridge(mesh)
        route = Route(link)
        event = frame(1, event=Event(text="lights off"))
        reader = FrameReader(DeviceKeys())
        bridge.deliver(reader.feed(pack(event) + pack(event) + b"garbage\x00"), route)
        bridge.deliver(read(frame(2, answer=Answer(seq=1))), route)
        bridge.deliver(read(frame(3, event=Event(text=" "))), route)
        await bridge.drain()
        assert len(mesh.asked) == 1
        assert bridge.counts.dropped["duplicate"] == 1
        assert bridge.counts.dropped["direction"] == 1
        assert bridge.counts.dropped["body"] == 1
        assert sum(bridge.counts.dropped.values()) == 4  # and the garbage

    asyncio.run(scenario())


def test_a_bug_in_handling_one_frame_costs_that_frame() -> None:
    async def scenario() -> None:
        mesh, link = FakeMesh(), FakeLink()
        bridge = make_bridge(mesh)
        original = bridge.sequence.check
        broken = {"seq": 1}

        def check(device: str, **kwargs: Any) -> Any:
            if kwargs["seq"] == broken["seq"]:
                raise ZeroDivisionError("a bug")
            return original(device, **kwargs)

        bridge.sequence.check = check  # type: ignore[method-assign]
        bridge.deliver(
            read(frame(1, event=Event(text="a")), frame(2, event=Event(text="b"))), Route(link)
        )
        await bridge.drain()
        assert bridge.counts.failed == 1
        assert [body["text"] for _, body in mesh.asked] == ["b"]

    asyncio.run(scenario())


def test_events_past_the_in_flight_limit_are_dropped() -> None:
    release = asyncio.Event()

    async def slow(device: str, body: dict[str, Any]) -> dict[str, Any]:
        await release.wait()
        return {"intent": None}

    async def scenario() -> None:
        mesh, link = FakeMesh(slow), FakeLink()
        bridge = make_bridge(mesh, max_in_flight=2)
        frames = [frame(n, event=Event(text=f"t{n}")) for n in range(4)]
        bridge.deliver(read(*frames), Route(link))
        await asyncio.sleep(0)
        release.set()
        await bridge.drain()
        assert len(mesh.asked) == 2 and bridge.counts.dropped["busy"] == 2

    asyncio.run(scenario())


def test_buttons_and_sensors_go_to_the_devices_topics() -> None:
    async def scenario() -> None:
        mesh, link = FakeMesh(), FakeLink()
        bridge = make_bridge(mesh)
        route = Route(link)
        button = frame(1, event=Event(button=Button(name="a", press=Button.PRESS_SHORT)))
        sensor = frame(2, event=Event(sensor=Sensor(name="temperature", value=21.5, unit="°C")))
        bridge.deliver(read(button, sensor), route)
        await bridge.drain()
        assert mesh.on("slm-mesh/device/esp32/button/a")[0]["press"] == "short"
        (reading,) = [p for p in mesh.published if p[0].endswith("/sensor/temperature")]
        assert reading[1]["value"] == 21.5 and reading[2] is True  # retained
        assert mesh.asked == [] and link.sent == []

    asyncio.run(scenario())


def test_a_silent_device_goes_offline_and_a_stopping_bridge_says_so() -> None:
    async def scenario() -> None:
        clock = Clock()
        mesh, link = FakeMesh(), FakeLink()
        bridge = make_bridge(mesh, clock=clock)
        route = Route(link)
        beat = frame(0, heartbeat=Heartbeat(uptime_ms=1, interval_s=1))
        other = frame(0, device="esp32-b", heartbeat=Heartbeat(interval_s=60))
        bridge.deliver(read(beat, other), route)
        watching = asyncio.create_task(bridge.watch(every_s=0.01))
        clock.now += 3.5
        await asyncio.sleep(0.05)
        watching.cancel()
        statuses = [b["state"] for b in mesh.on("slm-mesh/device/esp32/status")]
        assert statuses == ["online", "offline"]
        online = [p for p in mesh.published if p[1]["state"] == "online"]
        assert all(p[2] and p[3] for p in online)  # retained, with an expiry
        await bridge.stop()
        assert mesh.on("slm-mesh/device/esp32-b/status")[-1]["state"] == "offline"

    asyncio.run(scenario())


def test_commands_reach_a_known_device_and_nothing_else() -> None:
    async def scenario() -> None:
        mesh, link = FakeMesh(), FakeLink()
        bridge = make_bridge(mesh)
        bridge.deliver(read(frame(0, heartbeat=Heartbeat())), Route(link))
        await bridge.command("esp32", "relay", b"ON", retained=False)
        await bridge.command("esp32", "relay", b"ON", retained=True)
        await bridge.command("esp32", "relay", b"\xff", retained=False)
        await bridge.command("esp32", "relay", b"x" * 600, retained=False)
        await bridge.command("unknown", "relay", b"ON", retained=False)
        (sent,) = link.frames()
        assert (sent.command.name, sent.command.payload) == ("relay", "ON")
        assert bridge.counts.commands == 1 and bridge.counts.undeliverable == 1
        assert bridge.counts.dropped["command:retained"] == 1
        assert bridge.counts.dropped["command:unreadable"] == 1
        assert bridge.counts.dropped["command:oversize"] == 1

    asyncio.run(scenario())


def test_frames_to_a_keyed_device_are_signed_and_an_unplugged_link_is_counted() -> None:
    async def scenario() -> None:
        keys = DeviceKeys({"esp32": KEY})
        mesh, link = FakeMesh(), FakeLink()
        bridge = Bridge(mesh=mesh, topics=BridgeTopics(), keys=keys, instance="b")
        bridge.deliver(read(frame(0, heartbeat=Heartbeat()), keys=DeviceKeys()), Route(link))
        await bridge.command("esp32", "led", b"1", retained=False)
        reader = FrameReader(keys)
        (result,) = reader.feed(link.sent[0][0])
        assert isinstance(result, Received) and result.authenticated
        link.down = True
        await bridge.command("esp32", "led", b"0", retained=False)
        assert bridge.counts.undeliverable == 1

    asyncio.run(scenario())


def test_frames_from_the_bridge_count_their_own_sequence() -> None:
    async def scenario() -> None:
        mesh, link = FakeMesh(), FakeLink()
        bridge = make_bridge(mesh)
        bridge.deliver(read(frame(0, heartbeat=Heartbeat())), Route(link))
        for _ in range(3):
            await bridge.command("esp32", "led", b"1", retained=False)
        sent = link.frames()
        assert [f.seq for f in sent] == [0, 1, 2]
        assert len({f.boot_id for f in sent}) == 1 and sent[0].boot_id != 0

    asyncio.run(scenario())
