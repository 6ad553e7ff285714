"""The intent service, described for the kit: its contract, and how its core starts
(the home, discovery, the shared encoder, the trained heads, the batching service).

Wiring only: parse nothing, decide nothing; build the pieces, preload the model, log
"ready" (as wyoming's services do). The host gives it gRPC and MQTT.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Any

import structlog
from threadpoolctl import threadpool_limits

from slm_mesh.services.contracts.info import ServiceInfo
from slm_mesh.services.contracts.intent import CONTRACT, IntentRequest, IntentResult
from slm_mesh.services.home.files import load_settings_home
from slm_mesh.services.home.follow import follows_home
from slm_mesh.services.home.model import Home
from slm_mesh.services.intent.core import IntentService
from slm_mesh.services.intent.learned import learned_path, read_learned
from slm_mesh.services.intent.recognizer import IntentRecognizer
from slm_mesh.services.intent.templates import TemplateMatcher
from slm_mesh.services.intent.training import load_or_train
from slm_mesh.services.kit.service import Service, Started
from slm_mesh.services.kit.shared import Shared, encoder_info
from slm_mesh.services.runtime.onnx_session import Embedder, cpu_int8_support
from slm_mesh.services.runtime.supervise import supervised
from slm_mesh.services.settings import Settings

log = structlog.get_logger(__name__)


def build_recognizer(
    settings: Settings, *, home: Home | None = None, embedder: Embedder | None = None
) -> tuple[IntentRecognizer, Embedder]:
    """Load the home and the trained head (cached, or trained now, with the sentences it
    learned) over the plugin's encoder, `embedder` when the process already has it
    (`Shared`)."""
    started = time.perf_counter()
    home = home or load_settings_home(settings)
    embedder = embedder or Shared(settings).load_encoder(settings.plugin)
    plugin = embedder.plugin
    learned = read_learned(learned_path(settings.cache_dir))
    heads = load_or_train(
        home,
        embed=embedder.embed,
        model_sha256=f"{plugin.model_sha256 or plugin.name}:{embedder.precision}",
        cache_dir=settings.cache_dir,
        learned=learned,
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
        learned_sentences=len(learned),
        precision=embedder.precision,
        int8_dot_product=cpu_int8_support(),
        seconds=round(time.perf_counter() - started, 2),
    )
    return recognizer, embedder


def service_info(embedder: Embedder) -> ServiceInfo:
    return ServiceInfo(
        name="intent",
        version=metadata.version("slm-mesh"),
        models=(encoder_info(embedder, task="encoder, with the home's intent heads"),),
    )


@asynccontextmanager
async def start(settings: Settings, shared: Shared) -> AsyncIterator[Started[Any, Any]]:
    """The intent core, ready: the home (with what discovery adds, followed while it runs),
    the shared encoder, the heads (cached, or trained now) and the micro-batching service.
    A background task that dies ends the context with its error."""
    follower = None
    if follows_home(settings):
        follower = await shared.home_follower(role="intent")
    home = follower.home if follower is not None else load_settings_home(settings)
    embedder = await shared.encoder(settings.plugin)
    recognizer, _ = await asyncio.to_thread(
        build_recognizer, settings, home=home, embedder=embedder
    )
    service = IntentService(
        recognizer=recognizer,
        max_batch_size=settings.batch.max_size,
        max_wait_ms=settings.batch.max_wait_ms,
        max_batch_chars=settings.batch.max_chars,
        max_call_chars=settings.max_call_chars,
    )

    async def follow(home: Home) -> None:
        """A device paired later is understood by its name (templates and slots) at once;
        the heads are retrained for it at the next start."""
        try:
            service.use(await asyncio.to_thread(_for_home, service.recognizer, home))
        except Exception:
            log.exception("the intent service keeps its previous home")

    if follower is not None:
        follower.on_change(follow)
    async with service, asyncio.TaskGroup() as group:
        watching = group.create_task(supervised(service.watch(), "intent: batcher"))
        try:
            yield Started(core=service, info=service_info(embedder))
        finally:
            watching.cancel()


def _for_home(recognizer: IntentRecognizer, home: Home) -> IntentRecognizer:
    """The recognizer for a changed home: its templates compiled off the event loop."""
    templates = TemplateMatcher(home=home, language=home.language)
    templates.prepare()
    return recognizer.for_home(home, templates)


SERVICE: Service[IntentRequest, IntentResult] = Service(
    name="intent",
    summary="everyday commands in, Home Assistant intents with slots out",
    contract=CONTRACT,
    start=start,
)
