"""Frames to the router's JSON and its answers back to frames; the bridge's topics (pure)."""

from __future__ import annotations

import pytest

from slm_mesh.firmware_bridge.frames import FrameError
from slm_mesh.firmware_bridge.topics import BridgeTopics
from slm_mesh.firmware_bridge.translate import (
    MAX_ANSWER_BYTES,
    answer_from_reply,
    button_json,
    check_event,
    router_event,
    sensor_json,
)
from slm_mesh.services.router.request import parse_request
from slm_mesh.v1.bridge_pb2 import Button, Event, Frame, Sensor

NOW = 1_764_370_000.0


def event(**fields: object) -> Frame:
    return Frame(version=1, device="esp32-lounge", seq=17, event=Event(**fields))  # type: ignore[arg-type]


def test_a_text_event_is_the_routers_device_event() -> None:
    frame = event(text="lights off", area="Lounge")
    frame.timestamp_ms = int((NOW - 0.25) * 1000)
    body = router_event(frame, session=3, deadline_ms=4000, wall_now=NOW)
    assert body == {
        "text": "lights off",
        "device": "esp32-lounge",
        "id": "esp32-lounge/3/17",
        "deadline_ms": 4000,
        "area": "Lounge",
        "sent_at": NOW - 0.25,
    }
    request = parse_request(body)
    assert (request.text, request.device, request.area, request.id) == (
        "lights off",
        "esp32-lounge",
        "Lounge",
        "esp32-lounge/3/17",
    )


def test_a_clock_that_is_not_in_time_is_not_believed() -> None:
    frame = event(text="lights off")
    frame.timestamp_ms = 12_000  # milliseconds since boot, sent as if a time
    assert "sent_at" not in router_event(frame, session=1, deadline_ms=5000, wall_now=NOW)


def test_buttons_and_sensors_become_their_topics_json() -> None:
    button = event(button=Button(name="a", press=Button.PRESS_LONG))
    assert button_json(button, session=2, wall_now=NOW) == {
        "device": "esp32-lounge",
        "button": "a",
        "press": "long",
        "id": "esp32-lounge/2/17",
        "at": NOW,
    }
    sensor = event(sensor=Sensor(name="temperature", value=21.5, unit="°C"), area="Lounge")
    assert sensor_json(sensor, session=2, wall_now=NOW) == {
        "device": "esp32-lounge",
        "sensor": "temperature",
        "value": 21.5,
        "unit": "°C",
        "id": "esp32-lounge/2/17",
        "at": NOW,
        "area": "Lounge",
    }


@pytest.mark.parametrize(
    "fields",
    [
        {"text": "  "},
        {"text": "x" * 601},
        {"text": "ok", "area": "x" * 201},
        {"button": Button(name="a/b")},
        {"sensor": Sensor(name="t", value=float("nan"))},
        {"area": "Lounge"},
    ],
)
def test_an_event_the_mesh_cannot_take_is_refused(fields: dict[str, object]) -> None:
    with pytest.raises(FrameError, match="body"):
        check_event(event(**fields))


def test_the_routers_answer_becomes_an_answer_frame() -> None:
    reply = {
        "intent": "HassLightSet",
        "slots": {"name": "Desk Lamp", "brightness": 40, "on": True},
        "tier": "template",
        "confidence": 1.0,
        "answer": None,
        "error": None,
    }
    answer = answer_from_reply(reply, seq=17)
    assert answer.seq == 17
    assert answer.intent == "HassLightSet"
    assert dict(answer.slots) == {"name": "Desk Lamp", "brightness": "40", "on": "true"}
    assert (answer.tier, answer.confidence, answer.error, answer.text) == ("template", 1.0, "", "")


def test_an_error_answer_carries_its_code_and_message() -> None:
    reply = {"error": {"code": "deadline_exceeded", "message": "too late"}, "answer": None}
    answer = answer_from_reply(reply, seq=1)
    assert (answer.error, answer.text) == ("deadline_exceeded", "too late")


def test_a_long_answer_is_cut_to_fit_one_frame() -> None:
    reply = {"answer": "é" * 2000, "slots": {f"s{n}": "v" * 100 for n in range(20)}}
    answer = answer_from_reply(reply, seq=1)
    assert answer.ByteSize() <= MAX_ANSWER_BYTES
    assert len(answer.slots) == 8 and answer.text.startswith("éé")


def test_command_topics_name_a_device_and_a_command() -> None:
    topics = BridgeTopics(prefix="home")
    assert topics.command() == "home/device/+/command/+"
    assert topics.command_target("home/device/esp32/command/relay") == ("esp32", "relay")
    assert topics.command_target("home/device/esp32/status") is None
    assert topics.command_target("home/device/esp32/command/a/b") is None
    assert topics.command_target("other/device/esp32/command/relay") is None
    assert topics.status("esp32") == "home/device/esp32/status"
    assert topics.sensor("esp32", "t") == "home/device/esp32/sensor/t"
