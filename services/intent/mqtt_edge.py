"""The intent service's MQTT requests: JSON objects to `IntentRequest`s and results back.

    {"text": "lights off", "area": "Lounge"}                 -> one result object
    {"text": "...", "context": {"area": "Lounge"}}            (the `ask` form works too)
    {"requests": [{"text": ...}, ...]}                        -> {"results": [...]}

A result is `IntentResult.as_answer_json()`: text, intent, slots, confidence, tier, reason
and the out-of-scope score. A message holds at most MAX_BATCH requests; the service behind
it refuses one whose texts are over its character bound for a call, as over gRPC.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.intent.result import IntentRequest, IntentResult
from slm_mesh.services.runtime.mqtt_service import Handler

MAX_BATCH = 64


class RecognizerLike(Protocol):
    async def recognize_many(self, requests: Sequence[IntentRequest]) -> list[IntentResult]: ...


def request_from_json(body: Any, *, where: str = "request") -> IntentRequest:
    if not isinstance(body, dict):
        raise InvalidRequestError(f"{where} must be a JSON object", field="payload")
    text = body.get("text")
    if not isinstance(text, str):
        raise InvalidRequestError(f"{where} needs a string 'text'")
    context = body.get("context", {})
    if not isinstance(context, dict):
        raise InvalidRequestError(f"{where}: 'context' must be an object", field="context")
    area = body.get("area", context.get("area"))
    if area is not None and not isinstance(area, str):
        raise InvalidRequestError(f"{where}: 'area' must be a string", field="area")
    return IntentRequest(text=text, area=area or None)


def intent_handler(service: RecognizerLike) -> Handler:
    async def handle(body: dict[str, Any]) -> dict[str, Any]:
        if "requests" not in body:
            (result,) = await service.recognize_many([request_from_json(body)])
            return result.as_answer_json()
        items = body["requests"]
        if not isinstance(items, list) or not items:
            raise InvalidRequestError("'requests' must be a non-empty list", field="requests")
        if len(items) > MAX_BATCH:
            raise InvalidRequestError(
                f"{len(items)} requests in one message; the limit is {MAX_BATCH}", field="requests"
            )
        requests = [request_from_json(item, where=f"requests[{i}]") for i, item in enumerate(items)]
        results = await service.recognize_many(requests)
        return {"results": [result.as_answer_json() for result in results]}

    return handle
