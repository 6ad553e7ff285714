"""Wiring: from settings to a router on the mesh. Builds the pieces and serves; decides
nothing (the core is `router.Router`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from importlib import metadata

import structlog

from slm_mesh.services.home.files import load_settings_home
from slm_mesh.services.home.follow import HomeFollower, follows_home
from slm_mesh.services.home.model import Home
from slm_mesh.services.kit.mqtt_face import announce, status_will
from slm_mesh.services.kit.shared import Shared
from slm_mesh.services.router.backends import (
    InProcessIntent,
    LocalFirstIntent,
    LocalFirstTasks,
    LocalService,
    MqttIntent,
    MqttTasks,
)
from slm_mesh.services.router.directory import ServiceDirectory
from slm_mesh.services.router.home_edge import HomeEdge
from slm_mesh.services.router.mqtt_edge import RouterEdge
from slm_mesh.services.router.router import Fallback, IntentBackend, Router
from slm_mesh.services.router.unanswered import unanswered_log
from slm_mesh.services.runtime.broker_access import ROUTER
from slm_mesh.services.runtime.mqtt import MqttClient
from slm_mesh.services.runtime.mqtt_rpc import Requester
from slm_mesh.services.runtime.mqtt_settings import (
    instance_id,
    mesh_key,
    mqtt_client,
    reply_topics,
)
from slm_mesh.services.runtime.mqtt_settings import topics as mqtt_topics
from slm_mesh.services.runtime.supervise import supervised
from slm_mesh.services.settings import Settings

log = structlog.get_logger(__name__)

#: How long the broker keeps the router's session (its subscriptions and queued
#: messages) while the router is away.
SESSION_EXPIRY_S = 300


def device_areas(settings: Settings, home: Home | None) -> dict[str, str]:
    """The area each device speaks from: as Home Assistant's registries place it (a voice
    satellite's device and entity ids), then as the settings' devices table says (it wins)."""
    return {**dict(home.device_areas if home is not None else ()), **settings.devices}


def _home_edge(
    settings: Settings, client: MqttClient, router: Router, follower: HomeFollower | None
) -> HomeEdge | None:
    if not (settings.hermes or settings.discovery or settings.execute_domains):
        return None
    if settings.execute_domains and not settings.discovery:
        raise ValueError(
            "execute_domains needs discovery on (SLM_MESH_DISCOVERY=true): commands go to the "
            "command topics that devices announce"
        )
    return HomeEdge(
        client=client,
        router=router,
        base_home=load_settings_home(settings),
        follower=follower,
        execute_domains=frozenset(settings.execute_domains),
        reserved_topics=(f"{settings.mqtt.prefix}/#", f"{settings.discovery_prefix}/#", "hermes/#"),
    )


@asynccontextmanager
async def running_router(
    settings: Settings,
    *,
    fallback: Fallback | None = None,
    local: Mapping[str, LocalService] | None = None,
    shared: Shared | None = None,
) -> AsyncIterator[RouterEdge]:
    """The router serving device events until the context exits; `local` are the services
    hosted in this process (by name), asked before their replicas over MQTT, and `shared`
    what they share (the one follower of discovery).

    If the serving task dies, the router announces itself offline and the task that
    entered this context is cancelled; leaving the context then raises the task's error
    (an `ExceptionGroup`), so the process ends instead of living on deaf."""
    instance = instance_id("router")
    topics = mqtt_topics(settings)
    key = mesh_key(settings)
    will = status_will(topics, "router", instance, key=key)
    async with contextlib.AsyncExitStack() as stack:
        if shared is None:
            shared = await stack.enter_async_context(Shared(settings))
        follower = await shared.home_follower(role=ROUTER) if follows_home(settings) else None
        client = await stack.enter_async_context(
            mqtt_client(
                settings,
                client_id=instance,
                role=ROUTER,
                will=will,
                persistent_session_s=SESSION_EXPIRY_S,
            )
        )
        directory = ServiceDirectory(key=key, allowed_instances=settings.trusted_instances)
        requester = Requester(
            client=client,
            reply_topic=topics.reply(instance),
            attempt_timeout_s=settings.attempt_timeout_ms / 1000,
            accept=directory.accepts_reply,
        )
        local = dict(local or {})
        intent: IntentBackend = MqttIntent(requester=requester, topics=topics, directory=directory)
        if "intent" in local:
            intent = LocalFirstIntent(
                local=InProcessIntent(service=local.pop("intent")[1]),
                mesh=intent,
                directory=directory,
                overflow_at=settings.batch.max_size,
            )
        router = Router(
            intent=intent,
            tasks=LocalFirstTasks(
                local=local,
                mesh=MqttTasks(requester=requester, topics=topics, directory=directory),
            ),
            fallback=fallback,
            unanswered=unanswered_log(settings),
            devices=device_areas(settings, follower.home if follower else None),
            default_deadline_s=settings.deadline_ms / 1000,
        )
        if follower is not None:

            async def follow(home: Home) -> None:
                router.devices = device_areas(settings, home)

            follower.on_change(follow)
        edge = RouterEdge(
            client=client,
            topics=topics,
            router=router,
            requester=requester,
            directory=directory,
            reply_topics=reply_topics(settings),
            shared_subscriptions=settings.mqtt.shared_subscriptions,
            home=_home_edge(settings, client, router, follower),
            hermes=settings.hermes,
        )
        await edge.start()
        info = {"version": metadata.version("slm-mesh"), "fallback": bool(fallback)}

        async def say(state: str) -> None:
            await announce(
                client, topics, service="router", instance=instance, state=state, key=key,
                info=info,
            )  # fmt: skip

        async with asyncio.TaskGroup() as group:
            serving = group.create_task(supervised(edge.serve(), "router"))
            await say("online")
            log.info("serving", service="router", mqtt=str(client.broker), instance=instance)
            try:
                yield edge
            finally:
                serving.cancel()
                await say("offline")
