"""Stand-ins for the bridge's tests: a mesh that records, a link that records."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from slm_mesh.firmware_bridge.frames import FrameReader, Received
from slm_mesh.firmware_bridge.keys import DeviceKeys
from slm_mesh.firmware_bridge.link import Address, LinkDown
from slm_mesh.v1.bridge_pb2 import Frame

Answerer = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


async def intent_reply(device: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"intent": "HassTurnOff", "slots": {"area": "Lounge"}, "tier": "template",
            "confidence": 1.0, "answer": None, "error": None, "id": body["id"]}  # fmt: skip


class FakeMesh:
    def __init__(self, answer: Answerer = intent_reply) -> None:
        self.asked: list[tuple[str, dict[str, Any]]] = []
        self.published: list[tuple[str, dict[str, Any], bool, int | None]] = []
        self._answer = answer

    async def ask(self, device: str, body: dict[str, Any], *, timeout_s: float) -> dict[str, Any]:
        self.asked.append((device, body))
        return await self._answer(device, body)

    async def publish(
        self, topic: str, body: dict[str, Any], *, retain: bool = False, expiry_s: int | None = None
    ) -> None:
        self.published.append((topic, body, retain, expiry_s))

    def on(self, topic: str) -> list[dict[str, Any]]:
        return [body for t, body, _, _ in self.published if t == topic]


class FakeLink:
    def __init__(self, name: str = "serial:/dev/fake") -> None:
        self._name = name
        self.sent: list[tuple[bytes, Address | None]] = []
        self.down = False

    @property
    def name(self) -> str:
        return self._name

    async def send(self, packet: bytes, address: Address | None) -> None:
        if self.down:
            raise LinkDown("unplugged")
        self.sent.append((packet, address))
        await asyncio.sleep(0)

    def frames(self, keys: DeviceKeys | None = None) -> list[Frame]:
        reader = FrameReader(keys or DeviceKeys())
        results = [r for packet, _ in self.sent for r in reader.feed(packet)]
        return [r.frame for r in results if isinstance(r, Received)]
