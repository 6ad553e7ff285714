"""`slm-mesh up`: a broker (embedded unless one is given), the installed services, the
router and Home Assistant's Wyoming face to it, in one process, until SIGINT/SIGTERM. The
router asks the services beside it first, and replicas elsewhere on the mesh once they are
busy.

The embedded broker requires a login, one per role, with each role's topics only
(`broker_access`); the logins are made on first start and kept in the cache directory.
Anonymous clients get in only with `broker_allow_anonymous`, and that is logged loudly."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import metadata

import structlog

from slm_mesh.services.fallback.app import running_fallback
from slm_mesh.services.fallback.fallback import LlmFallback
from slm_mesh.services.home.files import load_settings_home
from slm_mesh.services.home.follow import follows_home
from slm_mesh.services.home.model import Home
from slm_mesh.services.kit.host import hosting, wait_for_stop_signal
from slm_mesh.services.kit.service import installed_names, installed_services
from slm_mesh.services.kit.shared import Shared
from slm_mesh.services.redact import redact_url
from slm_mesh.services.router.app import running_router
from slm_mesh.services.router.mqtt_edge import RouterEdge
from slm_mesh.services.router.request import TASKS
from slm_mesh.services.router.router import Router
from slm_mesh.services.runtime.broker import EmbeddedBroker
from slm_mesh.services.runtime.broker_access import (
    BRIDGE,
    DEVICE,
    ROUTER,
    BrokerAccess,
    BrokerLogins,
    role_grants,
)
from slm_mesh.services.runtime.mqtt_settings import embedded_logins_path
from slm_mesh.services.runtime.mqtt_settings import topics as mqtt_topics
from slm_mesh.services.settings import Settings
from slm_mesh.services.wyoming.announce import announced, instance_name, reachable_address
from slm_mesh.services.wyoming.server import WyomingServer, running_wyoming

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Mesh:
    settings: Settings
    """With `mqtt_url` pointing at the broker in use."""
    grpc_port: int
    services: tuple[str, ...]
    """The services hosted here, on gRPC and the mesh."""
    router: RouterEdge
    broker: EmbeddedBroker | None
    wyoming: WyomingServer | None


@asynccontextmanager
async def running_mesh(settings: Settings) -> AsyncIterator[Mesh]:
    async with contextlib.AsyncExitStack() as stack:
        broker = None
        if not settings.mqtt.url:
            access = broker_access(settings)
            broker = EmbeddedBroker(
                data_dir=settings.cache_dir / "broker",
                host=settings.broker.host,
                port=settings.broker.port,
                access=access,
            )
            if broker.kind == "amqtt" and access is not None:
                log.warning(
                    "amqtt cannot keep a device to its own reply topic: devices may read each "
                    "other's replies (install mosquitto for per-device topics)"
                )
            await stack.enter_async_context(broker)
            features = broker.features
            settings = settings.updated(
                mqtt_url=f"mqtt://{broker.url.host}:{broker.port}",
                mqtt_protocol=features.protocol,
                mqtt_shared_subscriptions=features.shared_subscriptions,
                mqtt_logins_file=access.logins.path if access is not None else None,
            )
        services = list(installed_services().values())
        shared = await stack.enter_async_context(Shared(settings))
        hosted = await stack.enter_async_context(hosting(settings, services, shared=shared))
        fallback = await stack.enter_async_context(_fallback(settings, shared))
        router = await stack.enter_async_context(
            running_router(
                settings,
                fallback=fallback,
                local={s.name: (s.contract, hosted.core(s.name)) for s in services},
                shared=shared,
            )
        )
        wyoming = None
        if settings.wyoming.enabled:
            wyoming = await stack.enter_async_context(_wyoming(settings, router.router))
        yield Mesh(
            settings=settings,
            grpc_port=hosted.port,
            services=tuple(sorted(hosted.started)),
            router=router,
            broker=broker,
            wyoming=wyoming,
        )


@asynccontextmanager
async def _wyoming(settings: Settings, router: Router) -> AsyncIterator[WyomingServer]:
    """Home Assistant's Wyoming face to the router, announced over zeroconf unless asked
    not to or only this machine could reach it."""
    async with contextlib.AsyncExitStack() as stack:
        server = await stack.enter_async_context(
            running_wyoming(
                router,
                host=settings.wyoming.host,
                port=settings.wyoming.port,
                version=metadata.version("slm-mesh"),
                plugin=settings.plugin,
            )
        )
        address = reachable_address(settings.wyoming.host) if settings.wyoming.zeroconf else None
        if address is not None:
            await stack.enter_async_context(
                announced(name=instance_name(), address=address, port=server.port)
            )
        yield server


@asynccontextmanager
async def wyoming_on_mesh(settings: Settings) -> AsyncIterator[WyomingServer]:
    """A router on the running mesh at `settings.mqtt.url`, with Home Assistant's Wyoming
    face to it: `slm-mesh serve wyoming`, for a Home Assistant far from the mesh's host."""
    async with (
        Shared(settings) as shared,
        _fallback(settings, shared) as fallback,
        running_router(settings, fallback=fallback, shared=shared) as router,
    ):
        await _seen_intent_service(router)
        async with _wyoming(settings, router.router) as wyoming:
            yield wyoming


async def _seen_intent_service(router: RouterEdge, timeout_s: float = 5.0) -> None:
    """Until the router has read an intent service's retained status (just after it
    subscribes), so the first sentence is not told that none is online."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not router.directory.online("intent"):
        if asyncio.get_running_loop().time() > deadline:
            log.warning(
                "no intent service seen on the mesh yet; until one is online, Home Assistant "
                "is told so",
                waited_s=timeout_s,
            )
            return
        await asyncio.sleep(0.05)


async def serve_wyoming(settings: Settings) -> int:
    async with wyoming_on_mesh(settings) as wyoming:
        print(
            f"slm-mesh: Home Assistant's Wyoming face to the mesh at "
            f"{redact_url(settings.mqtt.url or '')}: host {settings.wyoming.host}, "
            f"port {wyoming.port}",
            flush=True,
        )
        await wait_for_stop_signal()
    return 0


def broker_access(settings: Settings) -> BrokerAccess | None:
    """The embedded broker's logins and topic rights; None lets anyone in, as asked."""
    if settings.broker.allow_anonymous:
        log.warning(
            "THE EMBEDDED BROKER LETS ANYONE IN WITHOUT A LOGIN (broker_allow_anonymous): "
            "any client that reaches it may send commands and read every answer",
            broker=f"{settings.broker.host}:{settings.broker.port}",
        )
        return None
    services = sorted({*TASKS, *installed_names()})
    logins = BrokerLogins.load_or_create(
        embedded_logins_path(settings), [ROUTER, DEVICE, BRIDGE, *services]
    )
    grants = role_grants(
        prefix=settings.mqtt.prefix, discovery_prefix=settings.discovery_prefix, services=services
    )
    return BrokerAccess(logins=logins, grants=grants)


@asynccontextmanager
async def _fallback(settings: Settings, shared: Shared) -> AsyncIterator[LlmFallback | None]:
    """The LLM fallback, when one is configured, shown the home as it is while it runs."""
    if not settings.llm.url:
        yield None
        return
    follower = await shared.home_follower(role=ROUTER) if follows_home(settings) else None
    home = follower.home if follower is not None else load_settings_home(settings)
    async with running_fallback(settings, home=home) as fallback:
        if follower is not None:

            async def follow(home: Home) -> None:
                fallback.use_home(home)

            follower.on_change(follow)
        yield fallback


def where_to_connect(mesh: Mesh) -> str:
    topics = mqtt_topics(mesh.settings)
    kind = mesh.broker.kind if mesh.broker else "external"
    url = redact_url(mesh.settings.mqtt.url or "")
    broker = f"{url} ({kind}, MQTT {mesh.settings.mqtt.protocol})"
    logins = mesh.settings.mqtt.logins_file
    if mesh.broker is None:
        login = "as your broker says"
    elif logins is None:
        login = "none needed: ANYONE may connect (broker_allow_anonymous)"
    else:
        login = f"user `{DEVICE}`, its password in {logins} (readable by you only)"
    wyoming = (
        f"Wyoming Protocol integration, host {mesh.settings.wyoming.host}, port {mesh.wyoming.port}"
        if mesh.wyoming is not None
        else "off (SLM_MESH_WYOMING_ENABLED=false)"
    )
    return "\n".join([
        f"slm-mesh is up. Broker: {broker}",
        f"  device login:    {login}",
        f"  device events:   publish JSON to {topics.event('<device>')}",
        '                   {"text": "lights off", "device": "satellite-lounge", "area": "Lounge"}',
        "                   answers come back on your MQTT 5 Response Topic (or the payload's",
        '                   "response_topic"), and every answer goes to ' + topics.results,
        f"  status:          {topics.prefix}/status/#  (retained, one per instance)",
        f"  gRPC:            {mesh.settings.host}:{mesh.grpc_port}  ({', '.join(mesh.services)})",
        f"  Home Assistant:  {wyoming}",
        f"  try it:          slm-mesh demo --mqtt {url}",
    ])  # fmt: skip


async def up(settings: Settings) -> int:
    async with running_mesh(settings) as mesh:
        print(where_to_connect(mesh), flush=True)
        await wait_for_stop_signal()
    return 0
