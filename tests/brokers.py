"""Real brokers and a real mesh for the MQTT tests.

A test gets a Mosquitto container (testcontainers) where a Docker engine answers, and a
local Mosquitto process otherwise; it is skipped only when neither exists. Tests that
restart the broker always use the local process, which keeps its port and persistence
file across `restart()`.

`MeshThread` serves a mesh (an intent replica and the router) on its own event loop, so
many tests, each with its own `asyncio.run`, share one mesh and read its edges' counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import subprocess
import sys
import threading
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from slm_mesh.services.intent.service import SERVICE as INTENT
from slm_mesh.services.kit.host import hosting
from slm_mesh.services.kit.mqtt_face import MqttServiceEdge
from slm_mesh.services.router.app import running_router
from slm_mesh.services.router.mqtt_edge import RouterEdge
from slm_mesh.services.runtime.broker import EmbeddedBroker, find_mosquitto
from slm_mesh.services.runtime.mqtt import MqttClient
from slm_mesh.services.settings import Settings

SLM_MESH = [sys.executable, "-m", "slm_mesh.services.cli"]
"""The command line, run as a subprocess the way a deployment runs it."""

_CONTAINER_CONFIG = """\
listener 1883
allow_anonymous true
persistence true
persistence_location /data/
"""


@dataclass(frozen=True)
class RunningBroker:
    url: str
    """mqtt://host:port"""
    kind: str
    """"container" or "local"."""


def docker_reachable() -> bool:
    """Whether a Docker engine answers. docker-py leaks a socket when none does, so it is
    asked only where one may be."""
    if not os.environ.get("DOCKER_HOST") and not Path("/var/run/docker.sock").exists():
        return False
    import docker

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            client = docker.from_env(timeout=3)
        except docker.errors.DockerException:
            gc.collect()
            return False
        try:
            return bool(client.ping())
        except (docker.errors.DockerException, OSError):
            return False
        finally:
            client.close()
            gc.collect()


def broker_url(broker: EmbeddedBroker) -> str:
    return f"mqtt://{broker.url.host}:{broker.port}"


@contextlib.contextmanager
def local_broker(data_dir: Path) -> Iterator[EmbeddedBroker]:
    """A Mosquitto process on a free port, persisting its sessions under `data_dir`."""
    if find_mosquitto() is None:
        pytest.skip("no mosquitto binary; install it (apt install mosquitto)")
    broker = EmbeddedBroker(kind="mosquitto", port=0, data_dir=data_dir)
    asyncio.run(broker.start())
    try:
        yield broker
    finally:
        asyncio.run(broker.stop())


@contextlib.contextmanager
def mosquitto_container(data_dir: Path) -> Iterator[RunningBroker]:
    from testcontainers.community.mqtt import MosquittoContainer

    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "mosquitto.conf"
    config.write_text(_CONTAINER_CONFIG)
    container = MosquittoContainer()
    container.start(configfile=str(config))
    try:
        host = container.get_container_host_ip()
        port = container.get_exposed_port(MosquittoContainer.MQTT_PORT)
        yield RunningBroker(url=f"mqtt://{host}:{port}", kind="container")
    finally:
        container.stop()


@contextlib.contextmanager
def any_broker(data_dir: Path) -> Iterator[RunningBroker]:
    """A container where Docker runs, else a local Mosquitto; skips if neither exists."""
    if docker_reachable():
        with mosquitto_container(data_dir) as running:
            yield running
        return
    if find_mosquitto() is None:
        pytest.skip("neither a Docker engine nor a mosquitto binary (apt install mosquitto)")
    with local_broker(data_dir) as broker:
        yield RunningBroker(url=broker_url(broker), kind="local")


class MeshThread:
    """An intent replica and the router on `settings.mqtt.url`, served in a thread."""

    def __init__(self, *, settings: Settings) -> None:
        if not settings.mqtt.url:
            raise ValueError("MeshThread needs settings.mqtt.url")
        self.settings = settings
        self.router: RouterEdge | None = None
        self.intent: MqttServiceEdge | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="mesh", daemon=True)

    def __enter__(self) -> MeshThread:
        self._thread.start()
        if not self._ready.wait(60) or self._error is not None:
            self.__exit__(None, None, None)
            raise RuntimeError(f"the mesh did not start: {self._error!r}")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as err:  # handed to the test thread, which raises it
            self._error = err
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with (
            hosting(self.settings.updated(port=0), [INTENT]) as hosted,
            running_router(self.settings) as router,
        ):
            self.intent, self.router = hosted.on_mqtt["intent"], router
            while not router.directory.online("intent"):
                await asyncio.sleep(0.01)
            self._ready.set()
            await self._stop.wait()


class Device:
    """A device at the raw message level: it publishes requests with a reply address
    (MQTT 5 properties) and keeps every reply it gets, per correlation, so a lost or a
    doubled answer shows.

    With `retry_after_s`, a request without a reply is published again, unchanged, every
    so often until its deadline, as `MeshClient` does.
    """

    def __init__(
        self,
        *,
        client: MqttClient,
        reply_topic: str,
        retry_after_s: float | None = None,
        deadline_s: float = 10.0,
    ) -> None:
        self.client = client
        self.reply_topic = reply_topic
        self.retry_after_s = retry_after_s
        self.deadline_s = deadline_s
        self.resent = 0
        self._retries: set[asyncio.Task[None]] = set()
        self.sent: dict[bytes, float] = {}
        self.replies: dict[bytes, list[tuple[float, dict[str, Any]]]] = {}
        self.unreadable = 0
        self._pump: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def __aenter__(self) -> Device:
        await self.client.subscribe(self.reply_topic)
        self._pump = asyncio.create_task(self._receive())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for task in [*self._retries, *([self._pump] if self._pump else [])]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def send(
        self, topic: str, payload: dict[str, Any] | bytes, *, reply: bool = True
    ) -> bytes:
        """Publish one request; its correlation, the key of its replies."""
        correlation = uuid.uuid4().hex.encode()
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        await self.client.publish(
            topic,
            data,
            response_topic=self.reply_topic if reply else None,
            correlation=correlation if reply else None,
        )
        if reply:
            self.sent[correlation] = asyncio.get_running_loop().time()
            if self.retry_after_s is not None:
                task = asyncio.create_task(self._retry(topic, data, correlation))
                self._retries.add(task)
                task.add_done_callback(self._retries.discard)
        return correlation

    async def _retry(self, topic: str, data: bytes, correlation: bytes) -> None:
        assert self.retry_after_s is not None
        loop = asyncio.get_running_loop()
        until = self.sent[correlation] + self.deadline_s
        while loop.time() + self.retry_after_s < until:
            await asyncio.sleep(self.retry_after_s)
            if correlation in self.replies:
                return
            self.resent += 1
            await self.client.publish(
                topic, data, response_topic=self.reply_topic, correlation=correlation
            )

    async def wait_for_replies(self, timeout_s: float) -> None:
        """Until every request sent has a reply, or `timeout_s` passed."""
        loop = asyncio.get_running_loop()
        until = loop.time() + timeout_s
        while not self.sent.keys() <= self.replies.keys() and loop.time() < until:
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), until - loop.time())

    def answers(self, correlation: bytes) -> list[dict[str, Any]]:
        return [body for _, body in self.replies.get(correlation, [])]

    def tally(self, *, deadline_s: float) -> Tally:
        late = 0
        for correlation, sent_at in self.sent.items():
            first = self.replies.get(correlation)
            if first and first[0][0] - sent_at > deadline_s:
                late += 1
        bodies = [replies[0][1] for replies in self.replies.values()]
        return Tally(
            sent=len(self.sent),
            answered=sum(1 for body in bodies if not body.get("error")),
            errors=sum(1 for body in bodies if body.get("error")),
            lost=len(self.sent.keys() - self.replies.keys()),
            doubled=sum(1 for replies in self.replies.values() if len(replies) > 1),
            late=late,
            stray=len(self.replies.keys() - self.sent.keys()),
        )

    async def _receive(self) -> None:
        loop = asyncio.get_running_loop()
        async for message in self.client.messages():
            if message.topic != self.reply_topic:
                continue
            try:
                body = json.loads(message.payload)
            except ValueError:
                self.unreadable += 1
                continue
            key = message.correlation or b""
            self.replies.setdefault(key, []).append((loop.time(), body))
            self._changed.set()


@dataclass(frozen=True)
class Tally:
    sent: int
    answered: int
    errors: int
    lost: int
    doubled: int
    late: int
    stray: int
    """Replies to nothing this device sent."""

    def __str__(self) -> str:
        return (
            f"sent={self.sent} answered={self.answered} errors={self.errors} "
            f"lost={self.lost} doubled={self.doubled} late={self.late} stray={self.stray}"
        )


@contextlib.contextmanager
def intent_replicas(
    settings: Settings, *, count: int, log_dir: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`slm-mesh serve intent` processes on `settings.mqtt.url`, under its topic prefix;
    their logs go to `log_dir`. Stopped (SIGTERM) at exit if still running."""
    command = [*SLM_MESH, "--log-level", "warning", "serve", "intent", "--port", "0"]
    command += ["--mqtt", settings.mqtt.url or "", "--cache-dir", str(settings.cache_dir)]
    env = {**os.environ, "SLM_MESH_MQTT_PREFIX": settings.mqtt.prefix}
    with contextlib.ExitStack() as stack:
        processes = []
        for n in range(count):
            log = stack.enter_context((log_dir / f"intent-{n}.log").open("wb"))
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
            stack.callback(_stop_process, process)
            processes.append(process)
        yield processes


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
