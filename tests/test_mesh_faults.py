"""The mesh under faults, on a real Mosquitto: every request a device sends gets exactly
one answer or one explicit error before its deadline, none lost, none doubled."""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path

import pytest
from brokers import Device, broker_url, intent_replicas

from slm_mesh.services.mesh import running_mesh
from slm_mesh.services.router.app import running_router
from slm_mesh.services.router.mqtt_edge import RouterEdge
from slm_mesh.services.runtime.broker import EmbeddedBroker
from slm_mesh.services.runtime.mqtt import BrokerUrl, MqttClient
from slm_mesh.services.runtime.topics import Topics
from slm_mesh.services.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEADLINE_S = 8.0
RATE_PER_S = 20
RETRY_AFTER_S = 2.0
"""As `MeshClient` does: Mosquitto 2.0 drops what is published to a shared subscription
between its restart and the subscriber's return, so a device must publish again."""
TEXTS = ("lights off", "turn on the kettle", "it's pitch black in here", "lock the front door")


def device_client(url: str, *, persistent_session_s: int = 0) -> MqttClient:
    return MqttClient(
        broker=BrokerUrl.parse(url),
        client_id=f"device-{uuid.uuid4().hex[:8]}",
        persistent_session_s=persistent_session_s,
    )


async def send_at_rate(device: Device, topics: Topics, *, seconds: float) -> None:
    """Events at RATE_PER_S, on schedule whatever the broker is doing."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i in range(int(seconds * RATE_PER_S)):
        await asyncio.sleep(max(0.0, start + i / RATE_PER_S - loop.time()))
        body = {
            "text": TEXTS[i % len(TEXTS)],
            "area": "Kitchen",
            "id": f"load-{i}",
            "deadline_ms": int(DEADLINE_S * 1000),
        }
        await device.send(topics.event("satellite-kitchen"), body)


async def wait_for_intent_replicas(router: RouterEdge, count: int, timeout_s: float) -> None:
    async with asyncio.timeout(timeout_s):
        while router.directory.online("intent") != count:
            await asyncio.sleep(0.05)


def test_every_request_gets_one_reply_while_the_broker_restarts(
    restartable_broker: EmbeddedBroker, cache_dir: Path, tmp_path: Path
) -> None:
    settings = Settings(
        cache_dir=cache_dir, port=0, deadline_ms=int(DEADLINE_S * 1000), attempt_timeout_ms=500
    ).updated(mqtt_url=broker_url(restartable_broker), unanswered_log=tmp_path / "unanswered.jsonl")
    topics = Topics(prefix=settings.mqtt.prefix)

    async def scenario() -> None:
        client = device_client(settings.mqtt.url or "", persistent_session_s=60)
        async with (
            running_mesh(settings) as mesh,
            client,
            Device(
                client=client,
                reply_topic=topics.reply(client.client_id),
                retry_after_s=RETRY_AFTER_S,
                deadline_s=DEADLINE_S,
            ) as device,
        ):
            await wait_for_intent_replicas(mesh.router, 1, timeout_s=5)
            sending = asyncio.create_task(send_at_rate(device, topics, seconds=4))
            await asyncio.sleep(1.5)
            await restartable_broker.restart()
            await sending
            await device.wait_for_replies(DEADLINE_S + 1)
            tally = device.tally(deadline_s=DEADLINE_S)
            print(f"broker restart: {tally} resent={device.resent} reconnects={client.reconnects}")
            assert client.reconnects >= 1, "the broker restart went unnoticed"
            assert tally.sent == 4 * RATE_PER_S
            assert (tally.lost, tally.doubled, tally.late, tally.stray) == (0, 0, 0, 0), tally
            assert tally.answered + tally.errors == tally.sent

    asyncio.run(scenario())


def test_every_request_is_answered_when_one_of_two_replicas_is_killed(
    restartable_broker: EmbeddedBroker, cache_dir: Path, tmp_path: Path
) -> None:
    settings = Settings(
        cache_dir=cache_dir, deadline_ms=int(DEADLINE_S * 1000), attempt_timeout_ms=300
    ).updated(
        mqtt_url=broker_url(restartable_broker),
        mqtt_prefix=f"test-{uuid.uuid4().hex[:8]}",
        unanswered_log=tmp_path / "unanswered.jsonl",
    )
    topics = Topics(prefix=settings.mqtt.prefix)

    async def scenario() -> None:
        client = device_client(settings.mqtt.url or "")
        async with (
            running_router(settings) as router,
            client,
            Device(client=client, reply_topic=topics.reply(client.client_id)) as device,
        ):
            await wait_for_intent_replicas(router, 2, timeout_s=30)
            sending = asyncio.create_task(send_at_rate(device, topics, seconds=3))
            await asyncio.sleep(1.5)
            replicas[0].send_signal(signal.SIGKILL)
            await sending
            await device.wait_for_replies(DEADLINE_S + 1)
            tally = device.tally(deadline_s=DEADLINE_S)
            retries = router.requester.retries
            print(f"replica killed: {tally} router_retries={retries}")
            assert tally.sent == 3 * RATE_PER_S
            assert (tally.lost, tally.doubled, tally.late, tally.stray) == (0, 0, 0, 0), tally
            assert tally.answered == tally.sent, [
                body for c in device.sent for body in device.answers(c) if body.get("error")
            ]
            await wait_for_intent_replicas(router, 1, timeout_s=5)

    with intent_replicas(settings, count=2, log_dir=tmp_path) as replicas:
        asyncio.run(scenario())
