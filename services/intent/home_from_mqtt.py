"""The home from Home Assistant MQTT discovery, for the intent service: read at start,
and followed while it runs, so a device paired later is understood by its name."""

from __future__ import annotations

import asyncio

import structlog

from slm_mesh.services.home.discovery import (
    DiscoveryError,
    DiscoveryRegistry,
    discovery_filters,
)
from slm_mesh.services.home.model import Home
from slm_mesh.services.intent.core import IntentService
from slm_mesh.services.intent.recognizer import IntentRecognizer
from slm_mesh.services.intent.templates import TemplateMatcher
from slm_mesh.services.runtime.mqtt import Message, MqttClient
from slm_mesh.services.runtime.mqtt_settings import instance_id, mqtt_client
from slm_mesh.services.settings import Settings

log = structlog.get_logger(__name__)

#: The longest one update may take to read: the home is rebuilt at most this often.
MAX_BURST_S = 10.0


async def discovered_home(settings: Settings, base: Home, *, settle_s: float = 0.5) -> Home:
    """The home file plus the devices Home Assistant MQTT discovery announces now.

    Discovery configs are retained, so the broker sends them all at once on subscribing;
    reading stops when none has come for `settle_s`.
    """
    registry = DiscoveryRegistry(base=base, prefix=settings.discovery_prefix)
    async with _discovery_client(settings) as client:
        await _subscribe_discovery(client, settings)
        await _read_burst(registry, client, settle_s=settle_s)
    log.info("discovered devices", devices=len(registry.devices))
    return registry.merged_home()


async def follow_discovery(
    settings: Settings, base: Home, service: IntentService, *, settle_s: float = 1.0
) -> None:
    """Keep the service's home in step with discovery while it runs: a device announced,
    changed or removed is known (its names, area and templates) about `settle_s` after
    the last message of its burst. The heads are retrained for it at the next start."""
    registry = DiscoveryRegistry(base=base, prefix=settings.discovery_prefix)
    async with _discovery_client(settings) as client:
        await _subscribe_discovery(client, settings)
        while True:
            await _read_burst(registry, client, settle_s=settle_s, first=await client.receive())
            home = registry.merged_home()
            if home == service.recognizer.home:
                continue
            service.use(await asyncio.to_thread(_for_home, service.recognizer, home))
            log.info(
                "home updated from discovery",
                devices=len(registry.devices),
                entities=len(home.entities),
            )


def _for_home(recognizer: IntentRecognizer, home: Home) -> IntentRecognizer:
    """The recognizer for a changed home: its templates compiled off the event loop."""
    templates = TemplateMatcher(home=home, language=home.language)
    templates.prepare()
    return recognizer.for_home(home, templates)


def _discovery_client(settings: Settings) -> MqttClient:
    return mqtt_client(settings, client_id=instance_id("intent-discovery"), role="intent")


async def _subscribe_discovery(client: MqttClient, settings: Settings) -> None:
    for topic_filter in discovery_filters(settings.discovery_prefix):
        await client.subscribe(topic_filter)


async def _read_burst(
    registry: DiscoveryRegistry,
    client: MqttClient,
    *,
    settle_s: float,
    first: Message | None = None,
) -> None:
    """Apply messages until none has come for `settle_s`, or for `MAX_BURST_S` in all (a
    burst is one update, and a client that never stops publishing gets one every
    `MAX_BURST_S`); a message that cannot be used is logged and skipped, whatever is
    wrong with it."""
    loop = asyncio.get_running_loop()
    ends = loop.time() + MAX_BURST_S
    if first is not None:
        _apply(registry, first)
    while (left := ends - loop.time()) > 0:
        try:
            message = await client.receive(min(settle_s, left))
        except TimeoutError:
            return
        _apply(registry, message)


def _apply(registry: DiscoveryRegistry, message: Message) -> None:
    try:
        registry.apply(message.topic, message.payload)
    except DiscoveryError as err:
        log.warning("discovery message skipped", topic=err.topic, why=err.why)
    except Exception:
        log.exception("discovery message skipped", topic=message.topic)
