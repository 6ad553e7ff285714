"""A service's MQTT face, the same for every service: take requests from the shared
request topic, answer on each requester's reply address, publish every result on the
service's results topic, and announce the instance with a retained status and a last will.

The service itself is one coroutine, `handle(body) -> answer`, which knows nothing of MQTT
(`json_handler` makes it from a contract and a core); it raises InvalidRequestError for
what it refuses. A core that streams also answers `{..., "stream": true}` with its pieces,
`{"chunk": "...", "attempt": 0}`, on the reply address, before the answer. Status and
answers are signed with the mesh's key (`mesh_key`) and name the instance, so the router
can tell them from a forgery.
A message that cannot be handled costs that message: it is answered with an error where
it has a reply address under the mesh's reply topics, else counted and dropped.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog

from slm_mesh.services.contracts.info import ServiceInfo
from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.kit.contract import Contract, Piece
from slm_mesh.services.kit.service import Core, StreamingCore
from slm_mesh.services.runtime.json_payload import MAX_PAYLOAD_BYTES
from slm_mesh.services.runtime.mesh_key import MeshKey
from slm_mesh.services.runtime.mqtt import Message, MqttClient, Will
from slm_mesh.services.runtime.mqtt_rpc import (
    ReplyTopics,
    parse_payload,
    reply_address,
    send_reply,
)
from slm_mesh.services.runtime.mqtt_settings import (
    instance_id,
    mesh_key,
    mqtt_client,
    reply_topics,
)
from slm_mesh.services.runtime.mqtt_settings import topics as mqtt_topics
from slm_mesh.services.runtime.supervise import supervised
from slm_mesh.services.runtime.topics import Topics, matches, shared
from slm_mesh.services.settings import Settings
from slm_mesh.services.wire_errors import error_json, error_json_for

log = structlog.get_logger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
StreamHandler = Callable[[dict[str, Any]], AsyncIterator[dict[str, Any]]]
"""Pieces of the answer (`{"chunk", "attempt"}`), then the answer, last."""
Req = TypeVar("Req")
Ans = TypeVar("Ans")


async def serve_messages(
    client: MqttClient,
    *,
    is_request: Callable[[Message], bool],
    answer: Callable[[Message], Coroutine[Any, Any, None]],
    max_in_flight: int,
    take: Callable[[Message], None] | None = None,
) -> None:
    """The loop every MQTT face runs (a service's, the router's): each request answered in a
    task of its own, at most `max_in_flight` at once (the next waits in the broker, not in
    memory); any other message handed to `take`, on the loop, quickly. `answer` and `take`
    catch what their one message raises; this loop only reads."""
    slots = asyncio.Semaphore(max_in_flight)
    tasks: set[asyncio.Task[None]] = set()

    def finished(task: asyncio.Task[None]) -> None:
        tasks.discard(task)
        slots.release()

    async for message in client.messages():
        if is_request(message):
            await slots.acquire()
            task = asyncio.create_task(answer(message))
            tasks.add(task)
            task.add_done_callback(finished)
        elif take is not None:
            take(message)


def json_handler(contract: Contract[Req, Ans], core: Core[Req, Ans]) -> Handler:
    """A core behind the contract's JSON envelope (one request, or `{"requests": [...]}`)."""

    async def handle(body: dict[str, Any]) -> dict[str, Any]:
        requests, batch = contract.requests_from_envelope(body)
        answers = await core.handle(requests)
        return contract.answers_to_envelope(answers, batch=batch)

    return handle


def json_stream_handler(
    contract: Contract[Req, Ans], core: StreamingCore[Req, Ans]
) -> StreamHandler:
    """A streaming core behind the JSON envelope of one request."""

    async def stream(body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        request = contract.request_from_json(body, "request")
        async for part in core.stream(request):
            if isinstance(part, Piece):
                yield {"chunk": part.text, "attempt": part.attempt}
            else:
                yield contract.answer_to_json(part)

    return stream


@dataclass
class EdgeCounts:
    """What an MQTT face (a service's, the router's) did with the messages it took."""

    received: int = 0
    answered: int = 0
    errors: int = 0
    """Requests answered with an error (refused, or failed)."""
    dropped: int = 0
    """Requests that could not be answered and had nowhere to be told so, or whose reply
    topic lies outside the mesh's reply topics."""
    duplicates: int = 0
    failed: int = 0
    """Messages whose handling met a bug (logged with its traceback)."""
    expired: int = 0
    """Requests whose deadline (MQTT 5 expiry) passed before they were answered."""


def status_body(key: MeshKey, topic: str, body: dict[str, Any]) -> str:
    """A status message, signed for its topic."""
    return key.seal(json.dumps(body, ensure_ascii=False), context=topic.encode())


def status_will(topics: Topics, service: str, instance: str, *, key: MeshKey) -> Will:
    topic = topics.status(service, instance)
    body = {"state": "offline", "service": service, "instance": instance}
    return Will(topic=topic, payload=status_body(key, topic, body).encode())


async def announce(
    client: MqttClient,
    topics: Topics,
    *,
    service: str,
    instance: str,
    state: str,
    key: MeshKey,
    info: dict[str, Any] | None = None,
) -> None:
    """The instance's retained status: what `slm-mesh/status/#` shows and routers count."""
    topic = topics.status(service, instance)
    body = {
        "state": state,
        "service": service,
        "instance": instance,
        "since": round(time.time(), 3),
        **(info or {}),
    }
    await client.publish(topic, status_body(key, topic, body), retain=True)


@dataclass
class MqttServiceEdge:
    client: MqttClient
    topics: Topics
    service: str
    instance: str
    handle: Handler
    key: MeshKey
    reply_topics: ReplyTopics
    info: dict[str, Any] = field(default_factory=dict)
    shared_subscriptions: bool = True
    max_in_flight: int = 64
    max_payload_bytes: int = MAX_PAYLOAD_BYTES
    stream: StreamHandler | None = None
    counts: EdgeCounts = field(default_factory=EdgeCounts)

    @property
    def request_filter(self) -> str:
        return shared(
            self.service, self.topics.request(self.service), enabled=self.shared_subscriptions
        )

    async def start(self) -> None:
        await self.client.subscribe(self.request_filter)
        await self.announce("online")

    async def announce(self, state: str) -> None:
        await announce(
            self.client,
            self.topics,
            service=self.service,
            instance=self.instance,
            state=state,
            key=self.key,
            info=self.info,
        )

    def handles(self, message: Message) -> bool:
        return matches(message.topic, self.request_filter)

    async def serve(self) -> None:
        """Answer requests until cancelled; at most `max_in_flight` at once."""
        await serve_messages(
            self.client,
            is_request=self.handles,
            answer=self.answer,
            max_in_flight=self.max_in_flight,
        )

    async def answer(self, message: Message) -> None:
        """One request, whatever it holds: an answer, an error, or a counted drop."""
        try:
            await self._answer(message)
        except Exception:
            self.counts.failed += 1
            log.exception("request dropped: it could not be answered", service=self.service)

    async def _answer(self, message: Message) -> None:
        if message.retain:  # replayed by the broker at subscribe: not a live request
            self.counts.dropped += 1
            log.warning("retained request ignored", topic=message.topic)
            return
        try:
            body = parse_payload(message, max_bytes=self.max_payload_bytes)
        except InvalidRequestError as err:
            await self._refuse(message, None, str(err))
            return
        address = reply_address(message, body)
        if address is not None and not self.reply_topics.allows(address.topic):
            self.counts.dropped += 1
            log.warning("request dropped: reply topic not allowed", reply_topic=address.topic)
            return
        remaining = _time_left(message)
        try:
            if remaining is not None and remaining <= 0:
                raise TimeoutError
            async with asyncio.timeout(remaining):
                if body.get("stream") is True and self.stream is not None:
                    answer = await self._stream_answer(message, body, self.stream)
                else:
                    answer = await self.handle(body)
        except InvalidRequestError as err:
            await self._refuse(message, body, str(err))
            return
        except TimeoutError:
            self.counts.expired += 1
            await self._reply(message, body, error_json("deadline_exceeded", "request expired"))
            return
        except Exception as err:
            self.counts.failed += 1
            log.exception("request failed", service=self.service)
            await self._reply(message, body, error_json_for(err))
            return
        self.counts.answered += 1
        await self._reply(message, body, answer)
        await self.client.publish(
            self.topics.service_results(self.service), json.dumps(answer, ensure_ascii=False)
        )

    async def _stream_answer(
        self, message: Message, body: dict[str, Any], stream: StreamHandler
    ) -> dict[str, Any]:
        """Send each piece to the requester as it comes; the last part is the answer."""
        answer: dict[str, Any] | None = None
        async for part in stream(body):
            if answer is not None:
                await self._reply(message, body, answer)
            answer = part
        if answer is None or "chunk" in answer:
            raise RuntimeError("the stream ended without an answer")
        return answer

    async def _refuse(self, message: Message, body: dict[str, Any] | None, why: str) -> None:
        self.counts.errors += 1
        if not await self._reply(message, body, error_json("invalid_request", why)):
            self.counts.dropped += 1
            log.warning("bad request dropped: no reply address", topic=message.topic, why=why)

    async def _reply(
        self, message: Message, body: dict[str, Any] | None, answer: dict[str, Any]
    ) -> bool:
        address = reply_address(message, body)
        if address is None or not self.reply_topics.allows(address.topic):
            return False
        signed = {**answer, "instance": self.instance}
        await send_reply(self.client, address, signed, key=self.key)
        return True


def _time_left(message: Message) -> float | None:
    """Seconds left of the request's MQTT 5 expiry, counted from when it arrived."""
    if message.expiry_s is None:
        return None
    return message.received_at + message.expiry_s - time.monotonic()


@asynccontextmanager
async def on_mqtt(
    settings: Settings,
    *,
    service: str,
    handle: Handler,
    info: ServiceInfo,
    max_in_flight: int,
    max_payload_bytes: int = MAX_PAYLOAD_BYTES,
    stream: StreamHandler | None = None,
) -> AsyncIterator[MqttServiceEdge]:
    """A service on the mesh: a replica in the service's shared group, logged in as the
    service's role, announced by a retained status and a last will. If serving dies, the
    context ends with its error (`supervise`)."""
    instance = instance_id(service)
    topics = mqtt_topics(settings)
    key = mesh_key(settings)
    will = status_will(topics, service, instance, key=key)
    async with mqtt_client(settings, client_id=instance, role=service, will=will) as client:
        edge = MqttServiceEdge(
            client=client,
            topics=topics,
            service=service,
            instance=instance,
            handle=handle,
            key=key,
            reply_topics=reply_topics(settings),
            info=info.as_json(),
            shared_subscriptions=settings.mqtt.shared_subscriptions,
            max_in_flight=max_in_flight,
            max_payload_bytes=max_payload_bytes,
            stream=stream,
        )
        await edge.start()
        async with asyncio.TaskGroup() as group:
            serving = group.create_task(supervised(edge.serve(), f"{service}: mqtt"))
            log.info("serving", service=service, mqtt=str(client.broker), instance=instance)
            try:
                yield edge
            finally:
                serving.cancel()
                await edge.announce("offline")
