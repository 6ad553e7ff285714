"""Malformed payloads through a real broker: an error answer where a reply address exists,
a counted drop where none does, and the mesh keeps serving."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from brokers import Device, MeshThread
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slm_mesh.services.runtime.mqtt import BrokerUrl, MqttClient
from slm_mesh.services.runtime.topics import Topics

pytestmark = pytest.mark.integration

HUGE = json.dumps({"text": "lights off " * 7000}).encode()
MALFORMED = {
    "not JSON": b"lights off",
    "JSON but a list": b'["lights off"]',
    "JSON but a string": b'"lights off"',
    "text not a string": json.dumps({"text": 5}).encode(),
    "text missing": json.dumps({"area": "Lounge"}).encode(),
    "text empty": json.dumps({"text": "  "}).encode(),
    "area not a string": json.dumps({"text": "lights off", "area": ["Lounge"]}).encode(),
    "over 64 KiB": HUGE,
    "invalid UTF-8": b'{"text": "lights \xff\xfe off"}',
    "control characters": json.dumps({"text": "lights\u0000 off\u0007"}).encode(),
    "unknown area": json.dumps({"text": "lights off", "area": "Narnia"}).encode(),
}
SERVICE_REFUSES = ("text empty", "control characters", "unknown area")
"""Well-formed events the router passes on, which the intent service refuses."""
BAD_DEADLINES = ["soon", -5, 0, True, 10**9]


def topics_of(mesh: MeshThread) -> Topics:
    return Topics(prefix=mesh.settings.mqtt.prefix)


def with_device(mesh: MeshThread, scenario: Callable[[Device, Topics], Awaitable[None]]) -> None:
    """Run `scenario` with a device connected to the mesh's broker."""

    async def run() -> None:
        client = MqttClient(
            broker=BrokerUrl.parse(mesh.settings.mqtt.url or ""),
            client_id=f"device-{uuid.uuid4().hex[:8]}",
        )
        topics = topics_of(mesh)
        async with client, Device(client=client, reply_topic=topics.reply(client.client_id)) as d:
            await scenario(d, topics)

    asyncio.run(run())


async def one_reply(device: Device, topic: str, payload: bytes | dict[str, Any]) -> dict[str, Any]:
    correlation = await device.send(topic, payload)
    await device.wait_for_replies(10)
    await asyncio.sleep(0.05)  # a second reply, were there one, would be here by now
    replies = device.answers(correlation)
    assert len(replies) == 1, replies
    return replies[0]


async def until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


async def assert_still_serving(device: Device, topics: Topics) -> None:
    body = {"text": "lights off", "area": "Lounge"}
    answer = await one_reply(device, topics.event("satellite-lounge"), body)
    assert answer["error"] is None
    assert answer["intent"] == "HassTurnOff"


@pytest.mark.parametrize("payload", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_event_gets_an_error_answer(mesh: MeshThread, payload: bytes) -> None:
    async def scenario(device: Device, topics: Topics) -> None:
        answer = await one_reply(device, topics.event("satellite-lounge"), payload)
        assert answer["error"]["code"] == "invalid_request", answer
        assert answer["error"]["message"]
        await assert_still_serving(device, topics)

    with_device(mesh, scenario)


@pytest.mark.parametrize("deadline_ms", BAD_DEADLINES, ids=str)
def test_an_event_with_a_bad_deadline_gets_an_error_answer(
    mesh: MeshThread, deadline_ms: object
) -> None:
    async def scenario(device: Device, topics: Topics) -> None:
        body = {"text": "lights off", "deadline_ms": deadline_ms}
        answer = await one_reply(device, topics.event("satellite-lounge"), body)
        assert answer["error"]["code"] == "invalid_request", answer
        assert "deadline_ms" in answer["error"]["message"]

    with_device(mesh, scenario)


@pytest.mark.parametrize("payload", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_intent_request_gets_an_error_answer(mesh: MeshThread, payload: bytes) -> None:
    async def scenario(device: Device, topics: Topics) -> None:
        answer = await one_reply(device, topics.request("intent"), payload)
        assert answer["error"]["code"] == "invalid_request", answer
        good = await one_reply(device, topics.request("intent"), {"text": "lights off"})
        assert good["intent"] == "HassTurnOff"

    with_device(mesh, scenario)


@pytest.mark.parametrize("requests", [[], "lights off", [{"text": "a"}] * 65, [{"text": 1}]])
def test_a_bad_intent_batch_gets_an_error_answer(mesh: MeshThread, requests: object) -> None:
    async def scenario(device: Device, topics: Topics) -> None:
        answer = await one_reply(device, topics.request("intent"), {"requests": requests})
        assert answer["error"]["code"] == "invalid_request", answer

    with_device(mesh, scenario)


def test_a_reply_address_in_the_payload_gets_the_error_with_its_correlation(
    mesh: MeshThread,
) -> None:
    async def scenario(device: Device, topics: Topics) -> None:
        body = {"text": 5, "response_topic": device.reply_topic, "correlation_id": "c-7"}
        await device.send(topics.event("mcu"), body, reply=False)
        await until(lambda: b"c-7" in device.replies)
        (answer,) = device.answers(b"c-7")
        assert answer["correlation_id"] == "c-7"
        assert answer["error"]["code"] == "invalid_request"

    with_device(mesh, scenario)


def test_bad_events_without_a_reply_address_are_counted_and_dropped(mesh: MeshThread) -> None:
    assert mesh.router is not None
    router = mesh.router

    async def scenario(device: Device, topics: Topics) -> None:
        dropped, errors = router.counts.dropped, router.counts.errors
        for payload in MALFORMED.values():
            await device.send(topics.event("satellite-lounge"), payload, reply=False)
        # The intent service refuses what the router's edge lets through: those errors
        # still go to the results topic.
        refused_by_intent = len(SERVICE_REFUSES)
        await until(lambda: router.counts.errors == errors + refused_by_intent)
        assert router.counts.dropped == dropped + len(MALFORMED) - refused_by_intent
        await assert_still_serving(device, topics)
        assert not device.replies.keys() - device.sent.keys()

    with_device(mesh, scenario)


def test_bad_intent_requests_without_a_reply_address_are_counted_and_dropped(
    mesh: MeshThread,
) -> None:
    assert mesh.intent is not None
    intent = mesh.intent

    async def scenario(device: Device, topics: Topics) -> None:
        before = intent.counts.dropped
        for payload in MALFORMED.values():
            await device.send(topics.request("intent"), payload, reply=False)
        await until(lambda: intent.counts.dropped >= before + len(MALFORMED))
        await assert_still_serving(device, topics)

    with_device(mesh, scenario)


# Random payloads: each one with a reply address gets exactly one reply.

_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
_requests = st.fixed_dictionaries(
    {},
    optional={
        "text": st.sampled_from(["lights off", "boil the kettle", ""]) | st.text() | _json,
        "area": st.sampled_from(["Lounge", "Kitchen", "Narnia"]) | _json,
        "deadline_ms": st.integers(-10, 20_000) | st.floats() | _json,
        "task": st.sampled_from(["intent", "summarize", "poetry"]) | _json,
        "context": st.fixed_dictionaries({}, optional={"area": _json}) | _json,
        "requests": st.lists(st.fixed_dictionaries({"text": st.text() | _json}), max_size=3),
    },
)


def _without_id(value: Any) -> Any:
    """A request id makes a second equal request a duplicate, answered once by design."""
    return {k: v for k, v in value.items() if k != "id"} if isinstance(value, dict) else value


_payloads = st.one_of(
    st.binary(max_size=80),
    _json.map(lambda v: json.dumps(_without_id(v)).encode()),
    _requests.map(lambda v: json.dumps(v).encode()),
)


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batch=st.lists(st.tuples(st.booleans(), _payloads), min_size=30, max_size=80))
def test_random_payloads_each_get_exactly_one_reply(
    mesh: MeshThread, batch: list[tuple[bool, bytes]]
) -> None:
    async def scenario(device: Device, topics: Topics) -> None:
        for to_router, payload in batch:
            topic = topics.event("fuzz") if to_router else topics.request("intent")
            await device.send(topic, payload)
        await device.wait_for_replies(15)
        await asyncio.sleep(0.05)
        tally = device.tally(deadline_s=15)
        assert (tally.lost, tally.doubled, tally.stray) == (0, 0, 0), tally
        internal = [
            body for body in map(device.answers, device.sent) if "internal" in json.dumps(body)
        ]
        assert not internal, internal
        await assert_still_serving(device, topics)

    with_device(mesh, scenario)
