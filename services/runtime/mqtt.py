"""The one MQTT client every service uses: paho-mqtt 2.x behind an async face.

It reads like aiomqtt (`async with MqttClient(...) as client`, `async for message in
client.messages()`), and adds what a long-running edge service needs from paho itself:
reconnect with backoff, subscriptions restored after a broker restart, QoS 1 publishes
queued while the broker is away and sent on reconnect, a last will, TLS and credentials.

paho's network I/O runs on the asyncio loop itself (paho's "external event loop" mode, as
in its own asyncio example): the socket is watched with `add_reader`/`add_writer`, so a
message is read, handled and answered on one thread, with no hand-over to a network
thread and back on every hop. Only connecting, which blocks, runs in a worker thread.

MQTT 5 carries Response Topic and Correlation Data as properties. Brokers and devices that
speak only 3.1.1 (amqtt, small microcontroller clients) carry them in the JSON payload
instead; see `mqtt_rpc`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
import structlog
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from slm_mesh.services.errors import SlmMeshError

log = structlog.get_logger(__name__)

Protocol = Literal["5", "3.1.1"]
_DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


def _no_delay(client: paho.Client, userdata: Any, sock: Any) -> None:
    """Small request/reply messages must not wait for Nagle's algorithm (about 40 ms a hop)."""
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class BrokerError(SlmMeshError):
    """The broker cannot be reached or refused us; the message says which and why."""

    code = "unavailable"


@dataclass(frozen=True)
class BrokerUrl:
    """Where the broker is: `mqtt://[user[:password]@]host[:port]` or `mqtts://…` (TLS)."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"broker URL {url!r}: expected mqtt://HOST[:PORT] or mqtts://HOST")
        return cls(
            host=parts.hostname,
            port=parts.port or _DEFAULT_PORTS[parts.scheme],
            tls=parts.scheme == "mqtts",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def __str__(self) -> str:
        """The URL without its password, safe to log."""
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


@dataclass(frozen=True)
class Message:
    """A received message, with the MQTT 5 properties a service answers by."""

    topic: str
    payload: bytes
    retain: bool = False
    response_topic: str | None = None
    correlation: bytes | None = None
    expiry_s: int | None = None
    """What was left of its MQTT 5 message expiry when the broker sent it."""
    received_at: float = field(default_factory=time.monotonic)
    """When it was read off the socket (`time.monotonic`), before it waited in our queue."""


@dataclass(frozen=True)
class Will:
    """Published by the broker for us if we vanish: a retained "offline" status."""

    topic: str
    payload: bytes
    retain: bool = True
    qos: int = 1


#: Messages waiting to be handled at which reading the socket pauses, and resumes.
QUEUE_PAUSE_AT = 2000
QUEUE_RESUME_AT = 500
#: Reconnect delays: the first, and the cap of its doubling.
RECONNECT_MIN_S = 0.25
RECONNECT_MAX_S = 10.0


class MqttClient:
    """An MQTT connection that survives broker restarts.

    `persistent_session_s > 0` keeps the broker's session (subscriptions, queued QoS 1
    messages) across our reconnects and broker restarts for that long: requesters use it.
    Such a session never starts clean (Mosquitto saves only sessions whose last connect had
    Clean Start = 0), so its client id must be unique to the process. Workers in a shared
    subscription start clean every time, so a dead member does not hoard requests.
    """

    def __init__(
        self,
        *,
        broker: BrokerUrl,
        client_id: str,
        protocol: Protocol = "5",
        persistent_session_s: int = 0,
        will: Will | None = None,
        tls_ca_file: str | None = None,
        keepalive_s: int = 15,
        connect_timeout_s: float = 10.0,
    ) -> None:
        if persistent_session_s < 0:
            raise ValueError("persistent_session_s must be 0 (clean sessions) or more")
        self.broker = broker
        self.client_id = client_id
        self.protocol = protocol
        self.persistent_session_s = persistent_session_s
        self._connect_timeout_s = connect_timeout_s
        self._keepalive_s = keepalive_s
        self._subscriptions: dict[str, int] = {}
        self._will = will
        self._presence: bytes | None = None
        self._queue: asyncio.Queue[Message] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._connected = asyncio.Event()
        self._first_connect: asyncio.Future[None] | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._closing = False
        self._last_error = "no answer"
        self.reconnects = 0
        self.unreadable = 0
        """Messages dropped before anyone saw them (a topic that is not UTF-8, ...)."""
        self.pauses = 0
        """Times reading stopped because too many messages waited to be handled."""
        self._paused_fd: int | None = None
        self._paho = self._build(will, tls_ca_file)

    def _build(self, will: Will | None, tls_ca_file: str | None) -> paho.Client:
        v5 = self.protocol == "5"
        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
            clean_session=None if v5 else not self.persistent_session_s,
        )
        client.max_queued_messages_set(10_000)
        client.max_inflight_messages_set(100)
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            context = ssl.create_default_context(cafile=tls_ca_file)
            client.tls_set_context(context)
        if will is not None:
            client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)
        client.on_socket_open = self._on_socket_open
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = self._on_socket_register_write
        client.on_socket_unregister_write = self._on_socket_unregister_write
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    async def __aenter__(self) -> MqttClient:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._first_connect = self._loop.create_future()
        properties = None
        # 3.1.1 takes its clean-session flag in the constructor; MQTT 5 takes it here.
        clean_start = not self.persistent_session_s
        if self.protocol == "5":
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = self.persistent_session_s
        try:
            self._paho.connect_async(
                self.broker.host,
                self.broker.port,
                keepalive=self._keepalive_s,
                clean_start=clean_start,
                properties=properties,
            )
        except ValueError as err:
            raise BrokerError(f"cannot connect to {self.broker}: {err}") from err
        self._housekeeping = self._loop.create_task(self._keep_alive())
        self._reconnecting = self._loop.create_task(self._reconnect())
        try:
            await asyncio.wait_for(self._first_connect, self._connect_timeout_s)
        except TimeoutError:
            await self._stop()
            raise BrokerError(
                f"could not connect to the MQTT broker at {self.broker} within "
                f"{self._connect_timeout_s:g} s ({self._last_error}); is it running? "
                "(`slm-mesh up` starts one)"
            ) from None
        except BrokerError:
            await self._stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stop()

    async def _stop(self) -> None:
        """Say goodbye (no last will), wait briefly for it to leave, then drop the socket."""
        self._closing = True
        for task in (self._reconnecting, self._housekeeping):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._paho.disconnect()
        for _ in range(20):  # the DISCONNECT packet goes out on the next loop turns
            if self._paho.socket() is None:
                break
            await asyncio.sleep(0.01)
        if self._paho.socket() is not None:
            self._paho.loop_read()  # reads the close, or finds the socket gone
        self._connected.clear()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self) -> None:
        await self._connected.wait()

    async def subscribe(self, topic_filter: str, *, qos: int = 1) -> None:
        """Subscribe now, and again after every reconnect."""
        self._subscriptions[topic_filter] = qos
        if self._connected.is_set():
            self._paho.subscribe(topic_filter, qos=qos)

    async def publish(
        self,
        topic: str,
        payload: bytes | str,
        *,
        qos: int = 1,
        retain: bool = False,
        response_topic: str | None = None,
        correlation: bytes | None = None,
        expiry_s: int | None = None,
    ) -> None:
        """Queue a message; QoS 1 messages wait in paho's queue while the broker is away."""
        properties = None
        if self.protocol == "5" and (response_topic or correlation or expiry_s):
            properties = Properties(PacketTypes.PUBLISH)
            if response_topic:
                properties.ResponseTopic = response_topic
            if correlation:
                properties.CorrelationData = correlation
            if expiry_s:
                properties.MessageExpiryInterval = expiry_s
        if self._will is not None and retain and topic == self._will.topic:
            self._presence = payload.encode() if isinstance(payload, str) else payload
        try:
            info = self._paho.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        except ValueError as err:  # a wildcard or an empty topic, a payload over 256 MB
            raise BrokerError(f"cannot publish to {topic!r}: {err}") from None
        if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            raise BrokerError(f"cannot publish to {topic}: {paho.error_string(info.rc)}")

    async def messages(self) -> AsyncIterator[Message]:
        while True:
            yield await self.receive()

    async def receive(self, timeout_s: float | None = None) -> Message:
        """The next message; TimeoutError after `timeout_s`, and the message stays queued
        (a timeout around `anext(messages())` would close that generator instead)."""
        async with asyncio.timeout(timeout_s):
            message = await self._queue.get()
        if self._paused_fd is not None and self._queue.qsize() <= QUEUE_RESUME_AT:
            self._resume_reading()
        return message

    def _pause_reading(self) -> None:
        """Leave messages with the broker while `QUEUE_PAUSE_AT` wait here unhandled: a
        flood then costs the broker's queue (bounded), not this process's memory."""
        sock = self._paho.socket()
        if self._loop is None or self._paused_fd is not None or not isinstance(sock, socket.socket):
            return
        self._paused_fd = sock.fileno()
        self._loop.remove_reader(self._paused_fd)
        self.pauses += 1
        log.warning("mqtt reading paused: messages arrive faster than they are handled",
                    waiting=self._queue.qsize())  # fmt: skip

    def _resume_reading(self) -> None:
        fd, self._paused_fd = self._paused_fd, None
        sock = self._paho.socket()
        if self._loop is not None and isinstance(sock, socket.socket) and sock.fileno() == fd:
            self._loop.add_reader(fd, self._read)
            self._read()  # what came while we were not looking

    async def _reconnect(self) -> None:
        """Connect (and after a loss, connect again) with a doubling delay between tries."""
        assert self._loop is not None
        delay = RECONNECT_MIN_S
        while not self._closing:
            try:
                await self._loop.run_in_executor(None, self._paho.reconnect)
            except (OSError, ssl.SSLError) as err:
                self._call_soon(self._connect_attempt_failed, str(err))
            except Exception as err:  # paho's own trouble must not end the retries
                log.exception("mqtt connect attempt failed", broker=str(self.broker))
                self._call_soon(self._connect_attempt_failed, f"{type(err).__name__}: {err}")
            else:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_S)

    def _connect_attempt_failed(self, why: str) -> None:
        self._last_error = why
        log.debug("mqtt connect failed", broker=str(self.broker), why=why)

    async def _keep_alive(self) -> None:
        """paho's timers (pings, keepalive timeouts, retries) want a call every second."""
        while True:
            await asyncio.sleep(1.0)
            try:
                self._paho.loop_misc()
            except Exception:  # one bad turn must not stop the pings for good
                log.exception("mqtt housekeeping failed", broker=str(self.broker))

    # paho calls these from the event loop (while reading or writing), or from the
    # connecting worker thread (socket open and close); `_call_soon` handles both.

    def _on_socket_open(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        _no_delay(client, userdata, sock)
        self._call_soon(self._watch, sock.fileno())

    def _watch(self, fd: int) -> None:
        assert self._loop is not None
        self._loop.add_reader(fd, self._read)
        if self._closing:  # a connect that was under way when we were told to stop
            self._paho.disconnect()

    def _read(self) -> None:
        self._paho.loop_read()
        # TLS may hold decrypted bytes the socket no longer signals: read those too.
        sock = self._paho.socket()
        while isinstance(sock, ssl.SSLSocket) and sock.pending():
            self._paho.loop_read()
            sock = self._paho.socket()

    def _on_socket_close(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        fd = sock.fileno()
        if fd == self._paused_fd:
            self._paused_fd = None  # the next connection is watched from the start
        if fd >= 0 and self._loop is not None and not self._loop.is_closed():
            self._call_soon(self._loop.remove_reader, fd)

    def _on_socket_register_write(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._call_soon(self._loop.add_writer, sock.fileno(), self._paho.loop_write)

    def _on_socket_unregister_write(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        fd = sock.fileno()
        if fd >= 0 and self._loop is not None and not self._loop.is_closed():
            self._call_soon(self._loop.remove_writer, fd)

    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            self._connect_failed(str(reason))
            return
        subscriptions = list(self._subscriptions.items())
        presence = self._presence
        if subscriptions:
            # Even into a resumed session: Mosquitto 2.0 restores a session after its own
            # restart without its shared subscriptions. Subscribing again is idempotent.
            client.subscribe(subscriptions)
        if presence is not None and self._will is not None:
            # The broker may have published our will while we were away (Mosquitto does
            # when it shuts down): say again what we last said on that topic.
            client.publish(self._will.topic, presence, qos=self._will.qos, retain=True)
        self._connect_succeeded()

    def _connect_succeeded(self) -> None:
        if self._first_connect is not None and not self._first_connect.done():
            self._first_connect.set_result(None)
            log.info("mqtt connected", broker=str(self.broker), client_id=self.client_id)
        else:
            self.reconnects += 1
            log.info("mqtt reconnected", broker=str(self.broker), client_id=self.client_id)
        self._connected.set()

    def _connect_failed(self, reason: str) -> None:
        error = BrokerError(f"the broker at {self.broker} refused us: {reason}")
        if self._first_connect is not None and not self._first_connect.done():
            self._first_connect.set_exception(error)
        else:
            log.error("mqtt connection refused", broker=str(self.broker), reason=reason)

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._call_soon(self._lost, str(reason) if reason.is_failure else None)

    def _lost(self, reason: str | None) -> None:
        self._connected.clear()
        if self._closing or self._loop is None:
            return  # our own goodbye; paho may still call it a failure ("Unspecified error")
        if reason is not None:
            log.warning("mqtt disconnected", broker=str(self.broker), reason=reason)
        if self._reconnecting is None or self._reconnecting.done():
            self._reconnecting = self._loop.create_task(self._reconnect())

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            received = self._received(message)
        except Exception as err:  # a topic that is not UTF-8, odd properties: drop that one
            self.unreadable += 1
            log.warning("unreadable mqtt message dropped", why=f"{type(err).__name__}: {err}")
            return
        self._queue.put_nowait(received)
        if self._queue.qsize() >= QUEUE_PAUSE_AT:
            self._pause_reading()

    @staticmethod
    def _received(message: paho.MQTTMessage) -> Message:
        properties = getattr(message, "properties", None)
        response_topic = getattr(properties, "ResponseTopic", None)
        correlation = getattr(properties, "CorrelationData", None)
        expiry = getattr(properties, "MessageExpiryInterval", None)
        return Message(
            topic=message.topic,
            payload=bytes(message.payload),
            retain=bool(message.retain),
            response_topic=response_topic or None,
            correlation=bytes(correlation) if correlation else None,
            expiry_s=int(expiry) if expiry else None,
        )

    def _call_soon(self, callback: Any, *args: Any) -> None:
        """Run now on the loop's thread; from the connecting thread, hand it to the loop."""
        if threading.get_ident() == self._loop_thread:
            callback(*args)
        elif self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(callback, *args)
