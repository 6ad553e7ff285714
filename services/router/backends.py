"""The services the router calls: in-process, or their replicas over MQTT."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from slm_mesh.services.errors import InvalidRequestError, ServiceUnavailable, SlmMeshError
from slm_mesh.services.intent.result import IntentRequest, IntentResult
from slm_mesh.services.intent.service import IntentService
from slm_mesh.services.router.directory import ServiceDirectory
from slm_mesh.services.runtime.mqtt_rpc import Requester
from slm_mesh.services.runtime.topics import Topics


class InProcessIntent:
    """The intent service in the router's own process (no broker hop)."""

    def __init__(self, *, service: IntentService) -> None:
        self.service = service

    async def recognize(
        self, texts: Sequence[str], *, area: str | None, timeout_s: float
    ) -> list[IntentResult]:
        async with asyncio.timeout(timeout_s):
            return await self.service.recognize_many([IntentRequest(t, area) for t in texts])


def _raise_for_error(task: str, reply: dict[str, Any]) -> None:
    error = reply.get("error")
    if not error:
        return
    message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
    if isinstance(error, dict) and error.get("code") == "invalid_request":
        raise InvalidRequestError(message)
    raise SlmMeshError(f"the {task} service failed: {message}")


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
        _raise_for_error("intent", reply)
        return [IntentResult.from_answer_json(item) for item in reply["results"]]


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
        _raise_for_error(task, reply)
        return reply
