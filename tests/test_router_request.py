"""Router requests: what the edge accepts, and what it refuses naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.router.request import MAX_DEADLINE_MS, parse_request, with_deadline


def test_only_text_is_required_and_the_rest_defaults() -> None:
    request = parse_request({"text": "lights off"})
    assert request.text == "lights off"
    assert request.task is None
    assert (request.site, request.device, request.area) == (None, None, None)
    assert request.deadline_s is None
    assert len(request.id) == 16


def test_every_request_without_an_id_gets_its_own() -> None:
    assert parse_request({"text": "a"}).id != parse_request({"text": "a"}).id


def test_fields_are_taken_as_given() -> None:
    request = parse_request({
        "text": "summarize: the meeting ran long",
        "id": "req-1",
        "task": "summarize",
        "site": "home",
        "device": "satellite-study",
        "area": "Study",
        "deadline_ms": 2500,
    })  # fmt: skip
    assert request.id == "req-1"
    assert request.task == "summarize"
    assert request.context_json() == {"site": "home", "device": "satellite-study", "area": "Study"}
    assert request.deadline_s == 2.5


def test_context_area_is_accepted_as_the_ask_command_writes_it() -> None:
    request = parse_request({"text": "lights off", "context": {"area": "Kitchen", "site": "flat"}})
    assert request.area == "Kitchen"
    assert request.site == "flat"


def test_a_top_level_area_wins_over_the_context_one() -> None:
    request = parse_request({"text": "x", "area": "Study", "context": {"area": "Kitchen"}})
    assert request.area == "Study"


def test_the_device_comes_from_the_topic_when_the_body_has_none() -> None:
    assert parse_request({"text": "x"}, device="satellite-lounge").device == "satellite-lounge"
    named = parse_request({"text": "x", "device": "panel"}, device="satellite-lounge")
    assert named.device == "panel"


def test_empty_optional_strings_count_as_absent() -> None:
    request = parse_request({"text": "x", "area": "", "id": ""})
    assert request.area is None
    assert request.id


def test_a_fractional_deadline_is_kept() -> None:
    assert parse_request({"text": "x", "deadline_ms": 12.5}).deadline_s == pytest.approx(0.0125)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "text"),
        ({"text": 42}, "text"),
        ({"text": None}, "text"),
        ({"text": "x", "context": "Kitchen"}, "context"),
        ({"text": "x", "task": "translate"}, "task"),
        ({"text": "x", "task": ""}, "task"),
        ({"text": "x", "deadline_ms": True}, "deadline_ms"),
        ({"text": "x", "deadline_ms": 0}, "deadline_ms"),
        ({"text": "x", "deadline_ms": -5}, "deadline_ms"),
        ({"text": "x", "deadline_ms": MAX_DEADLINE_MS + 1}, "deadline_ms"),
        ({"text": "x", "deadline_ms": float("inf")}, "deadline_ms"),
        ({"text": "x", "deadline_ms": float("nan")}, "deadline_ms"),
        ({"text": "x", "deadline_ms": "5000"}, "deadline_ms"),
        ({"text": "x", "area": 3}, "area"),
        ({"text": "x", "site": ["home"]}, "site"),
        ({"text": "x", "device": "d" * 201}, "device"),
        ({"text": "x", "id": 7}, "id"),
        ({"text": "x", "context": {"area": 3}}, "area"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        parse_request(body)
    assert refused.value.field == field
    assert field in str(refused.value)


def test_the_longest_deadline_is_accepted() -> None:
    request = parse_request({"text": "x", "deadline_ms": MAX_DEADLINE_MS})
    assert request.deadline_s == MAX_DEADLINE_MS / 1000


def _due(body: dict[str, Any], *, expiry_s: int | None = None) -> float | None:
    """The deadline (monotonic) of a request that reached the mesh at 50.0 and is read
    at 50.5, when the wall clock says 1000.5."""
    request = with_deadline(
        parse_request(body),
        default_s=5.0,
        received_at=50.0,
        expiry_s=expiry_s,
        now=50.5,
        wall_now=1000.5,
    )
    return request.deadline_at


def test_the_deadline_counts_from_arrival_at_the_mesh_not_from_reading_it() -> None:
    assert _due({"text": "x", "deadline_ms": 2000}) == 52.0
    assert _due({"text": "x"}) == 55.0


def test_the_deadline_counts_from_the_send_time_a_request_gives() -> None:
    assert _due({"text": "x", "deadline_ms": 2000, "sent_at": 999.5}) == 50.5 - 1.0 + 2.0
    # A sender's clock ahead of ours cannot stretch the deadline.
    assert _due({"text": "x", "deadline_ms": 2000, "sent_at": 1010.0}) == 52.0


def test_the_mqtt_expiry_bounds_the_deadline() -> None:
    assert _due({"text": "x", "deadline_ms": 5000}, expiry_s=1) == 51.0


@pytest.mark.parametrize("sent_at", ["yesterday", True, -1, 0, [1]])
def test_a_send_time_that_is_not_a_time_is_refused(sent_at: object) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        parse_request({"text": "x", "sent_at": sent_at})
    assert refused.value.field == "sent_at"
