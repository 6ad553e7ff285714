"""The services the router calls: in-process, or their replicas over MQTT."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from slm_mesh.services.contracts.intent import IntentRequest, IntentResult
from slm_mesh.services.errors import ServiceUnavailable
from slm_mesh.services.kit.contract import Contract
from slm_mesh.services.kit.service import Core
from slm_mesh.services.router.directory import ServiceDirectory
from slm_mesh.services.router.router import IntentBackend, TaskBackend
from slm_mesh.services.runtime.mqtt_rpc import Requester
from slm_mesh.services.runtime.topics import Topics
from slm_mesh.services.wire_errors import raise_for_error

LocalService = tuple[Contract[Any, Any], Core[Any, Any]]
"""A service hosted in the router's process: its contract and its core."""


class InProcessIntent:
    """The intent service in the router's own process (no broker hop)."""

    def __init__(self, *, service: Core[IntentRequest, IntentResult]) -> None:
        self.service = service

    async def recognize(
        self, texts: Sequence[str], *, area: str | None, timeout_s: float
    ) -> list[IntentResult]:
        async with asyncio.timeout(timeout_s):
            return list(await self.service.handle([IntentRequest(t, area) for t in texts]))


class LocalFirstIntent:
    """The router's own intent service first; the replicas over MQTT take the overflow.

    A call in the same process costs no broker round trip (two hops, about a millisecond),
    so `slm-mesh up` answers with its own service while that keeps up. Once it already
    holds a full batch (`overflow_at` texts in flight), further requests go to the mesh,
    where other replicas share them, whenever another replica is online.
    """

    def __init__(
        self,
        *,
        local: IntentBackend,
        mesh: IntentBackend,
        directory: ServiceDirectory,
        overflow_at: int,
    ) -> None:
        if overflow_at < 1:
            raise ValueError(f"overflow_at must be at least 1, got {overflow_at}")
        self.local = local
        self.mesh = mesh
        self.directory = directory
        self.overflow_at = overflow_at
        self.in_flight = 0
        """Texts the local service is working on now."""

    async def recognize(
        self, texts: Sequence[str], *, area: str | None, timeout_s: float
    ) -> list[IntentResult]:
        busy = self.in_flight + len(texts) > self.overflow_at
        # The local service announces itself too, so another replica means more than one.
        if busy and self.directory.online("intent") > 1:
            return await self.mesh.recognize(texts, area=area, timeout_s=timeout_s)
        self.in_flight += len(texts)
        try:
            return await self.local.recognize(texts, area=area, timeout_s=timeout_s)
        finally:
            self.in_flight -= len(texts)


class MqttIntent:
    """The intent service's replicas, sharing requests through the broker."""

    def __init__(
        self, *, requester: Requester, topics: Topics, directory: ServiceDirectory
    ) -> None:
        self.requester = requester
        self.topics = topics
        self.directory = directory

    async def recognize(
        self, texts: Sequence[str], *, area: str | None, timeout_s: float
    ) -> list[IntentResult]:
        if not self.directory.online("intent"):
            raise ServiceUnavailable(
                "no intent service is online; start one: slm-mesh serve intent --mqtt URL"
            )
        body = {"requests": [{"text": text, "area": area} for text in texts]}
        reply = await self.requester.request(
            self.topics.request("intent"), body, timeout_s=timeout_s
        )
        raise_for_error("intent", reply)
        return [IntentResult.from_answer_json(item) for item in reply["results"]]


class LocalFirstTasks:
    """Other services (summarizer, sentiment, code): those hosted in the router's own
    process first (no broker hop), else their replicas on the mesh."""

    def __init__(self, *, local: Mapping[str, LocalService], mesh: TaskBackend) -> None:
        self.local = dict(local)
        self.mesh = mesh

    def available(self, task: str) -> bool:
        return task in self.local or self.mesh.available(task)

    async def ask(self, task: str, text: str, *, timeout_s: float) -> dict[str, Any]:
        if task not in self.local:
            return await self.mesh.ask(task, text, timeout_s=timeout_s)
        contract, core = self.local[task]
        request = contract.request_from_json({"text": text}, "request")
        async with asyncio.timeout(timeout_s):
            (answer,) = await core.handle([request])
        return contract.answer_to_json(answer)


class MqttTasks:
    """Other services (summarizer, sentiment, code) when an instance is online."""

    def __init__(
        self, *, requester: Requester, topics: Topics, directory: ServiceDirectory
    ) -> None:
        self.requester = requester
        self.topics = topics
        self.directory = directory

    def available(self, task: str) -> bool:
        return self.directory.online(task) > 0

    async def ask(self, task: str, text: str, *, timeout_s: float) -> dict[str, Any]:
        reply = await self.requester.request(
            self.topics.request(task), {"text": text}, timeout_s=timeout_s
        )
        raise_for_error(task, reply)
        return reply
