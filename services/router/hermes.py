"""Rhasspy / Snips Hermes NLU compatibility: `hermes/nlu/query` in, Hermes answers out.

Pure translation between Hermes JSON payloads and the intent core's values, in the shapes
`rhasspyhermes.nlu` defines: a recognized intent is published both as
`hermes/nlu/intentParsed` and as `hermes/intent/<intentName>` (as Rhasspy's NLU services
do), anything else as `hermes/nlu/intentNotRecognized`. The MQTT edge subscribes and
publishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slm_mesh.services.contracts.intent import IntentResult, SlotValue
from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.runtime.json_payload import load_json_object

QUERY_TOPIC = "hermes/nlu/query"
PARSED_TOPIC = "hermes/nlu/intentParsed"
NOT_RECOGNIZED_TOPIC = "hermes/nlu/intentNotRecognized"


@dataclass(frozen=True)
class HermesQuery:
    """An `NluQuery`: the text to understand and the ids to echo in the answer."""

    input: str
    site_id: str = "default"
    session_id: str | None = None
    id: str | None = None
    intent_filter: tuple[str, ...] = ()
    """Intent names the answer is restricted to; empty means any."""
    custom_data: str | None = None


def parse_query(payload: bytes) -> HermesQuery:
    """Read an `NluQuery`; a payload that is not one raises InvalidRequestError."""
    body = load_json_object(payload)
    text = body.get("input")
    if not isinstance(text, str):
        raise InvalidRequestError("hermes query needs `input` text", field="input")
    site_id = body.get("siteId") or "default"
    if not isinstance(site_id, str):
        raise InvalidRequestError("hermes `siteId` must be text", field="siteId")
    intent_filter = body.get("intentFilter") or []
    if not isinstance(intent_filter, list) or not all(isinstance(i, str) for i in intent_filter):
        raise InvalidRequestError(
            "hermes `intentFilter` must be a list of names", field="intentFilter"
        )
    return HermesQuery(
        input=text,
        site_id=site_id,
        session_id=_optional_text(body, "sessionId"),
        id=_optional_text(body, "id"),
        intent_filter=tuple(intent_filter),
        custom_data=_optional_text(body, "customData"),
    )


def answer_messages(query: HermesQuery, result: IntentResult) -> list[tuple[str, dict[str, Any]]]:
    """The (topic, payload) pairs that answer `query` with `result`."""
    ids = {"id": query.id, "siteId": query.site_id, "sessionId": query.session_id}
    name = result.intent
    if name is None or (query.intent_filter and name not in query.intent_filter):
        body = {"input": query.input, **ids, "customData": query.custom_data}
        return [(NOT_RECOGNIZED_TOPIC, body)]
    parsed = {
        "input": query.input,
        "intent": {"intentName": name, "confidenceScore": round(result.confidence, 4)},
        "slots": [_slot(query.input, slot, value) for slot, value in result.slots.items()],
        **ids,
    }
    intent = {**parsed, "customData": query.custom_data, "asrTokens": [], "rawInput": query.input}
    return [(PARSED_TOPIC, parsed), (f"hermes/intent/{name}", intent)]


def _slot(text: str, name: str, value: SlotValue) -> dict[str, Any]:
    """A Hermes slot; `range` is given where the value is found in the words said."""
    raw = str(value)
    slot: dict[str, Any] = {
        "entity": name,
        "slotName": name,
        "rawValue": raw,
        "value": {"kind": "Unknown", "value": value},
        "confidence": 1.0,
    }
    start = text.casefold().find(raw.casefold()) if raw else -1
    if start >= 0:
        end = start + len(raw)
        slot["range"] = {"start": start, "end": end, "rawStart": start, "rawEnd": end}
    return slot


def _optional_text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or isinstance(value, str):
        return value
    raise InvalidRequestError(f"hermes `{key}` must be text", field=key)
