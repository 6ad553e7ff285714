"""Hermes NLU compatibility: queries in, Rhasspy-shaped answers out."""

from __future__ import annotations

import pytest

from slm_mesh.services.contracts.intent import IntentResult
from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.router.hermes import HermesQuery, answer_messages, parse_query

QUERY = (
    b'{"input": "turn on the kitchen light", "siteId": "satellite", "sessionId": "s-1",'
    b' "id": "q-1", "intentFilter": null, "customData": "ctx"}'
)
TURN_ON = IntentResult(
    text="turn on the kitchen light",
    intent="HassTurnOn",
    slots={"area": "Kitchen", "domain": "light"},
    confidence=0.93,
    tier="slm",
)


def test_query_fields_are_read() -> None:
    assert parse_query(QUERY) == HermesQuery(
        input="turn on the kitchen light",
        site_id="satellite",
        session_id="s-1",
        id="q-1",
        custom_data="ctx",
    )


def test_site_id_defaults_to_default() -> None:
    query = parse_query(b'{"input": "hello", "intentFilter": ["HassTurnOn"]}')
    assert query.site_id == "default" and query.session_id is None
    assert query.intent_filter == ("HassTurnOn",)


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"turn on", "not JSON"),
        (b'"turn on"', "JSON object"),
        (b'{"text": "turn on"}', "`input`"),
        (b'{"input": "x", "siteId": 3}', "`siteId`"),
        (b'{"input": "x", "intentFilter": "HassTurnOn"}', "`intentFilter`"),
        (b'{"input": "x", "sessionId": {}}', "`sessionId`"),
    ],
)
def test_bad_queries_are_refused_clearly(payload: bytes, why: str) -> None:
    with pytest.raises(InvalidRequestError, match=why):
        parse_query(payload)


def test_a_recognized_intent_is_published_parsed_and_on_its_intent_topic() -> None:
    (parsed_topic, parsed), (intent_topic, intent) = answer_messages(parse_query(QUERY), TURN_ON)
    assert (parsed_topic, intent_topic) == ("hermes/nlu/intentParsed", "hermes/intent/HassTurnOn")
    assert parsed["intent"] == {"intentName": "HassTurnOn", "confidenceScore": 0.93}
    assert (parsed["id"], parsed["siteId"], parsed["sessionId"]) == ("q-1", "satellite", "s-1")
    assert intent["customData"] == "ctx" and intent["input"] == "turn on the kitchen light"
    area = intent["slots"][0]
    assert area == {
        "entity": "area",
        "slotName": "area",
        "rawValue": "Kitchen",
        "value": {"kind": "Unknown", "value": "Kitchen"},
        "confidence": 1.0,
        "range": {"start": 12, "end": 19, "rawStart": 12, "rawEnd": 19},
    }


def test_a_number_slot_keeps_its_number_value() -> None:
    result = IntentResult(text="dim to 40", intent="HassLightSet", slots={"brightness": 40})
    (_, parsed), _ = answer_messages(HermesQuery(input="dim to 40"), result)
    assert parsed["slots"][0]["value"] == {"kind": "Unknown", "value": 40}


def test_no_intent_is_not_recognized() -> None:
    result = IntentResult(text="sing a song", intent=None)
    assert answer_messages(parse_query(QUERY), result) == [
        (
            "hermes/nlu/intentNotRecognized",
            {"input": "turn on the kitchen light", "id": "q-1", "siteId": "satellite",
             "sessionId": "s-1", "customData": "ctx"},
        )
    ]  # fmt: skip


def test_an_intent_outside_the_filter_is_not_recognized() -> None:
    query = HermesQuery(input="turn on the kitchen light", intent_filter=("HassTurnOff",))
    ((topic, _),) = answer_messages(query, TURN_ON)
    assert topic == "hermes/nlu/intentNotRecognized"
