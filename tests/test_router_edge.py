"""The router's MQTT edge on its own, with a recording client instead of a broker: what
it refuses before any work is done."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from slm_mesh.services.contracts.intent import IntentResult
from slm_mesh.services.router.directory import ServiceDirectory
from slm_mesh.services.router.mqtt_edge import RouterEdge
from slm_mesh.services.router.router import Router
from slm_mesh.services.runtime.mesh_key import MeshKey
from slm_mesh.services.runtime.mqtt import Message
from slm_mesh.services.runtime.mqtt_rpc import ReplyTopics, Requester
from slm_mesh.services.runtime.topics import Topics

TOPICS = Topics()


class RecordingClient:
    protocol = "5"

    def __init__(self) -> None:
        self.published: list[tuple[str, str]] = []

    async def publish(self, topic: str, payload: bytes | str, **options: Any) -> None:
        self.published.append((topic, payload if isinstance(payload, str) else payload.decode()))

    async def subscribe(self, topic_filter: str, *, qos: int = 1) -> None:
        return None


class CountingIntent:
    def __init__(self) -> None:
        self.texts: list[str] = []

    async def recognize(
        self, texts: Sequence[str], *, area: str | None, timeout_s: float
    ) -> list[IntentResult]:
        self.texts += texts
        return [IntentResult(text=t, intent="HassTurnOff", tier="template") for t in texts]


def edge() -> tuple[RouterEdge, RecordingClient, CountingIntent]:
    client = RecordingClient()
    intent = CountingIntent()
    key = MeshKey(b"k" * 32)
    requester = Requester(client=client, reply_topic=TOPICS.reply("router-1"))  # type: ignore[arg-type]
    router_edge = RouterEdge(
        client=client,  # type: ignore[arg-type]
        topics=TOPICS,
        router=Router(intent=intent),
        requester=requester,
        directory=ServiceDirectory(key=key),
        reply_topics=ReplyTopics(filters=(TOPICS.reply("#"),)),
    )
    return router_edge, client, intent


def event(body: dict[str, Any], **options: Any) -> Message:
    return Message(topic=TOPICS.event("porch"), payload=json.dumps(body).encode(), **options)


def test_a_retained_event_replayed_by_the_broker_is_not_acted_on() -> None:
    router_edge, client, intent = edge()
    message = event(
        {"text": "unlock the front door"},
        retain=True,
        response_topic=TOPICS.reply("phone"),
        correlation=b"1",
    )
    asyncio.run(router_edge.answer(message))
    assert (intent.texts, client.published, router_edge.counts.dropped) == ([], [], 1)


def test_a_device_id_too_long_for_a_topic_is_refused() -> None:
    router_edge, client, intent = edge()
    message = Message(
        topic=TOPICS.event("x" * 5000),
        payload=b'{"text": "lights off"}',
        response_topic=TOPICS.reply("phone"),
        correlation=b"1",
    )
    asyncio.run(router_edge.answer(message))
    (reply,) = [json.loads(payload) for topic, payload in client.published]
    assert reply["error"]["code"] == "invalid_request" and intent.texts == []


def test_the_same_request_id_from_two_reply_topics_is_two_requests() -> None:
    router_edge, client, _ = edge()

    async def send() -> None:
        for phone in ("phone-a", "phone-b", "phone-a"):
            await router_edge.answer(
                event({"text": "lights off", "id": "1"}, response_topic=TOPICS.reply(phone))
            )

    asyncio.run(send())
    replies = [topic for topic, _ in client.published if topic != TOPICS.results]
    assert replies == [TOPICS.reply("phone-a"), TOPICS.reply("phone-b")]
    assert router_edge.counts.duplicates == 1
