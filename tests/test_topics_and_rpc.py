"""The topic tree, request payloads and reply addresses, and the service directory: pure."""

from __future__ import annotations

import json

import pytest

from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.router.directory import ServiceDirectory
from slm_mesh.services.runtime.mqtt import Message
from slm_mesh.services.runtime.mqtt_rpc import (
    MAX_PAYLOAD_BYTES,
    ReplyAddress,
    correlation_of,
    parse_payload,
    reply_address,
)
from slm_mesh.services.runtime.topics import Topics, matches, shared


def _message(
    payload: bytes = b"{}", *, response_topic: str | None = None, correlation: bytes | None = None
) -> Message:
    return Message(
        topic="slm-mesh/ask",
        payload=payload,
        response_topic=response_topic,
        correlation=correlation,
    )


def test_topic_paths_hang_off_the_prefix() -> None:
    topics = Topics(prefix="home1")
    assert topics.events == "home1/event/#"
    assert topics.event("satellite-lounge") == "home1/event/satellite-lounge"
    assert topics.ask == "home1/ask"
    assert topics.results == "home1/results"
    assert topics.request("intent") == "home1/service/intent/request"
    assert topics.service_results("intent") == "home1/service/intent/results"
    assert topics.status() == "home1/status/+/+"
    assert topics.status("intent", "a1") == "home1/status/intent/a1"
    assert topics.reply("router-7") == "home1/reply/router-7"


def test_the_default_prefix_is_slm_mesh() -> None:
    assert Topics().ask == "slm-mesh/ask"


def test_shared_subscriptions_split_work_only_when_enabled() -> None:
    assert shared("intent", "slm-mesh/service/intent/request") == (
        "$share/intent/slm-mesh/service/intent/request"
    )
    assert shared("intent", "a/b", enabled=False) == "a/b"


@pytest.mark.parametrize(
    ("topic", "topic_filter", "expected"),
    [
        ("slm-mesh/ask", "slm-mesh/ask", True),
        ("slm-mesh/event/satellite-lounge", "slm-mesh/event/#", True),
        ("slm-mesh/event/a/b", "slm-mesh/event/#", True),
        ("slm-mesh/status/intent/a1", "slm-mesh/status/+/+", True),
        ("slm-mesh/status/intent", "slm-mesh/status/+/+", False),
        ("slm-mesh/ask", "slm-mesh/results", False),
        ("slm-mesh/service/intent/request", "$share/intent/slm-mesh/service/intent/request", True),
        ("slm-mesh/event/x", "$share/router/slm-mesh/event/#", True),
        ("other/event/x", "$share/router/slm-mesh/event/#", False),
    ],
)
def test_matches_plain_and_shared_filters(topic: str, topic_filter: str, expected: bool) -> None:
    assert matches(topic, topic_filter) is expected


def test_a_json_object_payload_is_parsed() -> None:
    body = parse_payload(_message(json.dumps({"text": "lights off ☀"}).encode()))
    assert body == {"text": "lights off ☀"}


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"\xff\xfe{}", "not UTF-8"),
        (b"lights off", "not JSON"),
        (b"", "not JSON"),
        (b'["lights off"]', "JSON object"),
        (b'"lights off"', "JSON object"),
        (b"null", "JSON object"),
        (b'{"text": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}', "byte limit"),
    ],
)
def test_unreadable_payloads_are_refused_saying_why(payload: bytes, why: str) -> None:
    with pytest.raises(InvalidRequestError, match=why) as refused:
        parse_payload(_message(payload))
    assert refused.value.field == "payload"


def test_mqtt5_properties_give_the_reply_address() -> None:
    message = _message(response_topic="slm-mesh/reply/c1", correlation=b"\x01\x02")
    body = {"response_topic": "elsewhere", "correlation_id": "ignored"}
    assert reply_address(message, body) == ReplyAddress("slm-mesh/reply/c1", b"\x01\x02")


def test_a_311_client_gives_the_reply_address_in_its_payload() -> None:
    body = {"response_topic": "slm-mesh/reply/esp32", "correlation_id": 42}
    assert reply_address(_message(), body) == ReplyAddress(
        "slm-mesh/reply/esp32", b"42", in_payload=True
    )


def test_a_payload_reply_address_may_leave_out_the_correlation() -> None:
    address = reply_address(_message(), {"response_topic": "slm-mesh/reply/esp32"})
    assert address == ReplyAddress("slm-mesh/reply/esp32", None, in_payload=True)


@pytest.mark.parametrize(
    "body",
    [
        None,
        {},
        {"response_topic": ""},
        {"response_topic": 5},
        {"response_topic": "slm-mesh/reply/#"},
        {"response_topic": "slm-mesh/+/x"},
        {"response_topic": "slm-mesh/reply/\0"},
    ],
)
def test_no_usable_reply_address_is_none(body: dict[str, object] | None) -> None:
    assert reply_address(_message(), body) is None


def test_the_correlation_comes_from_the_properties_first() -> None:
    assert correlation_of(_message(correlation=b"abc"), {"correlation_id": "x"}) == b"abc"
    assert correlation_of(_message(), {"correlation_id": "x"}) == b"x"
    assert correlation_of(_message(), {}) is None


def test_the_directory_counts_instances_online() -> None:
    directory = ServiceDirectory()
    assert directory.online("intent") == 0
    directory.apply("slm-mesh/status/intent/a1", b'{"state": "online"}')
    directory.apply("slm-mesh/status/intent/a2", b'{"state": "online"}')
    directory.apply("slm-mesh/status/intent/a2", b'{"state": "online"}')
    directory.apply("slm-mesh/status/sentiment/s1", b'{"state": "online"}')
    assert directory.online("intent") == 2
    assert directory.online("sentiment") == 1


@pytest.mark.parametrize(
    "payload",
    [b'{"state": "offline"}', b"", b"not json", b"[1, 2]", b"null", b"\xff", b'{"state": 1}'],
)
def test_an_offline_or_unreadable_status_takes_the_instance_offline(payload: bytes) -> None:
    directory = ServiceDirectory()
    directory.apply("slm-mesh/status/intent/a1", b'{"state": "online"}')
    directory.apply("slm-mesh/status/intent/a2", b'{"state": "online"}')
    directory.apply("slm-mesh/status/intent/a1", payload)
    assert directory.online("intent") == 1


def test_a_topic_too_short_for_a_status_is_ignored() -> None:
    directory = ServiceDirectory()
    directory.apply("intent/a1", b'{"state": "online"}')
    assert directory.online("intent") == 0
