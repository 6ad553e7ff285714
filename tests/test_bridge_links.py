"""The bridge end to end on real links: devices on pseudo-terminals (as a USB serial port
looks to the bridge) and on UDP over loopback, the mesh on a real Mosquitto, and a stand-in
router that answers every device event on its reply address.

The devices are the MicroPython client (device/micropython/slm_bridge.py) run by CPython.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from brokers import RunningBroker

import slm_mesh.firmware_bridge.device.micropython.slm_bridge as slm_bridge
from slm_mesh.firmware_bridge.app import RunningBridge, running_bridge
from slm_mesh.firmware_bridge.bridge import Bridge
from slm_mesh.firmware_bridge.config import BridgeConfigError, BridgeOptions
from slm_mesh.firmware_bridge.frames import pack
from slm_mesh.firmware_bridge.keys import DeviceKeys
from slm_mesh.firmware_bridge.udp_link import UdpLink
from slm_mesh.services.runtime.mqtt import BrokerUrl, MqttClient
from slm_mesh.services.runtime.mqtt_rpc import reply_address, send_reply
from slm_mesh.services.runtime.topics import Topics, matches
from slm_mesh.services.settings import Settings
from slm_mesh.v1.bridge_pb2 import Event, Frame

pytestmark = pytest.mark.integration

KEY = bytes(range(32))


class PtyDevice(slm_bridge.Link):
    """The device's end of a pseudo-terminal; the bridge opens the other end by a link
    that, like /dev/serial/by-id/…, follows the device across unplug and plug."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1
        self.plug()

    def plug(self) -> None:
        master, slave = os.openpty()
        os.set_blocking(master, False)
        self.fd = master
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self.path.symlink_to(os.ttyname(slave))
        os.close(slave)

    def unplug(self) -> None:
        self.path.unlink()
        os.close(self.fd)
        self.fd = -1

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def read(self) -> bytes:
        try:
            return os.read(self.fd, 4096)
        except (BlockingIOError, OSError):
            return b""


async def eventually(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    until = loop.time() + timeout_s
    while not check():
        if loop.time() > until:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.01)


async def receive(client: slm_bridge.Client, timeout_s: float = 5.0) -> dict[str, Any]:
    """The next answer or command the device gets."""
    got: list[dict[str, object]] = []

    def arrived() -> bool:
        got.extend(client.poll())
        return bool(got)

    await eventually(arrived, timeout_s)
    return got[0]


class Mesh:
    """A stand-in router (answers every device event) and an observer of the topics."""

    def __init__(self, url: str, topics: Topics) -> None:
        self.topics = topics
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.seen: list[tuple[str, dict[str, Any], bool]] = []
        self.client = MqttClient(broker=BrokerUrl.parse(url), client_id=f"mesh-{uuid.uuid4().hex}")

    async def serve(self) -> None:
        async for message in self.client.messages():
            if "/command/" in message.topic:
                continue  # what the test itself sends the devices
            body = json.loads(message.payload)
            if matches(message.topic, self.topics.events):
                self.events.append((message.topic, body))
                address = reply_address(message, body)
                assert address is not None
                answer = {
                    "id": body["id"],
                    "intent": "HassTurnOff",
                    "slots": {"area": "Lounge"},
                    "tier": "template",
                    "confidence": 1.0,
                    "answer": None,
                    "error": None,
                }
                await send_reply(self.client, address, answer)
            else:
                self.seen.append((message.topic, body, message.retain))

    def states(self, topic: str) -> list[str]:
        return [body["state"] for t, body, _ in self.seen if t == topic]


@contextlib.asynccontextmanager
async def mesh_on(broker: RunningBroker, settings: Settings) -> AsyncIterator[Mesh]:
    mesh = Mesh(broker.url, Topics(prefix=settings.mqtt.prefix))
    async with mesh.client:
        prefix = settings.mqtt.prefix
        for topic_filter in (f"{prefix}/event/#", f"{prefix}/device/#", f"{prefix}/status/#"):
            await mesh.client.subscribe(topic_filter)
        serving = asyncio.create_task(mesh.serve())
        await asyncio.sleep(0.1)  # the subscriptions are in place
        try:
            yield mesh
        finally:
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving


def bridge_settings(broker: RunningBroker, tmp_path: Path) -> Settings:
    return Settings(cache_dir=tmp_path / "cache").updated(
        mqtt_url=broker.url, mqtt_prefix=f"test-{uuid.uuid4().hex[:8]}"
    )


def test_a_serial_device_is_answered_survives_unplugging_and_gets_commands(
    mqtt_broker: RunningBroker, tmp_path: Path
) -> None:
    settings = bridge_settings(mqtt_broker, tmp_path)
    prefix = settings.mqtt.prefix
    device = PtyDevice(tmp_path / "ttyESP32")

    async def scenario() -> None:
        options = BridgeOptions(serial=(str(device.path),))
        async with (
            mesh_on(mqtt_broker, settings) as mesh,
            running_bridge(settings, options) as running,
        ):
            link = running.serial[0]
            await asyncio.wait_for(link.connected.wait(), 5)
            esp32 = slm_bridge.Client("esp32-lounge", device, boot_id=1)
            device.write(b"ets Jun  8 2016 boot log\r\n")  # noise before the first frame
            seq = esp32.text("lights off", "Lounge")
            answer = await receive(esp32)
            assert answer["answer"]["seq"] == seq
            assert answer["answer"]["intent"] == "HassTurnOff"
            ((topic, event),) = mesh.events
            assert topic == f"{prefix}/event/esp32-lounge"
            assert event["text"] == "lights off" and event["area"] == "Lounge"
            assert event["device"] == "esp32-lounge"
            status = f"{prefix}/device/esp32-lounge/status"
            await eventually(lambda: mesh.states(status) == ["online"])

            device.write(pack(Frame(version=1, device="esp32-lounge", seq=0, boot_id=1,
                                    event=Event(text="lights off"))))  # fmt: skip
            device.write(b"\x01\x02\x03\x00")  # a repeat, and a broken packet
            await eventually(lambda: sum(running.bridge.counts.dropped.values()) >= 3)
            assert running.bridge.counts.dropped["duplicate"] == 1

            device.unplug()  # pulled out: the bridge closes the port and waits
            await eventually(lambda: not link.connected.is_set())
            device.plug()
            await asyncio.wait_for(link.connected.wait(), 5)
            esp32 = slm_bridge.Client("esp32-lounge", device, boot_id=2)  # it restarted
            seq = esp32.text("lights on")
            answer = await receive(esp32)
            assert answer["answer"]["seq"] == seq == 0
            assert running.bridge.counts.restarts == 1 and link.connects == 2

            await mesh.client.publish(f"{prefix}/device/esp32-lounge/command/relay", "ON")
            command = await receive(esp32)
            assert command["command"] == {"name": "relay", "payload": "ON"}
            assert running.bridge.counts.failed == 0
        assert mesh.states(status)[-1] == "offline"  # the bridge stopped

    asyncio.run(scenario())


def test_udp_devices_with_a_key_cannot_be_impersonated(
    mqtt_broker: RunningBroker, tmp_path: Path
) -> None:
    settings = bridge_settings(mqtt_broker, tmp_path)

    async def scenario() -> None:
        keys = DeviceKeys({"esp32-hall": KEY})
        options = BridgeOptions(udp=("127.0.0.1", 0), keys=keys)
        async with (
            mesh_on(mqtt_broker, settings) as mesh,
            running_bridge(settings, options) as running,
        ):
            assert running.udp_address is not None
            host, port = running.udp_address
            hall_link = slm_bridge.UdpLink(host, port)
            hall = slm_bridge.Client("esp32-hall", hall_link, key=KEY)
            seq = hall.text("lights off")
            answer = await receive(hall)
            assert answer["answer"]["seq"] == seq

            forger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            forger.setblocking(False)
            forged = Frame(version=1, device="esp32-hall", seq=99, boot_id=5,
                           event=Event(text="unlock the front door"))  # fmt: skip
            forger.sendto(pack(forged), (host, port))
            forger.sendto(pack(forged, key=bytes(32)), (host, port))
            await eventually(lambda: running.bridge.counts.dropped["unauthenticated"] == 2)

            open_link = slm_bridge.UdpLink(host, port)
            open_device = slm_bridge.Client("esp32-open", open_link)
            open_device.text("what time is it")
            await receive(open_device)
            hall_link.close()
            open_link.close()
            texts = [body["text"] for _, body in mesh.events]
            assert texts == ["lights off", "what time is it"]  # never the forged one
            with pytest.raises(BlockingIOError):
                forger.recv(2048)  # and no answer drawn away to the forger
            forger.close()

    asyncio.run(scenario())


def test_a_silent_device_shows_offline_and_the_bridge_has_a_status(
    mqtt_broker: RunningBroker, tmp_path: Path
) -> None:
    settings = bridge_settings(mqtt_broker, tmp_path)
    prefix = settings.mqtt.prefix

    async def scenario() -> None:
        options = BridgeOptions(udp=("127.0.0.1", 0), heartbeat_s=0.2)
        async with (
            mesh_on(mqtt_broker, settings) as mesh,
            running_bridge(settings, options) as running,
        ):
            assert running.udp_address is not None
            porch = slm_bridge.UdpLink(*running.udp_address)
            sensor = slm_bridge.Client("pico-porch", porch)
            sensor.interval_s = 0  # the bridge's default, 0.2 s: offline after 0.6 s
            sensor.heartbeat()
            sensor.sensor("temperature", 21.5, "°C")
            status = f"{prefix}/device/pico-porch/status"
            await eventually(lambda: mesh.states(status)[-1:] == ["offline"], 5)
            assert mesh.states(status)[0] == "online"
            reading = [b for t, b, r in mesh.seen if t.endswith("pico-porch/sensor/temperature")]
            assert reading[0]["value"] == 21.5
            bridge_status = f"{prefix}/status/bridge/{running.instance}"
            assert [b["state"] for t, b, _ in mesh.seen if t == bridge_status] == ["online"]
            porch.close()

    asyncio.run(scenario())


def test_a_serving_task_that_dies_stops_the_bridge_and_says_so(
    mqtt_broker: RunningBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = bridge_settings(mqtt_broker, tmp_path)

    async def broken_watch(self: Bridge, every_s: float = 1.0) -> None:
        await asyncio.sleep(0.2)
        raise RuntimeError("a bug in the presence watch")

    monkeypatch.setattr(Bridge, "watch", broken_watch)

    async def scenario() -> tuple[Mesh, RunningBridge | None]:
        options = BridgeOptions(udp=("127.0.0.1", 0))
        started: RunningBridge | None = None
        async with mesh_on(mqtt_broker, settings) as mesh:
            with pytest.raises(ExceptionGroup) as caught:
                async with running_bridge(settings, options) as running:
                    started = running
                    await asyncio.sleep(5)
            assert "presence watch" in str(caught.value.exceptions[0])
            await asyncio.sleep(0.2)
        return mesh, started

    mesh, running = asyncio.run(scenario())
    assert running is not None
    topic = f"{settings.mqtt.prefix}/status/bridge/{running.instance}"
    assert [b["state"] for t, b, _ in mesh.seen if t == topic] == ["online", "offline"]


def test_a_udp_port_already_taken_is_a_clear_error() -> None:
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", 0))
    port = taken.getsockname()[1]

    async def scenario() -> None:
        link = UdpLink("127.0.0.1", port, deliver=lambda results, route: None, keys=DeviceKeys())
        with pytest.raises(BridgeConfigError, match=f"cannot listen on UDP 127.0.0.1:{port}"):
            await link.start()

    try:
        asyncio.run(scenario())
    finally:
        taken.close()
