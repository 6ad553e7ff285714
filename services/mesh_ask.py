"""`slm-mesh ask SERVICE --mqtt URL`: requests through the broker, as a device sends them,
and the answers in the same JSON-lines form as `--target` gives.

Requests go out concurrently (up to `IN_FLIGHT`); answers are written in input order.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from slm_mesh.services.contracts.intent import IntentRequest
from slm_mesh.services.errors import DeadlineExceeded, InvalidRequestError, SlmMeshError
from slm_mesh.services.intent.ask import BadLine, parse_line
from slm_mesh.services.mesh_client import MeshClient, mesh_client
from slm_mesh.services.runtime.broker_access import DEVICE
from slm_mesh.services.runtime.mqtt_settings import broker_url
from slm_mesh.services.runtime.mqtt_settings import topics as mqtt_topics
from slm_mesh.services.settings import Settings

IN_FLIGHT = 32


def answer_line(text: str, answer: dict[str, Any]) -> dict[str, Any]:
    """The router's answer in `ask`'s form; a compound command or a model's reply adds
    `intents` or `answer`."""
    if answer.get("error"):
        return {"text": text, "error": answer["error"]["message"]}
    line = {key: answer[key] for key in ("text", "intent", "slots", "confidence", "tier")}
    if len(answer["intents"]) > 1:
        line["intents"] = answer["intents"]
    if answer.get("answer"):
        line["answer"] = answer["answer"]
    return line


async def _answer(
    client: MeshClient, item: IntentRequest | BadLine, slots: asyncio.Semaphore, deadline_s: float
) -> dict[str, Any]:
    if isinstance(item, BadLine):
        return item.as_json()
    async with slots:
        try:
            answer = await client.ask(
                item.text, device="cli", area=item.area, deadline_s=deadline_s
            )
        except DeadlineExceeded as err:
            return {"text": item.text, "error": f"{err}; is a mesh running? (slm-mesh up)"}
    return answer_line(item.text, answer)


def _device_client(settings: Settings) -> AbstractAsyncContextManager[MeshClient]:
    return mesh_client(
        broker_url(settings, role=DEVICE),
        topics=mqtt_topics(settings),
        protocol=settings.mqtt.protocol,
    )


@asynccontextmanager
async def router_answerer(
    settings: Settings, *, task: str
) -> AsyncIterator[Callable[[Any], Awaitable[dict[str, Any]]]]:
    """Another service's requests through the router, as a device sends them (`task` set):
    its whole answer when the service answered, else the router's words and tier."""
    deadline_s = settings.deadline_ms / 1000
    async with _device_client(settings) as client:

        async def ask(request: Any) -> dict[str, Any]:
            text = getattr(request, "text", None)
            if not isinstance(text, str):
                raise InvalidRequestError(f"only texts go through the router to the {task} service")
            answer = await client.ask(text, device="cli", deadline_s=deadline_s, task=task)
            if answer.get("error"):
                if answer["error"]["code"] == "invalid_request":
                    raise InvalidRequestError(answer["error"]["message"])
                raise SlmMeshError(answer["error"]["message"])
            if answer.get("result"):
                return dict(answer["result"])
            return {"text": text, "answer": answer.get("answer"), "tier": answer["tier"]}

        yield ask


async def ask_mesh(settings: Settings, *, texts: Sequence[str], area: str | None) -> int:
    items: Iterable[IntentRequest | BadLine] = (
        [IntentRequest(text=text, area=area) for text in texts]
        if texts
        else [parse_line(raw, area=area) for raw in sys.stdin.buffer]
    )
    slots = asyncio.Semaphore(IN_FLIGHT)
    deadline_s = settings.deadline_ms / 1000
    failures = 0
    async with _device_client(settings) as client:
        pending = [asyncio.create_task(_answer(client, item, slots, deadline_s)) for item in items]
        for task in pending:
            line = await task
            failures += "error" in line
            print(json.dumps(line, ensure_ascii=False), flush=True)
    return 2 if failures else 0
