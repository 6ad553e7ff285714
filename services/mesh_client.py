"""A client of the mesh, as a device would be: publish events, get one answer per event.

Used by `slm-mesh demo`, `slm-mesh ask --mqtt` and `slm-mesh bench mesh`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from slm_mesh.services.runtime.mqtt import BrokerUrl, MqttClient, Protocol
from slm_mesh.services.runtime.mqtt_rpc import Requester
from slm_mesh.services.runtime.topics import Topics


class MeshClient:
    def __init__(self, *, requester: Requester, topics: Topics) -> None:
        self.requester = requester
        self.topics = topics

    async def ask(
        self,
        text: str,
        *,
        device: str = "cli",
        area: str | None = None,
        deadline_s: float = 5.0,
        **fields: Any,
    ) -> dict[str, Any]:
        """The router's answer to one device event (DeadlineExceeded if none came)."""
        body = {"text": text, "device": device, "area": area, **fields}
        body = {key: value for key, value in body.items() if value is not None}
        body["deadline_ms"] = int(deadline_s * 1000)
        return await self.requester.request(self.topics.event(device), body, timeout_s=deadline_s)


@asynccontextmanager
async def mesh_client(
    broker: BrokerUrl, *, topics: Topics, protocol: Protocol = "5", retry_after_s: float = 2.0
) -> AsyncIterator[MeshClient]:
    client_id = f"slm-mesh-client-{uuid.uuid4().hex[:8]}"
    async with MqttClient(broker=broker, client_id=client_id, protocol=protocol) as client:
        requester = Requester(
            client=client, reply_topic=topics.reply(client_id), attempt_timeout_s=retry_after_s
        )
        await requester.start()

        async def pump() -> None:
            async for message in client.messages():
                requester.deliver(message)

        pumping = asyncio.create_task(pump())
        try:
            yield MeshClient(requester=requester, topics=topics)
        finally:
            pumping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pumping
