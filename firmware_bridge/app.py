"""A running bridge: its MQTT connection, its links, and the tasks that serve them.

    async with running_bridge(settings, options) as running:
        running.udp_address    # where devices on the LAN send
        running.bridge.counts  # what came in and what was dropped

Each long-running task (the MQTT loop, the presence watch, each serial port) runs in a
task group under `supervised`: if one dies, the context ends with its error and the
bridge is announced offline, so the process stops instead of living on half-deaf. A
serial port that goes away is no error: its link waits for the device to come back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog

from slm_mesh.firmware_bridge.bridge import Bridge
from slm_mesh.firmware_bridge.config import BridgeOptions
from slm_mesh.firmware_bridge.link import Address
from slm_mesh.firmware_bridge.mesh_edge import MeshEdge
from slm_mesh.firmware_bridge.presence import Presence
from slm_mesh.firmware_bridge.serial_link import SerialLink
from slm_mesh.firmware_bridge.topics import BridgeTopics
from slm_mesh.firmware_bridge.udp_link import UdpLink
from slm_mesh.services.kit.host import wait_for_stop_signal
from slm_mesh.services.kit.mqtt_face import announce, status_will
from slm_mesh.services.runtime.mqtt import MqttClient
from slm_mesh.services.runtime.mqtt_rpc import Requester
from slm_mesh.services.runtime.mqtt_settings import instance_id, mesh_key, mqtt_client
from slm_mesh.services.runtime.mqtt_settings import topics as mesh_topics
from slm_mesh.services.runtime.supervise import supervised
from slm_mesh.services.settings import Settings

log = structlog.get_logger(__name__)

SERVICE = "bridge"
"""Its name under `<prefix>/status/`."""


@dataclass(frozen=True)
class RunningBridge:
    bridge: Bridge
    instance: str
    client: MqttClient
    serial: tuple[SerialLink, ...]
    udp: UdpLink | None
    udp_address: Address | None


@asynccontextmanager
async def running_bridge(
    settings: Settings, options: BridgeOptions
) -> AsyncIterator[RunningBridge]:
    instance = instance_id(SERVICE)
    topics = mesh_topics(settings)
    key = mesh_key(settings)
    will = status_will(topics, SERVICE, instance, key=key)
    async with mqtt_client(settings, client_id=instance, role=options.role, will=will) as client:
        edge = MeshEdge(
            client=client,
            topics=topics,
            bridge_topics=BridgeTopics(prefix=settings.mqtt.prefix),
            requester=Requester(client=client, reply_topic=topics.reply(client.client_id)),
        )
        bridge = Bridge(
            mesh=edge,
            topics=edge.bridge_topics,
            keys=options.keys,
            instance=instance,
            deadline_ms=options.deadline_ms,
            max_in_flight=options.max_in_flight,
            presence=Presence(default_interval_s=options.heartbeat_s),
        )
        await edge.start()
        udp: UdpLink | None = None
        udp_address: Address | None = None
        if options.udp is not None:
            host, port = options.udp
            keys = options.keys.requiring(options.require_keys)
            udp = UdpLink(host, port, deliver=bridge.deliver, keys=keys)
            udp_address = await udp.start()
        links = tuple(
            SerialLink(path, deliver=bridge.deliver, keys=options.keys, baudrate=options.baudrate)
            for path in options.serial
        )
        watch_every_s = min(1.0, options.heartbeat_s / 2)
        names = [link.name for link in links] + ([udp.name] if udp is not None else [])
        info = {"links": names, "keyed_devices": len(options.keys.keys)}
        try:
            await announce(
                client,
                topics,
                service=SERVICE,
                instance=instance,
                state="online",
                key=key,
                info=info,
            )
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(supervised(edge.serve(bridge), "bridge: mqtt")),
                    group.create_task(supervised(bridge.watch(watch_every_s), "bridge: presence")),
                    *(
                        group.create_task(supervised(link.run(), f"bridge: {link.name}"))
                        for link in links
                    ),
                ]
                log.info(
                    "bridging", links=",".join(names), mqtt=str(client.broker), instance=instance
                )
                try:
                    yield RunningBridge(bridge, instance, client, links, udp, udp_address)
                finally:
                    for task in tasks:
                        task.cancel()
                    await bridge.stop()
                    await announce(
                        client, topics, service=SERVICE, instance=instance, state="offline", key=key
                    )
        finally:
            if udp is not None:
                udp.close()


async def serve_bridge(settings: Settings, options: BridgeOptions) -> None:
    """Bridge until SIGINT or SIGTERM."""
    async with running_bridge(settings, options):
        await wait_for_stop_signal()
