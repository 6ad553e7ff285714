"""The router on the mesh: device events and direct requests in, one answer out for each,
on the requester's reply address and on the results topic.

Every message costs only itself: a payload that cannot be read, a reply topic outside the
mesh's reply topics, a status or an answer that is not signed with the mesh's key, a
discovery config that cannot be used, or a bug met while answering, is answered with an
error where it may be, else counted and dropped; the router keeps serving. A request seen
twice (QoS 1 delivers at least once; a device may retry) is answered once. Its deadline
counts from when it was sent, where it says so, else from when it reached the router.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import structlog

from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.kit.mqtt_face import EdgeCounts, serve_messages
from slm_mesh.services.router.answer import Answer
from slm_mesh.services.router.directory import ServiceDirectory
from slm_mesh.services.router.hermes import QUERY_TOPIC
from slm_mesh.services.router.home_edge import HomeEdge
from slm_mesh.services.router.request import parse_request, with_deadline
from slm_mesh.services.router.router import Router
from slm_mesh.services.router.seen import SeenRequests
from slm_mesh.services.runtime.mqtt import Message, MqttClient
from slm_mesh.services.runtime.mqtt_rpc import (
    ReplyAddress,
    ReplyTopics,
    Requester,
    correlation_of,
    parse_payload,
    reply_address,
    send_reply,
)
from slm_mesh.services.runtime.topics import Topics, matches, shared
from slm_mesh.services.wire_errors import error_json

log = structlog.get_logger(__name__)

MAX_DEVICE_CHARS = 200
"""The longest device id a topic may give, as for the request's own fields."""


@dataclass
class RouterEdge:
    client: MqttClient
    topics: Topics
    router: Router
    requester: Requester
    directory: ServiceDirectory
    reply_topics: ReplyTopics
    shared_subscriptions: bool = True
    home: HomeEdge | None = None
    """Hermes, discovery and execution, when any of them is on."""
    hermes: bool = False
    max_in_flight: int = 256
    counts: EdgeCounts = field(default_factory=EdgeCounts)
    seen: SeenRequests = field(default_factory=SeenRequests)

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

    async def serve(self) -> None:
        """Answer device events and requests until cancelled, on the kit's MQTT loop."""
        await serve_messages(
            self.client,
            is_request=self._is_request,
            answer=self.answer,
            max_in_flight=self.max_in_flight,
            take=self._take,
        )

    def _is_request(self, message: Message) -> bool:
        topic = message.topic
        return (
            matches(topic, self.event_filter)
            or topic == self.topics.ask
            or (self.hermes and topic == QUERY_TOPIC)
        )

    def _take(self, message: Message) -> None:
        """A reply or a status: quick, on the loop; whatever it holds
        costs only that message."""
        try:
            self._apply(message)
        except Exception:
            self.counts.failed += 1
            log.exception("message dropped: it could not be handled", topic=message.topic)

    def _apply(self, message: Message) -> None:
        if message.topic == self.requester.reply_topic:
            self.requester.deliver(message)
        elif matches(message.topic, self.topics.status()):
            self.directory.apply(message.topic, message.payload)

    async def answer(self, message: Message) -> None:
        """One request, whatever it holds: an answer, an error, or a counted drop."""
        self.counts.received += 1
        if message.retain:
            # Kept by the broker from some time ago and replayed at every subscribe: not a
            # live request (a retained "unlock the front door" would act at every restart).
            self.counts.dropped += 1
            log.warning("retained request ignored", topic=message.topic)
            return
        try:
            if message.topic == QUERY_TOPIC and self.home is not None:
                await self.home.answer_hermes(message)
                self.counts.answered += 1
                return
            await self._answer(message)
        except Exception as err:
            self.counts.failed += 1
            log.exception("request failed", topic=message.topic)
            await self._try_to_tell(message, f"{type(err).__name__}: {err}")

    async def _answer(self, message: Message) -> None:
        body: dict[str, Any] | None = None
        try:
            body = parse_payload(message)
            address = self._address(message, body)
            request = parse_request(body, device=self._device_of(message.topic))
        except InvalidRequestError as err:
            await self._refuse(message, body, str(err))
            return
        except _NotAllowed:
            return
        if not self.seen.first_time(self._dedupe_key(message, body, address)):
            self.counts.duplicates += 1
            log.info("duplicate request ignored", request_id=request.id)
            return
        request = with_deadline(
            request,
            default_s=self.router.default_deadline_s,
            received_at=message.received_at,
            expiry_s=message.expiry_s,
            now=time.monotonic(),
            wall_now=time.time(),
        )
        with structlog.contextvars.bound_contextvars(request_id=request.id):
            answer = await self.router.handle(request)
            if self.home is not None:
                answer = await self.home.execute(answer)
            await self.publish(address, answer)

    def _address(self, message: Message, body: dict[str, Any] | None) -> ReplyAddress | None:
        """The request's reply address; `_NotAllowed` (counted, logged) when it lies
        outside the mesh's reply topics."""
        address = reply_address(message, body)
        if address is not None and not self.reply_topics.allows(address.topic):
            self.counts.dropped += 1
            log.warning("request dropped: reply topic not allowed", reply_topic=address.topic)
            raise _NotAllowed
        return address

    async def publish(self, address: ReplyAddress | None, answer: Answer) -> None:
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
        if address is not None:
            await send_reply(self.client, address, payload)
        await self.client.publish(self.topics.results, json.dumps(payload, ensure_ascii=False))

    async def _refuse(self, message: Message, body: dict[str, Any] | None, why: str) -> None:
        try:
            address = self._address(message, body)
        except _NotAllowed:
            return
        if address is None:
            self.counts.dropped += 1
            log.warning("bad request dropped: no reply address", topic=message.topic, why=why)
            return
        self.counts.errors += 1
        await send_reply(self.client, address, error_json("invalid_request", why))

    async def _try_to_tell(self, message: Message, why: str) -> None:
        """After a bug: an `internal` error to the requester, if it can be told at all."""
        try:
            body = parse_payload(message)
            address = reply_address(message, body)
            if address is not None and self.reply_topics.allows(address.topic):
                await send_reply(self.client, address, error_json("internal", why))
        except Exception:
            log.exception("could not tell the requester about the failure")

    def _device_of(self, topic: str) -> str | None:
        prefix = self.topics.events.removesuffix("#")
        device = topic.removeprefix(prefix) or None if topic.startswith(prefix) else None
        if device is not None and len(device) > MAX_DEVICE_CHARS:
            raise InvalidRequestError(
                f"the device in the topic is over {MAX_DEVICE_CHARS} characters", field="device"
            )
        return device

    def _dedupe_key(
        self, message: Message, body: dict[str, Any], address: ReplyAddress | None
    ) -> tuple[str, str, str]:
        """Where the answer goes, with the device's own request id, else the correlation;
        a request with neither is new every time."""
        where = address.topic if address is not None else message.topic
        if isinstance(body.get("id"), str):
            return where, "id", body["id"]
        correlation = correlation_of(message, body)
        if correlation:
            return where, "correlation", correlation.hex()
        return where, "new", f"{id(message)}-{time.monotonic_ns()}"


class _NotAllowed(Exception):
    """The request's reply topic lies outside the mesh's reply topics (already counted)."""
