"""The bridge on the mesh, over MQTT: device events asked of the router with a reply
address (`Requester`: MQTT 5 Response Topic and Correlation Data, or the same in the
payload for a 3.1.1 broker; re-sent while unanswered, one answer taken), statuses and
readings published, commands taken from `<prefix>/device/+/command/+`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import structlog

from slm_mesh.firmware_bridge.bridge import Bridge
from slm_mesh.firmware_bridge.topics import BridgeTopics
from slm_mesh.services.kit.mqtt_face import serve_messages
from slm_mesh.services.runtime.mqtt import Message, MqttClient
from slm_mesh.services.runtime.mqtt_rpc import Requester
from slm_mesh.services.runtime.topics import Topics, matches

log = structlog.get_logger(__name__)

MAX_COMMANDS_IN_FLIGHT = 16


@dataclass
class MeshEdge:
    client: MqttClient
    topics: Topics
    bridge_topics: BridgeTopics
    requester: Requester

    async def start(self) -> None:
        await self.requester.start()
        await self.client.subscribe(self.bridge_topics.command())

    async def ask(self, device: str, body: dict[str, Any], *, timeout_s: float) -> dict[str, Any]:
        return await self.requester.request(self.topics.event(device), body, timeout_s=timeout_s)

    async def publish(
        self, topic: str, body: dict[str, Any], *, retain: bool = False, expiry_s: int | None = None
    ) -> None:
        payload = json.dumps(body, ensure_ascii=False)
        await self.client.publish(topic, payload, retain=retain, expiry_s=expiry_s)

    async def serve(self, bridge: Bridge) -> None:
        """Commands to devices and the router's replies, until cancelled."""

        def is_command(message: Message) -> bool:
            return matches(message.topic, self.bridge_topics.command())

        async def command(message: Message) -> None:
            try:
                target = self.bridge_topics.command_target(message.topic)
                if target is None:
                    bridge.counts.dropped["command:topic"] += 1
                    return
                device, name = target
                await bridge.command(device, name, message.payload, retained=message.retain)
            except Exception:
                bridge.counts.failed += 1
                log.exception("command dropped: it could not be handled", topic=message.topic)

        def take(message: Message) -> None:
            try:
                if message.topic == self.requester.reply_topic:
                    self.requester.deliver(message)
            except Exception:
                bridge.counts.failed += 1
                log.exception("reply dropped: it could not be handled", topic=message.topic)

        await serve_messages(
            self.client,
            is_request=is_command,
            answer=command,
            max_in_flight=MAX_COMMANDS_IN_FLIGHT,
            take=take,
        )
