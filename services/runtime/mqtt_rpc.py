"""Request/response over MQTT: reply addresses, JSON payloads, and a requester that owns
its retries within each request's deadline.

MQTT 5 carries the reply address as Response Topic and Correlation Data properties.
A 3.1.1 client puts `response_topic` and `correlation_id` in its JSON payload instead, and
gets `correlation_id` back in the reply's payload: small devices and amqtt speak only 3.1.1.

A reply address is only honoured under the mesh's reply topics (`ReplyTopics`, by default
`<prefix>/reply/#`): otherwise any client could make the mesh publish on a topic that
devices listen to.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from slm_mesh.services.errors import DeadlineExceeded, InvalidRequestError
from slm_mesh.services.runtime.json_payload import MAX_PAYLOAD_BYTES, load_json_object
from slm_mesh.services.runtime.mesh_key import MeshKey
from slm_mesh.services.runtime.mqtt import Message, MqttClient
from slm_mesh.services.runtime.topics import matches

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ReplyAddress:
    topic: str
    correlation: bytes | None = None
    in_payload: bool = False
    """The requester speaks 3.1.1: the correlation goes back in the payload."""


@dataclass(frozen=True)
class ReplyTopics:
    """The topic filters a reply may be published under."""

    filters: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.filters:
            raise ValueError("at least one reply topic filter is needed")

    def allows(self, topic: str) -> bool:
        return _publishable(topic) and any(matches(topic, f) for f in self.filters)


def _publishable(topic: str) -> bool:
    return bool(topic) and not any(c in topic for c in "+#\0") and not topic.startswith("$")


def parse_payload(message: Message, *, max_bytes: int = MAX_PAYLOAD_BYTES) -> dict[str, Any]:
    """A request's JSON object, or InvalidRequestError saying what is wrong with it."""
    return load_json_object(message.payload, max_bytes=max_bytes)


def reply_address(message: Message, body: dict[str, Any] | None) -> ReplyAddress | None:
    """Where the answer goes: the MQTT 5 properties first, then the payload's fields."""
    if message.response_topic:
        return ReplyAddress(message.response_topic, message.correlation)
    if body is None:
        return None
    topic = body.get("response_topic")
    if not isinstance(topic, str) or not _publishable(topic):
        return None
    correlation = body.get("correlation_id")
    return ReplyAddress(
        topic,
        str(correlation).encode() if correlation is not None else None,
        in_payload=True,
    )


def correlation_of(message: Message, body: dict[str, Any]) -> bytes | None:
    if message.correlation is not None:
        return message.correlation
    value = body.get("correlation_id")
    return str(value).encode() if value is not None else None


async def send_reply(
    client: MqttClient, address: ReplyAddress, body: dict[str, Any], *, key: MeshKey | None = None
) -> None:
    """Publish `body` to the reply address; `key` signs it for that request (`mesh_key`)."""
    if address.in_payload and address.correlation is not None:
        body = {**body, "correlation_id": address.correlation.decode("utf-8", "replace")}
    data = json.dumps(body, ensure_ascii=False)
    if key is not None:
        data = key.seal(data, context=address.correlation or b"")
    await client.publish(address.topic, data, correlation=address.correlation)


AcceptReply = Callable[[Message, dict[str, Any]], bool]
"""Whether a reply comes from someone the requester believes (see `mesh_key`)."""


class Requester:
    """Sends requests and matches replies by correlation.

    A request is published again when no reply comes within `attempt_timeout_s` (a replica
    died holding it, or the broker restarted); the first reply wins and later copies are
    counted and dropped, so each request gets exactly one answer or DeadlineExceeded.
    With `accept`, a reply it refuses is counted in `rejected_replies` and ignored: the
    request waits on for a reply it accepts.
    """

    def __init__(
        self,
        *,
        client: MqttClient,
        reply_topic: str,
        attempt_timeout_s: float = 1.0,
        accept: AcceptReply | None = None,
    ) -> None:
        self.client = client
        self.reply_topic = reply_topic
        self.attempt_timeout_s = attempt_timeout_s
        self._accept = accept
        self._pending: dict[bytes, asyncio.Future[dict[str, Any]]] = {}
        self.retries = 0
        self.duplicate_replies = 0
        self.rejected_replies = 0
        self.unreadable_replies = 0

    async def start(self) -> None:
        await self.client.subscribe(self.reply_topic)

    def deliver(self, message: Message) -> None:
        """Hand over a message received on the reply topic."""
        try:
            body = parse_payload(message)
        except InvalidRequestError as err:
            self.unreadable_replies += 1
            log.warning("unreadable reply dropped", topic=message.topic, why=str(err))
            return
        correlation = correlation_of(message, body)
        future = self._pending.get(correlation) if correlation else None
        if future is None or future.done():
            self.duplicate_replies += 1
            return
        if self._accept is not None and not self._accept(message, body):
            self.rejected_replies += 1
            log.warning("reply from an instance not trusted ignored", topic=message.topic)
            return
        future.set_result(body)

    async def request(
        self, topic: str, body: dict[str, Any], *, timeout_s: float
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        correlation = uuid.uuid4().hex.encode()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._pending[correlation] = future
        if self.client.protocol != "5":
            body = {**body, "response_topic": self.reply_topic}
            body["correlation_id"] = correlation.decode()
        payload = json.dumps(body)
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise DeadlineExceeded(f"no reply on {topic} within {timeout_s:g} s")
                await self.client.publish(
                    topic,
                    payload,
                    response_topic=self.reply_topic,
                    correlation=correlation,
                    expiry_s=max(1, int(remaining + 0.999)),
                )
                try:
                    return await asyncio.wait_for(
                        asyncio.shield(future), min(self.attempt_timeout_s, remaining)
                    )
                except TimeoutError:
                    if deadline - loop.time() > 0:
                        self.retries += 1
        finally:
            self._pending.pop(correlation, None)
