"""The mesh with its optional parts on, over a real Mosquitto: the LLM fallback (a real
HTTP server on loopback), Home Assistant discovery with opt-in execution, and Hermes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from fallback_server import FakeLlmServer, free_port

from slm_mesh.services.intent.recognizer import IntentRecognizer
from slm_mesh.services.mesh import Mesh, running_mesh
from slm_mesh.services.mesh_client import MeshClient, mesh_client
from slm_mesh.services.runtime.broker import EmbeddedBroker, find_mosquitto
from slm_mesh.services.runtime.mqtt import MqttClient
from slm_mesh.services.runtime.topics import Topics
from slm_mesh.services.settings import Settings

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(find_mosquitto() is None, reason="needs mosquitto (.ci/run installs it)"),
]

#: Same id and name as the demo home's Floor Lamp, so the home (and the trained head) stay
#: the same: discovery adds its command topics.
FLOOR_LAMP = {
    "name": "Floor Lamp",
    "uniq_id": "tasmota_F1_LI_1",
    "def_ent_id": "light.lounge_floor_lamp",
    "~": "tasmota_F1/",
    "cmd_t": "~cmnd/POWER",
    "bri_cmd_t": "~cmnd/Dimmer",
    "bri_scl": 100,
    "dev": {"ids": ["F1"], "sa": "Lounge"},
}


def run_mesh(
    tmp_path: Path,
    cache_dir: Path,
    test: Callable[[Mesh, MeshClient, MqttClient], Awaitable[None]],
    *,
    before: Callable[[MqttClient], Awaitable[None]] | None = None,
    **options: Any,
) -> None:
    async def body() -> None:
        broker = EmbeddedBroker(data_dir=tmp_path / "broker", port=0)
        async with broker, MqttClient(broker=broker.url, client_id="watcher") as watcher:
            if before is not None:
                await before(watcher)
            settings = Settings(cache_dir=cache_dir, port=0, **options).updated(
                mqtt_url=f"mqtt://127.0.0.1:{broker.port}",
                unanswered_log=tmp_path / "unanswered.jsonl",
            )
            async with (
                running_mesh(settings) as mesh,
                mesh_client(broker.url, topics=Topics()) as client,
            ):
                await asyncio.wait_for(test(mesh, client, watcher), 30)

    asyncio.run(body())


async def wait_online(client: MeshClient) -> None:
    """The router learns of the intent service from its retained status."""
    for _ in range(100):
        answer = await client.ask("lights off", area="Lounge")
        if not answer["error"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the mesh never answered")


def test_with_a_fallback_local_tiers_answer_commands_and_the_model_answers_the_rest(
    tmp_path: Path, cache_dir: Path, demo_recognizer: IntentRecognizer
) -> None:
    reply: dict[str, Any] = {
        "kind": "answer",
        "intent": None,
        "slots": {},
        "answer": "Mash three bananas.",
    }
    with FakeLlmServer(mode="answer", reply=reply) as server:

        async def test(mesh: Mesh, client: MeshClient, watcher: MqttClient) -> None:
            await wait_online(client)
            local = await client.ask("turn on the desk lamp")
            assert local["tier"] in ("template", "slm") and local["intent"] == "HassTurnOn"
            assert not server.requests, "an in-scope command must not reach the model"
            answer = await client.ask("what's a good banana bread recipe")
            assert answer["tier"] == "llm" and answer["answer"] == "Mash three bananas."
            assert answer["why"]["fallback"] == "closed"
            assert answer["why"]["budget"]["minute_used"] == 1

        run_mesh(tmp_path, cache_dir, test, llm_url=server.url, llm_model="tiny")
    log = [json.loads(line) for line in (tmp_path / "unanswered.jsonl").read_text().splitlines()]
    assert [e["text"] for e in log] == ["what's a good banana bread recipe"]
    assert log[0]["fallback"]["answer"] == "Mash three bananas."


def test_with_the_fallback_down_the_user_gets_a_prompt_cannot_help(
    tmp_path: Path, cache_dir: Path, demo_recognizer: IntentRecognizer
) -> None:
    async def test(mesh: Mesh, client: MeshClient, watcher: MqttClient) -> None:
        await wait_online(client)
        answer = await client.ask("why does my boiler make a banging noise", deadline_s=3.0)
        assert answer["tier"] == "none" and not answer["error"]
        assert "can't help" in answer["answer"]
        assert answer["elapsed_ms"] < 3000

    run_mesh(tmp_path, cache_dir, test, llm_url=f"http://127.0.0.1:{free_port()}/v1")


def test_a_discovered_light_is_switched_on_its_command_topic_when_lights_are_opted_in(
    tmp_path: Path, cache_dir: Path, demo_recognizer: IntentRecognizer
) -> None:
    async def announce(watcher: MqttClient) -> None:
        await watcher.publish(
            "homeassistant/light/tasmota_F1_LI_1/config", json.dumps(FLOOR_LAMP), retain=True
        )
        await watcher.subscribe("tasmota_F1/cmnd/#")

    async def test(mesh: Mesh, client: MeshClient, watcher: MqttClient) -> None:
        await wait_online(client)
        answer = await client.ask("turn on the floor lamp")
        assert answer["intent"] == "HassTurnOn"
        assert answer["executed"] == [
            {"entity_id": "light.lounge_floor_lamp", "topic": "tasmota_F1/cmnd/POWER"}
        ]
        # "lights off" from the Lounge (wait_online) switched it off first.
        messages = watcher.messages()
        sent = [await asyncio.wait_for(anext(messages), 5) for _ in range(2)]
        assert [(m.topic, m.payload) for m in sent] == [
            ("tasmota_F1/cmnd/POWER", b"OFF"),
            ("tasmota_F1/cmnd/POWER", b"ON"),
        ]
        not_opted_in = await client.ask("boil the kettle")
        assert not_opted_in["intent"] == "HassTurnOn"
        assert not_opted_in["executed"] == [
            {"entity_id": "switch.kettle", "skipped": "domain 'switch' is not allowed"}
        ]

    run_mesh(tmp_path, cache_dir, test, before=announce, discovery=True, execute_domains=["light"])


#: A device the demo home does not have, as Zigbee2MQTT would announce it.
FOUNTAIN = {
    "name": "Garden Fountain",
    "unique_id": "0x00158d0001fountain_switch",
    "default_entity_id": "switch.garden_fountain",
    "command_topic": "zigbee2mqtt/Garden Fountain/set",
    "device": {"identifiers": ["zigbee2mqtt_0x00158d0001fountain"], "suggested_area": "Garden"},
}


def test_a_device_announced_while_the_mesh_runs_is_understood_by_name(
    tmp_path: Path, cache_dir: Path, demo_recognizer: IntentRecognizer
) -> None:
    async def test(mesh: Mesh, client: MeshClient, watcher: MqttClient) -> None:
        await wait_online(client)

        def names(answer: dict[str, Any]) -> list[object]:
            return [intent["slots"].get("name") for intent in answer["intents"]]

        assert "Garden Fountain" not in names(await client.ask("switch on the garden fountain"))
        await watcher.publish(
            "homeassistant/switch/fountain/switch/config", json.dumps(FOUNTAIN), retain=True
        )
        for _ in range(100):
            answer = await client.ask("switch on the garden fountain")
            if "Garden Fountain" in names(answer):
                break
            await asyncio.sleep(0.1)
        assert (answer["intent"], names(answer)) == ("HassTurnOn", ["Garden Fountain"]), answer

    run_mesh(tmp_path, cache_dir, test, discovery=True)


def test_a_rhasspy_satellite_gets_hermes_answers(
    tmp_path: Path, cache_dir: Path, demo_recognizer: IntentRecognizer
) -> None:
    async def test(mesh: Mesh, client: MeshClient, watcher: MqttClient) -> None:
        await wait_online(client)
        await watcher.subscribe("hermes/intent/#")
        await watcher.subscribe("hermes/nlu/#")
        query = {"input": "turn on the desk lamp", "siteId": "study", "sessionId": "s1"}
        await watcher.publish("hermes/nlu/query", json.dumps(query))
        seen: dict[str, dict[str, Any]] = {}
        async for message in watcher.messages():
            if message.topic != "hermes/nlu/query":
                seen[message.topic] = json.loads(message.payload)
            if len(seen) == 2:
                break
        intent = seen["hermes/intent/HassTurnOn"]
        assert intent["siteId"] == "study" and intent["sessionId"] == "s1"
        assert intent["intent"]["intentName"] == "HassTurnOn"
        assert {s["slotName"]: s["value"]["value"] for s in intent["slots"]} == {
            "name": "Desk Lamp"
        }
        assert "hermes/nlu/intentParsed" in seen

    run_mesh(tmp_path, cache_dir, test, hermes=True)


def test_without_mosquitto_the_mesh_runs_on_amqtt_over_mqtt_3_1_1(
    tmp_path: Path, cache_dir: Path, demo_recognizer: IntentRecognizer
) -> None:
    """amqtt speaks only 3.1.1: reply addresses travel in the payload, one replica."""

    async def body() -> None:
        broker = EmbeddedBroker(data_dir=tmp_path / "amqtt", port=0, kind="amqtt")
        async with broker:
            features = broker.features
            assert (features.protocol, features.shared_subscriptions) == ("3.1.1", False)
            settings = Settings(cache_dir=cache_dir, port=0).updated(
                mqtt_url=f"mqtt://127.0.0.1:{broker.port}",
                mqtt_protocol=features.protocol,
                mqtt_shared_subscriptions=False,
                unanswered_log=tmp_path / "unanswered.jsonl",
            )
            async with (
                running_mesh(settings),
                mesh_client(broker.url, topics=Topics(), protocol="3.1.1") as client,
            ):
                await wait_online(client)
                answer = await client.ask("lights off", area="Lounge")
                assert (answer["intent"], answer["slots"]) == (
                    "HassTurnOff",
                    {"domain": "light", "area": "Lounge"},
                )

    asyncio.run(asyncio.wait_for(body(), 60))
