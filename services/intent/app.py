"""Wiring: from settings to a ready intent recognizer, and to a serving gRPC service.

`__main__`-style code only: parse nothing, decide nothing; build the pieces, preload the
model, log "ready", serve (as wyoming's services do).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from importlib import metadata, resources
from pathlib import Path

import structlog
from threadpoolctl import threadpool_limits

from slm_mesh.services.intent.grpc_service import IntentServicer
from slm_mesh.services.intent.home import Home, load_home
from slm_mesh.services.intent.home_from_mqtt import discovered_home, follow_discovery
from slm_mesh.services.intent.mqtt_edge import intent_handler
from slm_mesh.services.intent.recognizer import IntentRecognizer
from slm_mesh.services.intent.service import IntentService
from slm_mesh.services.intent.templates import TemplateMatcher
from slm_mesh.services.intent.training import load_or_train
from slm_mesh.services.runtime.grpc_server import GrpcServer
from slm_mesh.services.runtime.mqtt_service import MqttServiceEdge, status_will
from slm_mesh.services.runtime.mqtt_settings import (
    instance_id,
    mesh_key,
    mqtt_client,
    reply_topics,
)
from slm_mesh.services.runtime.mqtt_settings import topics as mqtt_topics
from slm_mesh.services.runtime.onnx_session import Embedder, cpu_int8_support
from slm_mesh.services.runtime.plugins import load_plugin
from slm_mesh.services.runtime.supervise import supervised
from slm_mesh.services.settings import Settings

log = structlog.get_logger(__name__)


def demo_home_path() -> Path:
    return Path(str(resources.files("slm_mesh.services.intent").joinpath("data", "demo_home.yaml")))


def load_settings_home(settings: Settings) -> Home:
    return load_home(settings.home or demo_home_path())


@dataclass(frozen=True)
class ModelInfo:
    """What `Describe` reports about the loaded model."""

    name: str
    task: str
    sha256: str
    precision: str
    attribution: str


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    version: str
    models: tuple[ModelInfo, ...]


def build_recognizer(
    settings: Settings, *, home: Home | None = None
) -> tuple[IntentRecognizer, Embedder]:
    """Load the plugin's model, the home and the trained head (cached, or trained now)."""
    started = time.perf_counter()
    home = home or load_settings_home(settings)
    plugin = load_plugin(settings.plugin)
    embedder = Embedder(
        plugin=plugin,
        intra_op_threads=settings.intra_op_threads,
        cache_dir=settings.cache_dir,
        precision=settings.precision,
    )
    heads = load_or_train(
        home,
        embed=embedder.embed,
        model_sha256=f"{plugin.model_sha256 or plugin.name}:{embedder.precision}",
        cache_dir=settings.cache_dir,
    )
    templates = TemplateMatcher(home=home, language=home.language)
    templates.prepare()
    # Training is done; from here on numpy's products are the heads' small ones, and
    # OpenBLAS's helper threads would spin after each, taking the core the model needs.
    threadpool_limits(1, user_api="blas")
    recognizer = IntentRecognizer(
        home=home,
        embed=embedder.embed,
        heads=heads,
        templates=templates,
        min_confidence=settings.min_confidence,
        max_text_chars=settings.max_text_chars,
    )
    log.info(
        "intent recognizer ready",
        plugin=plugin.name,
        entities=len(home.entities),
        areas=len(home.areas),
        precision=embedder.precision,
        int8_dot_product=cpu_int8_support(),
        seconds=round(time.perf_counter() - started, 2),
    )
    return recognizer, embedder


def service_info(embedder: Embedder) -> ServiceInfo:
    plugin = embedder.plugin
    precision = f"{embedder.precision} (int8 dot-product instructions: {cpu_int8_support()})"
    return ServiceInfo(
        name="slm-mesh-intent",
        version=metadata.version("slm-mesh"),
        models=(
            ModelInfo(
                name=plugin.name,
                task=plugin.task,
                sha256=plugin.model_sha256 or "",
                precision=precision,
                attribution=plugin.attribution,
            ),
        ),
    )


@asynccontextmanager
async def mqtt_edge(
    settings: Settings, service: IntentService, info: ServiceInfo
) -> AsyncIterator[MqttServiceEdge]:
    """The intent service on the mesh: a replica in the shared `intent` group, announced by
    a retained status and a last will. If serving dies, the context ends with its error
    (`supervise`)."""
    instance = instance_id("intent")
    topics = mqtt_topics(settings)
    key = mesh_key(settings)
    will = status_will(topics, "intent", instance, key=key)
    async with mqtt_client(settings, client_id=instance, role="intent", will=will) as client:
        edge = MqttServiceEdge(
            client=client,
            topics=topics,
            service="intent",
            instance=instance,
            handle=intent_handler(service),
            key=key,
            reply_topics=reply_topics(settings),
            info={"version": info.version, "models": [asdict(m) for m in info.models]},
            shared_subscriptions=settings.mqtt_shared_subscriptions,
            max_in_flight=4 * settings.batch_max_size,
        )
        await edge.start()
        async with asyncio.TaskGroup() as group:
            serving = group.create_task(supervised(edge.serve(), "intent: mqtt"))
            log.info("serving", service="intent", mqtt=str(client.broker), instance=instance)
            try:
                yield edge
            finally:
                serving.cancel()
                await edge.announce("offline")


async def wait_for_stop_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


@asynccontextmanager
async def running_service(settings: Settings) -> AsyncIterator[tuple[IntentService, int]]:
    """The intent service serving over gRPC (and MQTT, when a broker is set); yields the
    service and its bound gRPC port once health reports SERVING."""
    base = home = load_settings_home(settings)
    discovery = settings.discovery and bool(settings.mqtt_url)
    if discovery:
        home = await discovered_home(settings, base)
    recognizer, embedder = await asyncio.to_thread(build_recognizer, settings, home=home)
    info = service_info(embedder)
    async with contextlib.AsyncExitStack() as stack:
        service = await stack.enter_async_context(
            IntentService(
                recognizer=recognizer,
                max_batch_size=settings.batch_max_size,
                max_wait_ms=settings.batch_max_wait_ms,
                max_batch_chars=settings.batch_max_chars,
                max_call_chars=settings.max_call_chars,
            )
        )
        servicer = IntentServicer(
            recognizer=service, info=info, max_text_chars=settings.max_text_chars
        )
        server = GrpcServer(register=servicer.register, host=settings.host, port=settings.port)
        port = await server.start()
        stack.push_async_callback(server.stop, 2.0)
        stack.push_async_callback(server.set_serving, False)
        if settings.mqtt_url:
            await stack.enter_async_context(mqtt_edge(settings, service, info))
        group = await stack.enter_async_context(asyncio.TaskGroup())
        watching = group.create_task(supervised(service.watch(), "intent: batcher"))
        stack.callback(watching.cancel)
        if discovery:
            following = group.create_task(
                supervised(follow_discovery(settings, base, service), "intent: discovery")
            )
            stack.callback(following.cancel)
        await server.set_serving(True)
        log.info("serving", service="intent", address=f"{settings.host}:{port}")
        yield service, port
    log.info("stopped", service="intent")


async def serve(settings: Settings, *, ready: asyncio.Future[int] | None = None) -> None:
    """Serve until SIGINT/SIGTERM or cancellation; `ready` gets the gRPC port."""
    async with running_service(settings) as (_, port):
        if ready is not None:
            ready.set_result(port)
        await wait_for_stop_signal()
