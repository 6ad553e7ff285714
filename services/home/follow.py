"""The home while the process runs: the home file, or the home Home Assistant holds (read
over its WebSocket API and followed), plus the devices that announce themselves over Home
Assistant MQTT discovery. One follower per process (`Shared.home_follower`), so its
services and its router see one home.

Discovery configs are retained, so the broker sends them all at once on subscribing; a
burst is read until none has come for a moment (or for `MAX_BURST_S` in all, so a client
that never stops publishing costs one update every `MAX_BURST_S`). After each change to
the home, from either source, the listeners are told (the intent service compiles its
templates for the new names; the router's execution reads the new command topics).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog

from slm_mesh.services.home.discovery import DiscoveryError, DiscoveryRegistry, discovery_filters
from slm_mesh.services.home.files import load_settings_home
from slm_mesh.services.home.homeassistant.source import source_from
from slm_mesh.services.home.model import Home
from slm_mesh.services.runtime.mqtt import Message, MqttClient
from slm_mesh.services.runtime.mqtt_settings import instance_id, mqtt_client
from slm_mesh.services.runtime.supervise import supervised
from slm_mesh.services.settings import Settings

log = structlog.get_logger(__name__)

MAX_BURST_S = 10.0
Listener = Callable[[Home], Awaitable[None]]


class HomeFollower:
    def __init__(self, *, base: Home, prefix: str = "homeassistant") -> None:
        self.registry = DiscoveryRegistry(base=base, prefix=prefix)
        self.errors = 0
        """Discovery messages that could not be used (logged, then skipped)."""
        self.version = 0
        """Goes up each time the home changes."""
        self._home = self.registry.merged_home()
        self._listeners: list[Listener] = []

    @property
    def home(self) -> Home:
        return self._home

    def on_change(self, listener: Listener) -> None:
        """Call `listener` with the new home after each burst that changed it."""
        self._listeners.append(listener)

    def apply(self, message: Message) -> None:
        """One discovery message; whatever is wrong with it costs only that message."""
        try:
            self.registry.apply(message.topic, message.payload)
        except DiscoveryError as err:
            self.errors += 1
            log.warning("discovery message skipped", topic=err.topic, why=err.why)
        except Exception:
            self.errors += 1
            log.exception("discovery message skipped", topic=message.topic)

    async def use_base(self, home: Home) -> None:
        """The home its source holds now (Home Assistant's), with discovery's beside it."""
        self.registry.rebase(home)
        if self._merge():
            await self._tell()

    async def read_burst(
        self, client: MqttClient, *, settle_s: float, first: Message | None = None
    ) -> bool:
        """Apply messages until none has come for `settle_s` (or `MAX_BURST_S` passed);
        True when the home changed."""
        loop = asyncio.get_running_loop()
        ends = loop.time() + MAX_BURST_S
        if first is not None:
            self.apply(first)
        while (left := ends - loop.time()) > 0:
            try:
                message = await client.receive(min(settle_s, left))
            except TimeoutError:
                break
            self.apply(message)
        return self._merge()

    def _merge(self) -> bool:
        """True when the merged home changed."""
        home = self.registry.merged_home()
        if home == self._home:
            return False
        self._home = home
        self.version += 1
        return True

    async def _tell(self) -> None:
        for listener in self._listeners:
            await listener(self._home)

    async def _follow(self, client: MqttClient, settle_s: float) -> None:
        while True:
            if await self.read_burst(client, settle_s=settle_s, first=await client.receive()):
                log.info(
                    "home updated from discovery",
                    devices=len(self.registry.devices),
                    entities=len(self._home.entities),
                )
                await self._tell()


def follows_home(settings: Settings) -> bool:
    """Whether the home can change while the process runs: read from Home Assistant, or
    with what MQTT discovery announces."""
    return bool(settings.homeassistant.url) or (settings.discovery and bool(settings.mqtt.url))


@asynccontextmanager
async def following(
    settings: Settings, *, role: str, settle_s: float = 1.0
) -> AsyncIterator[HomeFollower]:
    """A follower that has read the home (from Home Assistant, once it answers, else from
    the file) and what discovery announces now, following both until the context exits;
    if following dies, the context ends with its error (`supervise`)."""
    source = source_from(settings)
    base = await source.first_home() if source is not None else load_settings_home(settings)
    follower = HomeFollower(base=base, prefix=settings.discovery_prefix)
    async with contextlib.AsyncExitStack() as stack, asyncio.TaskGroup() as group:
        tasks = []
        if settings.discovery and settings.mqtt.url:
            client_id = instance_id("discovery")
            client = await stack.enter_async_context(
                mqtt_client(settings, client_id=client_id, role=role)
            )
            for topic_filter in discovery_filters(settings.discovery_prefix):
                await client.subscribe(topic_filter)
            await follower.read_burst(client, settle_s=0.5)
            log.info("discovered devices", devices=len(follower.registry.devices))
            follow = follower._follow(client, settle_s)
            tasks.append(group.create_task(supervised(follow, "discovery")))
        if source is not None:
            follow = source.follow(follower.use_base, home=base)
            tasks.append(group.create_task(supervised(follow, "home assistant")))
        try:
            yield follower
        finally:
            for task in tasks:
                task.cancel()
