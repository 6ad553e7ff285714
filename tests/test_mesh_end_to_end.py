"""The mesh as a user meets it: `slm-mesh demo`, `slm-mesh ask --mqtt`, the results topic,
and the retained status of each instance, with its last will."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from brokers import SLM_MESH, Device, MeshThread, RunningBroker, intent_replicas

from slm_mesh.services.mesh_demo import DEMO_EVENTS
from slm_mesh.services.runtime.mqtt import BrokerUrl, Message, MqttClient
from slm_mesh.services.runtime.topics import Topics
from slm_mesh.services.settings import Settings

pytestmark = pytest.mark.integration


def client_for(url: str) -> MqttClient:
    return MqttClient(broker=BrokerUrl.parse(url), client_id=f"watch-{uuid.uuid4().hex[:8]}")


async def statuses(client: MqttClient, topics: Topics, service: str) -> dict[str, dict[str, Any]]:
    """The retained status of every instance of `service`, as the broker holds them."""
    await client.subscribe(topics.status(service))
    found: dict[str, dict[str, Any]] = {}
    async with asyncio.timeout(5):
        async for message in client.messages():
            found[message.topic.rsplit("/", 1)[1]] = json.loads(message.payload)
            if message.retain and len(found) >= 1:
                break
    return found


@pytest.mark.slow
def test_the_demo_prints_an_answer_for_every_sample_event(cache_dir: Path) -> None:
    done = subprocess.run(
        [*SLM_MESH, "--log-level", "warning", "demo", "--cache-dir", str(cache_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answers = [line for line in done.stdout.splitlines() if line.strip().startswith("->")]
    assert len(answers) == len(DEMO_EVENTS), done.stdout
    assert not [line for line in answers if "error:" in line], done.stdout
    assert "HassTurnOff" in answers[0]
    for _, _, text in DEMO_EVENTS:
        assert repr(text) in done.stdout


def test_ask_over_mqtt_prints_the_intent_as_a_json_line(mesh: MeshThread) -> None:
    env = {**os.environ, "SLM_MESH_MQTT_PREFIX": mesh.settings.mqtt.prefix}
    command = [*SLM_MESH, "--log-level", "warning", "ask", "intent"]
    command += ["--mqtt", mesh.settings.mqtt.url or "", "--area", "Lounge", "lights off"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    answer = json.loads(line)
    assert answer["intent"] == "HassTurnOff"
    assert answer["slots"] == {"area": "Lounge", "domain": "light"}


def test_the_results_topic_gets_every_answer(mesh: MeshThread) -> None:
    topics = Topics(prefix=mesh.settings.mqtt.prefix)
    texts = ["lights off", "boil the kettle", "what's a good banana bread recipe", "lock up"]

    async def scenario() -> None:
        watcher = client_for(mesh.settings.mqtt.url or "")
        sender = client_for(mesh.settings.mqtt.url or "")
        async with (
            watcher,
            sender,
            Device(client=sender, reply_topic=topics.reply(sender.client_id)) as device,
        ):
            await watcher.subscribe(topics.results)
            await asyncio.sleep(0.1)
            for n, text in enumerate(texts):
                body = {"text": text, "id": f"results-{n}-{uuid.uuid4().hex[:6]}"}
                await device.send(topics.event("satellite-kitchen"), body)
            await device.wait_for_replies(10)
            replied = {body["id"] for c in device.sent for body in device.answers(c)}
            published: set[str] = set()
            async with asyncio.timeout(5):
                async for message in watcher.messages():
                    published.add(json.loads(message.payload)["id"])
                    if replied <= published:
                        break
            assert len(replied) == len(texts)

    asyncio.run(scenario())


def test_router_and_intent_announce_themselves_online(mesh: MeshThread) -> None:
    topics = Topics(prefix=mesh.settings.mqtt.prefix)

    async def scenario() -> None:
        async with client_for(mesh.settings.mqtt.url or "") as client:
            for service in ("router", "intent"):
                found = await statuses(client, topics, service)
                assert [status["state"] for status in found.values()] == ["online"], found
                assert all(status["service"] == service for status in found.values())

    asyncio.run(scenario())


@pytest.mark.slow
def test_a_killed_replica_is_announced_offline_by_its_last_will(
    mqtt_broker: RunningBroker, cache_dir: Path, tmp_path: Path
) -> None:
    settings = Settings(cache_dir=cache_dir).updated(
        mqtt_url=mqtt_broker.url, mqtt_prefix=f"will-{uuid.uuid4().hex[:8]}"
    )
    topics = Topics(prefix=settings.mqtt.prefix)

    async def wait_for_state(client: MqttClient, state: str) -> Message:
        async with asyncio.timeout(30):
            async for message in client.messages():
                if json.loads(message.payload)["state"] == state:
                    return message
        raise AssertionError("unreachable")

    async def scenario(replica: subprocess.Popen[bytes]) -> None:
        async with client_for(settings.mqtt.url or "") as client:
            await client.subscribe(topics.status("intent"))
            online = await wait_for_state(client, "online")
            assert online.topic.endswith(f"-{replica.pid}")
            replica.send_signal(signal.SIGKILL)
            offline = await wait_for_state(client, "offline")
            assert offline.topic == online.topic
        async with client_for(settings.mqtt.url or "") as client:
            (status,) = (await statuses(client, topics, "intent")).values()
            assert status["state"] == "offline", "the will is not retained"

    with intent_replicas(settings, count=1, log_dir=tmp_path) as (replica,):
        asyncio.run(scenario(replica))
