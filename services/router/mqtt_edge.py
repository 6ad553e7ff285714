"""The router on the mesh: device events and direct requests in, one answer out for each,
on the requester's reply address and on the results topic.

Bad payloads get an error answer where a reply address exists, and are counted and
logged where none does; the router keeps serving. A request seen twice (QoS 1 delivers
at least once; a device may retry) is answered once.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import structlog

from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.intent.discovery import discovery_filters
from slm_mesh.services.router.answer import Answer
from slm_mesh.services.router.directory import ServiceDirectory
from slm_mesh.services.router.hermes import QUERY_TOPIC
from slm_mesh.services.router.home_edge import HomeEdge
from slm_mesh.services.router.request import RouterRequest, parse_request
from slm_mesh.services.router.router import Router
from slm_mesh.services.runtime.mqtt import Message, MqttClient
from slm_mesh.services.runtime.mqtt_rpc import (
    Requester,
    correlation_of,
    error_body,
    parse_payload,
    reply_address,
    send_reply,
)
from slm_mesh.services.runtime.topics import Topics, matches, shared

log = structlog.get_logger(__name__)

_SEEN_LIMIT = 10_000


@dataclass
class RouterCounts:
    received: int = 0
    answered: int = 0
    errors: int = 0
    dropped: int = 0
    duplicates: int = 0


@dataclass
class RouterEdge:
    client: MqttClient
    topics: Topics
    router: Router
    requester: Requester
    directory: ServiceDirectory
    shared_subscriptions: bool = True
    home: HomeEdge | None = None
    """Hermes, discovery and execution, when any of them is on."""
    hermes: bool = False
    discovery_prefix: str | None = None
    max_in_flight: int = 256
    counts: RouterCounts = field(default_factory=RouterCounts)
    _seen: OrderedDict[str, None] = field(default_factory=OrderedDict)

    @property
    def event_filter(self) -> str:
        return shared("router", self.topics.events, enabled=self.shared_subscriptions)

    @property
    def ask_filter(self) -> str:
        return shared("router", self.topics.ask, enabled=self.shared_subscriptions)

    async def start(self) -> None:
        await self.requester.start()
        await self.client.subscribe(self.topics.status())
        await self.client.subscribe(self.event_filter)
        await self.client.subscribe(self.ask_filter)
        if self.hermes:
            await self.client.subscribe(
                shared("router", QUERY_TOPIC, enabled=self.shared_subscriptions)
            )
        for topic_filter in (
            discovery_filters(self.discovery_prefix) if self.discovery_prefix else ()
        ):
            await self.client.subscribe(topic_filter)

    async def serve(self) -> None:
        slots = asyncio.Semaphore(self.max_in_flight)
        tasks: set[asyncio.Task[None]] = set()
        async for message in self.client.messages():
            if message.topic == self.requester.reply_topic:
                self.requester.deliver(message)
            elif matches(message.topic, self.topics.status()):
                self.directory.apply(message.topic, message.payload)
            elif self.home is not None and self._is_discovery(message.topic):
                self.home.apply_discovery(message)
            elif (
                matches(message.topic, self.event_filter)
                or message.topic == self.topics.ask
                or (self.hermes and message.topic == QUERY_TOPIC)
            ):
                await slots.acquire()
                task = asyncio.create_task(self.answer(message))
                tasks.add(task)
                task.add_done_callback(lambda t: (tasks.discard(t), slots.release()))

    def _is_discovery(self, topic: str) -> bool:
        filters = discovery_filters(self.discovery_prefix) if self.discovery_prefix else ()
        return any(matches(topic, topic_filter) for topic_filter in filters)

    async def answer(self, message: Message) -> None:
        self.counts.received += 1
        if message.topic == QUERY_TOPIC and self.home is not None:
            await self.home.answer_hermes(message)
            self.counts.answered += 1
            return
        body: dict[str, Any] | None = None
        try:
            body = parse_payload(message)
            request = parse_request(body, device=self._device_of(message.topic))
        except InvalidRequestError as err:
            await self._refuse(message, body, str(err))
            return
        key = self._dedupe_key(message, body, request)
        if key in self._seen:
            self.counts.duplicates += 1
            log.info("duplicate request ignored", request_id=request.id)
            return
        self._remember(key)
        with structlog.contextvars.bound_contextvars(request_id=request.id):
            answer = await self.router.handle(request)
            if self.home is not None:
                answer = await self.home.execute(answer)
            await self.publish(message, body, answer)

    async def publish(self, message: Message, body: dict[str, Any], answer: Answer) -> None:
        payload = answer.as_json()
        if answer.error_code:
            self.counts.errors += 1
        else:
            self.counts.answered += 1
        log.info(
            "answered",
            tier=answer.tier,
            intent=payload["intent"],
            error=answer.error_code,
            elapsed_ms=payload["elapsed_ms"],
        )
        address = reply_address(message, body)
        if address is not None:
            await send_reply(self.client, address, payload)
        await self.client.publish(self.topics.results, json.dumps(payload, ensure_ascii=False))

    async def _refuse(self, message: Message, body: dict[str, Any] | None, why: str) -> None:
        address = reply_address(message, body)
        if address is None:
            self.counts.dropped += 1
            log.warning("bad request dropped: no reply address", topic=message.topic, why=why)
            return
        self.counts.errors += 1
        await send_reply(self.client, address, error_body("invalid_request", why))

    def _device_of(self, topic: str) -> str | None:
        prefix = self.topics.events.removesuffix("#")
        return topic.removeprefix(prefix) or None if topic.startswith(prefix) else None

    def _dedupe_key(self, message: Message, body: dict[str, Any], request: RouterRequest) -> str:
        """The device's own request id, else the correlation; a request with neither is
        new every time."""
        if "id" in body:
            return f"id:{request.device}:{request.id}"
        correlation = correlation_of(message, body)
        return f"corr:{correlation.hex()}" if correlation else f"new:{request.id}"

    def _remember(self, key: str) -> None:
        self._seen[key] = None
        if len(self._seen) > _SEEN_LIMIT:
            self._seen.popitem(last=False)
