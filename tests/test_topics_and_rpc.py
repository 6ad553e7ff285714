"""The topic tree, request payloads and reply addresses, and the service directory: pure."""

from __future__ import annotations

import json

import pytest

from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.kit.mqtt_face import status_body
from slm_mesh.services.router.directory import ServiceDirectory
from slm_mesh.services.runtime.json_payload import MAX_PAYLOAD_BYTES
from slm_mesh.services.runtime.mesh_key import MeshKey
from slm_mesh.services.runtime.mqtt import Message
from slm_mesh.services.runtime.mqtt_rpc import (
    ReplyAddress,
    ReplyTopics,
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
        (b"[" * 3000 + b"]" * 3000, "nested too deeply"),
        (b'{"a": ' * 3000 + b"1" + b"}" * 3000, "nested too deeply"),
        (b'{"n": ' + b"9" * 5000 + b"}", "not JSON"),
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


KEY = MeshKey(b"k" * 32)


def _status(topic: str, state: object, key: MeshKey = KEY) -> bytes:
    return status_body(key, topic, {"state": state}).encode()


def _apply(directory: ServiceDirectory, topic: str, state: object = "online") -> None:
    directory.apply(topic, _status(topic, state))


def test_the_directory_counts_instances_online() -> None:
    directory = ServiceDirectory(key=KEY)
    assert directory.online("intent") == 0
    _apply(directory, "slm-mesh/status/intent/a1")
    _apply(directory, "slm-mesh/status/intent/a2")
    _apply(directory, "slm-mesh/status/intent/a2")
    _apply(directory, "slm-mesh/status/sentiment/s1")
    assert directory.online("intent") == 2
    assert directory.online("sentiment") == 1


@pytest.mark.parametrize("state", ["offline", 1, None])
def test_a_signed_status_other_than_online_takes_the_instance_offline(state: object) -> None:
    directory = ServiceDirectory(key=KEY)
    _apply(directory, "slm-mesh/status/intent/a1")
    _apply(directory, "slm-mesh/status/intent/a2")
    _apply(directory, "slm-mesh/status/intent/a1", state)
    assert directory.online("intent") == 1


@pytest.mark.parametrize(
    "payload",
    [
        b'{"state": "online"}',
        b'{"state": "offline"}',
        b"",
        b"not json",
        b"\xff",
        b"[" * 3000 + b"]" * 3000,
        _status("slm-mesh/status/intent/a2", "offline"),  # signed for another topic
        _status("slm-mesh/status/intent/a1", "offline", MeshKey(b"x" * 32)),  # another key
    ],
)
def test_a_status_not_signed_with_the_mesh_key_changes_nothing(payload: bytes) -> None:
    directory = ServiceDirectory(key=KEY)
    _apply(directory, "slm-mesh/status/intent/a1")
    directory.apply("slm-mesh/status/intent/a1", payload)
    directory.apply("slm-mesh/status/summarize/evil-1", payload)
    assert (directory.online("intent"), directory.online("summarize")) == (1, 0)
    assert directory.ignored_statuses == 2


def test_the_allow_list_keeps_out_instances_it_does_not_name() -> None:
    directory = ServiceDirectory(key=KEY, allowed_instances=["intent-gw*"])
    _apply(directory, "slm-mesh/status/intent/intent-gw1-42")
    _apply(directory, "slm-mesh/status/intent/intent-laptop-7")
    assert directory.online("intent") == 1
    assert directory.allows("intent-gw2-1") and not directory.allows("intent-laptop-7")


def test_a_reply_counts_only_when_signed_for_its_request_by_an_allowed_instance() -> None:
    directory = ServiceDirectory(key=KEY, allowed_instances=["intent-*"])

    def reply(instance: str, *, key: MeshKey = KEY, for_request: bytes = b"c1") -> bool:
        data = key.seal(json.dumps({"instance": instance, "text": "hi"}), context=for_request)
        message = Message(topic="slm-mesh/reply/r", payload=data.encode(), correlation=b"c1")
        return directory.accepts_reply(message, json.loads(data))

    assert reply("intent-a")
    assert not reply("evil-1")
    assert not reply("intent-a", key=MeshKey(b"x" * 32))
    assert not reply("intent-a", for_request=b"c2")


def test_a_topic_too_short_for_a_status_is_ignored() -> None:
    directory = ServiceDirectory(key=KEY)
    _apply(directory, "intent/a1")
    assert directory.online("intent") == 0


def test_reply_topics_allow_only_their_filters() -> None:
    replies = ReplyTopics(filters=("slm-mesh/reply/#", "hermes/dialogueManager/+"))
    assert replies.allows("slm-mesh/reply/phone")
    assert replies.allows("hermes/dialogueManager/sessionEnded")
    for topic in ("zigbee2mqtt/front_lock/set", "slm-mesh/results", "slm-mesh/reply/#", "$SYS/x"):
        assert not replies.allows(topic), topic


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_are_not_json(constant: bytes) -> None:
    with pytest.raises(InvalidRequestError, match="not JSON"):
        parse_payload(_message(b'{"sent_at": ' + constant + b"}"))
