"""Attackers on the mesh's own broker, with a real Mosquitto and a real mesh (an intent
replica and the router, with discovery and execution on). The broker is left open, as a
user's unconfigured broker would be, so what holds here holds by the mesh's own rules.

Each test prints what it sent and what came of it; `conftest.py` shows the lines at the
end of the run (`hostile clients:`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from brokers import SLM_MESH, Device, MeshThread, RunningBroker

from slm_mesh.services.runtime.broker import EmbeddedBroker, free_port
from slm_mesh.services.runtime.mqtt import BrokerUrl, Message, MqttClient
from slm_mesh.services.runtime.topics import Topics
from slm_mesh.services.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEEP = b"[" * 3000 + b"]" * 3000
LOCK_TOPIC = "zigbee2mqtt/front_lock/set"


@pytest.fixture(scope="module")
def open_mesh(
    mqtt_broker: RunningBroker, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MeshThread]:
    """The demo home's mesh with discovery and execution on, on an anonymous broker."""
    suffix = uuid.uuid4().hex[:8]
    settings = Settings(
        cache_dir=cache_dir,
        discovery=True,
        discovery_prefix=f"ha-{suffix}",
        execute_domains=["light", "lock", "switch"],
        port=0,
    ).updated(
        mqtt_url=mqtt_broker.url,
        mqtt_prefix=f"hostile-{suffix}",
        unanswered_log=tmp_path_factory.mktemp("hostile") / "unanswered.jsonl",
    )
    with MeshThread(settings=settings) as running:
        yield running


class Attacker:
    """A client on the broker that sees everything published and may publish anything."""

    def __init__(self, client: MqttClient) -> None:
        self.client = client
        self.seen: list[Message] = []
        self._pump: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.client.subscribe("#")
        self._pump = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.client.messages():
            self.seen.append(message)

    def on(self, topic: str) -> list[Message]:
        return [m for m in self.seen if m.topic == topic]

    async def publish(self, topic: str, payload: bytes | dict[str, Any], **options: Any) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        await self.client.publish(topic, data, **options)

    async def stop(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump


def client_for(url: str, name: str) -> MqttClient:
    return MqttClient(broker=BrokerUrl.parse(url), client_id=f"{name}-{uuid.uuid4().hex[:8]}")


@contextlib.asynccontextmanager
async def on_the_broker(url: str, topics: Topics) -> AsyncIterator[tuple[Attacker, Device]]:
    """An attacker and an honest device, both connected to the broker at `url`."""
    async with client_for(url, "attacker") as attacker_client, client_for(url, "device") as dev:
        attacker = Attacker(attacker_client)
        await attacker.start()
        async with Device(client=dev, reply_topic=topics.reply(dev.client_id)) as device:
            try:
                yield attacker, device
            finally:
                await attacker.stop()


def run(mesh: MeshThread, scenario: Callable[[Attacker, Device, Topics], Awaitable[None]]) -> None:
    topics = Topics(prefix=mesh.settings.mqtt.prefix)

    async def body() -> None:
        async with on_the_broker(mesh.settings.mqtt.url or "", topics) as (attacker, device):
            await asyncio.wait_for(scenario(attacker, device, topics), 60)

    asyncio.run(body())


async def answer_to(device: Device, topic: str, body: dict[str, Any]) -> dict[str, Any]:
    correlation = await device.send(topic, body)
    await device.wait_for_replies(10)
    (reply,) = device.answers(correlation)
    return reply


async def until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.02)


def test_a_discovery_config_cannot_hijack_a_home_entity(
    open_mesh: MeshThread, hostile_report: list[str]
) -> None:
    """The issue's hijack: the porch light's name and id, the lock's topic and UNLOCK."""
    prefix = open_mesh.settings.discovery_prefix
    configs = {
        f"{prefix}/lock/front/config": {
            "name": "Front Lock", "def_ent_id": "lock.front", "cmd_t": LOCK_TOPIC},
        f"{prefix}/light/evil/config": {
            "name": "Porch Light", "default_entity_id": "light.porch",
            "command_topic": LOCK_TOPIC, "payload_on": "UNLOCK"},
        f"{prefix}/light/evil2/config": {
            "name": "Porch Light", "cmd_t": "zigbee2mqtt/garage/set"},  # a new id, a taken name
    }  # fmt: skip

    async def scenario(attacker: Attacker, device: Device, topics: Topics) -> None:
        for topic, config in configs.items():
            await attacker.publish(topic, config, retain=True)
        home = open_mesh.router.home if open_mesh.router else None
        assert home is not None and home.follower is not None
        follower = home.follower
        await until(lambda: len(follower.registry.announcements) == 2 and follower.errors >= 1)
        answers = [
            await answer_to(device, topics.event("porch"), {"text": text})
            for text in ("turn on the porch light", "switch the porch light on")
        ]
        await asyncio.sleep(0.3)
        sent_to_lock = attacker.on(LOCK_TOPIC)
        hostile_report.append(
            f"hijack: 3 configs, {len(answers)} requests, {follower.errors} config(s) "
            f"refused, {sum(len(a['executed']) for a in answers)} executions planned, "
            f"{len(sent_to_lock)} commands on the lock's topic"
        )
        assert sent_to_lock == []
        for answer in answers:
            assert answer["intent"] == "HassTurnOn"
            assert all("topic" not in item for item in answer["executed"]), answer["executed"]
        for topic in configs:
            await attacker.publish(topic, b"", retain=True)

    run(open_mesh, scenario)


@pytest.mark.parametrize("where", ["status", "reply topic", "discovery", "ask", "service request"])
def test_one_deeply_nested_message_costs_only_itself(
    open_mesh: MeshThread, hostile_report: list[str], where: str
) -> None:
    router = open_mesh.router
    assert router is not None

    async def scenario(attacker: Attacker, device: Device, topics: Topics) -> None:
        target = {
            "status": topics.status("intent", "evil-1"),
            "reply topic": router.requester.reply_topic,
            "discovery": f"{open_mesh.settings.discovery_prefix}/light/deep/config",
            "ask": topics.ask,
            "service request": topics.request("intent"),
        }[where]
        before = open_mesh.router.counts.failed if open_mesh.router else 0
        for _ in range(3):
            await attacker.publish(target, DEEP, response_topic=device.reply_topic)
        answer = await answer_to(device, topics.event("lounge"), {"text": "lights off"})
        hostile_report.append(
            f"deep nesting on the {where}: 3 sent, mesh still answers "
            f"({answer['intent']}), {router.counts.failed - before} handler failures"
        )
        assert answer["intent"] == "HassTurnOff"
        assert router.counts.failed == before

    run(open_mesh, scenario)


def test_two_devices_using_the_same_correlation_both_get_answers(
    open_mesh: MeshThread, hostile_report: list[str]
) -> None:
    url = open_mesh.settings.mqtt.url or ""
    topics = Topics(prefix=open_mesh.settings.mqtt.prefix)

    async def body() -> None:
        async with client_for(url, "a") as first, client_for(url, "b") as second:
            a = Device(client=first, reply_topic=topics.reply(first.client_id))
            b = Device(client=second, reply_topic=topics.reply(second.client_id))
            async with a, b:
                for device in (a, b):
                    await device.client.publish(
                        topics.event("same"),
                        json.dumps({"text": "lights off", "area": "Lounge"}),
                        response_topic=device.reply_topic,
                        correlation=b"1",
                    )
                    device.sent[b"1"] = 0.0
                await a.wait_for_replies(10)
                await b.wait_for_replies(10)
                answered = [len(d.answers(b"1")) for d in (a, b)]
                hostile_report.append(f"same correlation, two devices: answers {answered}")
                assert answered == [1, 1]

    asyncio.run(body())


def test_a_client_cannot_pass_itself_off_as_a_service(
    open_mesh: MeshThread, hostile_report: list[str]
) -> None:
    router = open_mesh.router
    assert router is not None

    async def scenario(attacker: Attacker, device: Device, topics: Topics) -> None:
        status = topics.status("summarize", "evil-1")
        ignored = router.directory.ignored_statuses
        await attacker.publish(status, {"state": "online"}, retain=True)
        await attacker.client.subscribe(topics.request("summarize"))
        forged = 0

        async def impersonate() -> None:
            nonlocal forged
            while True:
                await asyncio.sleep(0.01)
                for message in list(attacker.seen):
                    if message.topic == topics.request("summarize") and message.response_topic:
                        attacker.seen.remove(message)
                        forged += 1
                        await attacker.client.publish(
                            message.response_topic,
                            json.dumps({"answer": "PWNED", "instance": "evil-1"}),
                            correlation=message.correlation,
                        )

        forging = asyncio.create_task(impersonate())
        await until(lambda: router.directory.ignored_statuses > ignored)
        answer = await answer_to(
            device, topics.event("phone"), {"text": "summarize: the meeting ran long"}
        )
        forging.cancel()
        await attacker.publish(status, b"", retain=True)
        hostile_report.append(
            f"impersonation: forged status ignored ({router.directory.online('summarize')} "
            f"summarize online), {forged} forged answers, tier {answer['tier']!r}, "
            f"answer {answer['answer']!r}"
        )
        assert router.directory.online("summarize") == 0
        assert answer["tier"] != "slm" and "PWNED" not in json.dumps(answer)

    run(open_mesh, scenario)


@pytest.mark.parametrize(
    "reply_to", [LOCK_TOPIC, "slm-mesh-results-elsewhere", "homeassistant/light/x/config"]
)
def test_the_mesh_never_answers_outside_its_reply_topics(
    open_mesh: MeshThread, hostile_report: list[str], reply_to: str
) -> None:
    router = open_mesh.router
    assert router is not None

    async def scenario(attacker: Attacker, device: Device, topics: Topics) -> None:
        dropped = router.counts.dropped
        await attacker.publish(topics.event("x"), {"text": "lights off"}, response_topic=reply_to)
        await attacker.publish(topics.ask, {"text": "lights off", "response_topic": reply_to})
        await attacker.publish(topics.request("intent"), {"text": "x"}, response_topic=reply_to)
        await until(lambda: router.counts.dropped >= dropped + 2)
        await answer_to(device, topics.event("lounge"), {"text": "lights off"})
        await asyncio.sleep(0.3)
        published = attacker.on(reply_to)
        hostile_report.append(
            f"reflection to {reply_to!r}: 3 sent, {router.counts.dropped - dropped} dropped "
            f"by the router, {len(published)} published there"
        )
        assert published == []

    run(open_mesh, scenario)


def test_a_client_cannot_take_over_the_router_s_session(
    open_mesh: MeshThread, hostile_report: list[str]
) -> None:
    """MQTT gives a client id to whoever connects last; the ids the mesh shows (its
    instance ids, its reply topics) are not the ids it connects with."""
    router = open_mesh.router
    assert router is not None

    async def scenario(attacker: Attacker, device: Device, topics: Topics) -> None:
        reconnects = router.client.reconnects
        shown = router.requester.reply_topic.rsplit("/", 1)[1]
        impostor = MqttClient(
            broker=BrokerUrl.parse(open_mesh.settings.mqtt.url or ""), client_id=shown
        )
        async with impostor:
            answer = await answer_to(device, topics.event("lounge"), {"text": "lights off"})
        hostile_report.append(
            f"session takeover with the shown id {shown!r}: router reconnects "
            f"{router.client.reconnects - reconnects}, answer {answer['intent']}"
        )
        assert router.client.reconnects == reconnects
        assert answer["intent"] == "HassTurnOff"

    run(open_mesh, scenario)


def test_a_request_sent_long_ago_is_not_worked_on(
    open_mesh: MeshThread, hostile_report: list[str]
) -> None:
    intent = open_mesh.intent
    assert intent is not None

    async def scenario(attacker: Attacker, device: Device, topics: Topics) -> None:
        handled = intent.counts.answered
        stale = {"text": "lights off", "deadline_ms": 2000, "sent_at": time.time() - 10}
        answers = [await answer_to(device, topics.event("lounge"), stale) for _ in range(5)]
        codes = {a["error"]["code"] for a in answers if a["error"]}
        hostile_report.append(
            f"stale requests: 5 sent 10 s ago with 2 s deadlines, errors {sorted(codes)}, "
            f"{intent.counts.answered - handled} reached the intent service"
        )
        assert codes == {"deadline_exceeded"} and len(answers) == 5
        assert intent.counts.answered == handled

    run(open_mesh, scenario)


def test_invisible_text_and_wildcards_in_fields_are_refused(
    open_mesh: MeshThread, hostile_report: list[str]
) -> None:
    async def scenario(attacker: Attacker, device: Device, topics: Topics) -> None:
        bodies = [
            {"text": "\u200b\u200b\u200b"},
            {"text": "\ufeff \u2060"},
            {"text": "lights off", "device": "+/#", "site": "#", "id": "a/+/b"},
            {"text": "lights off", "area": "#"},
        ]
        answers = [await answer_to(device, topics.event("x"), body) for body in bodies]
        codes = [a["error"]["code"] if a["error"] else a["intent"] for a in answers]
        hostile_report.append(f"invisible text and wildcard fields: {codes}")
        assert codes == ["invalid_request", "invalid_request", "HassTurnOff", "invalid_request"]

    run(open_mesh, scenario)


def test_a_flood_of_requests_gets_one_answer_each(
    open_mesh: MeshThread, hostile_report: list[str]
) -> None:
    """Requests at about twice the rate this box answers, with 2 s deadlines: every one
    gets exactly one answer, and what cannot be done in time becomes an error instead of
    late work (the deadline counts from `sent_at`)."""
    router = open_mesh.router
    assert router is not None
    count, per_s = 1200, 800

    async def scenario(attacker: Attacker, device: Device, topics: Topics) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(count):
            await asyncio.sleep(max(0.0, start + i / per_s - loop.time()))
            body = {"text": "lights off", "area": "Lounge", "deadline_ms": 2000,
                    "sent_at": time.time()}  # fmt: skip
            await device.send(topics.event("flood"), body)
        await device.wait_for_replies(60)
        tally = device.tally(deadline_s=2.0)
        firsts = [
            (at - device.sent[correlation], body)
            for correlation, replies in device.replies.items()
            for at, body in replies[:1]
        ]
        in_time = sum(1 for took, body in firsts if took <= 2.0 and not body["error"])
        late_work = sum(1 for took, body in firsts if took > 2.0 and not body["error"])
        hostile_report.append(
            f"flood of {count} at {per_s}/s: {tally}; answered in time {in_time}, "
            f"answered late {late_work}, service requests re-sent {router.requester.retries}"
        )
        assert (tally.lost, tally.doubled, tally.stray) == (0, 0, 0)

    run(open_mesh, scenario)


def test_a_serving_task_that_dies_takes_the_router_down_and_says_offline(
    restartable_broker: EmbeddedBroker, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a broker of its own: the module's mesh holds a router with this process's id."""
    from slm_mesh.services.router.app import running_router
    from slm_mesh.services.router.mqtt_edge import RouterEdge

    async def dies(self: RouterEdge) -> None:
        await asyncio.sleep(0.2)
        raise RuntimeError("a bug nobody caught")

    monkeypatch.setattr(RouterEdge, "serve", dies)
    url = f"mqtt://127.0.0.1:{restartable_broker.port}"
    settings = Settings(cache_dir=cache_dir).updated(mqtt_url=url)
    topics = Topics(prefix=settings.mqtt.prefix)

    async def body() -> None:
        async with client_for(url, "watch") as watch:
            await watch.subscribe(topics.status("router"))
            with pytest.raises(ExceptionGroup) as stopped:
                async with running_router(settings):
                    await asyncio.sleep(30)
            assert "a bug nobody caught" in str(stopped.value.exceptions[0])
            states = []
            async with asyncio.timeout(5):
                while "offline" not in states:
                    states.append(json.loads((await watch.receive()).payload)["state"])
            assert states[-1] == "offline"

    asyncio.run(body())


def test_secrets_stay_out_of_logs_answers_results_and_the_unanswered_log(
    mqtt_broker: RunningBroker, cache_dir: Path, tmp_path: Path, hostile_report: list[str]
) -> None:
    """`slm-mesh up` with a password in the broker URL, in the fallback URL and as the
    API key; the fallback cannot be reached, so its error travels everywhere."""
    secret = f"planted{uuid.uuid4().hex[:10]}"
    broker = BrokerUrl.parse(mqtt_broker.url)
    prefix = f"secret-{uuid.uuid4().hex[:8]}"
    closed_port = free_port()
    unanswered = tmp_path / "unanswered" / "log.jsonl"
    env = {
        **os.environ,
        "SLM_MESH_MQTT_PREFIX": prefix,
        "SLM_MESH_LLM_API_KEY": f"key-{secret}",
        "SLM_MESH_UNANSWERED_LOG": str(unanswered),
        "SLM_MESH_LOG_FORMAT": "json",
    }
    command = [
        *SLM_MESH, "--log-level", "debug", "up", "--port", "0", "--cache-dir", str(cache_dir),
        "--broker", f"mqtt://user:{secret}@{broker.host}:{broker.port}",
        "--llm-url", f"http://llm:{secret}@127.0.0.1:{closed_port}/v1",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    topics = Topics(prefix=prefix)

    async def body() -> tuple[dict[str, Any], list[Message]]:
        async with on_the_broker(mqtt_broker.url, topics) as (attacker, device):
            router_status = f"{prefix}/status/router/"
            await until(lambda: any(m.topic.startswith(router_status) for m in attacker.seen), 60)
            answer = await answer_to(
                device, topics.event("lounge"), {"text": "what's a good banana bread recipe"}
            )
            await asyncio.sleep(0.3)
            return answer, attacker.on(topics.results)

    try:
        answer, results = asyncio.run(body())
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    places = {
        "logs": out + err,
        "answer": json.dumps(answer),
        "results topic": " ".join(m.payload.decode() for m in results),
        "unanswered log": unanswered.read_text(encoding="utf-8"),
    }
    found = [where for where, text in places.items() if secret in text]
    hostile_report.append(
        f"planted secret: looked in {', '.join(places)} ({len(places['logs'])} log characters, "
        f"{len(results)} results); found in {found or 'none'}"
    )
    assert "cannot reach http://llm:***@127.0.0.1" in answer["why"]["reason"]
    assert found == []
