"""Event digests: grouped, counted, time-ordered sentences that name the events they count."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest

from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.summarizer import EventError, digest

DAY = datetime.fromisoformat("2024-05-01T00:00:00+02:00")


def at(hours: float) -> str:
    return (DAY + timedelta(hours=hours)).isoformat()


def test_the_example_day_reads_as_short_grounded_sentences() -> None:
    door = {"entity": "binary_sensor.front_door", "name": "Front door", "state": "on"}
    events = [
        {"time": at(8.05), **door},
        {"time": at(3.2), "entity": "binary_sensor.garage_motion", "area": "garage", "state": "on"},
        {"time": at(12), **door},
        {"time": at(10 + 40 / 60), "entity": "sensor.washer", "name": "Washer", "state": "done"},
        {"time": at(17.5), **door},
    ]
    result = digest(events)
    assert [(s.text, s.events) for s in result.sentences] == [
        ("Motion was detected in the garage at 03:12.", (1,)),
        ("Front door opened 3 times between 08:03 and 17:30.", (0, 2, 4)),
        ("Washer finished at 10:40.", (3,)),
    ]
    assert result.since == DAY + timedelta(hours=3.2)
    assert result.omitted == 0
    assert result.text.startswith("Motion was detected in the garage at 03:12. Front door")


def test_states_read_by_kind_of_device() -> None:
    events = [
        {"time": at(1), "entity": "lock.back_door", "state": "unlocked"},
        {"time": at(2), "entity": "light.kitchen", "state": "on"},
        {"time": at(3), "entity": "cover.garage_door", "state": "closed"},
        {"time": at(4), "entity": "binary_sensor.kitchen_leak", "state": "on"},
        {"time": at(5), "entity": "climate.hall", "attribute": "hvac_mode", "value": "heat"},
        {"time": at(6), "entity": "sensor.outdoor_temperature", "state": "12.5"},
        {"time": at(7), "entity": "sensor.outdoor_temperature", "state": 9},
        {"time": at(8), "entity": "switch.pump", "state": True},
        {"time": at(9), "entity": "vacuum.roomba", "name": "Robot", "state": "docked"},
    ]
    assert [s.text for s in digest(events).sentences] == [
        "Back door lock was unlocked at 01:00.",
        "Kitchen light was turned on at 02:00.",
        "Garage door closed at 03:00.",
        "Kitchen leak detected a leak at 04:00.",
        "Hall hvac mode was set to heat at 05:00.",
        "Outdoor temperature was between 9 and 12.5 (2 readings from 06:00 to 07:00).",
        "Pump switch was turned on at 08:00.",
        "Robot was docked at 09:00.",
    ]


def test_events_over_several_days_carry_the_weekday() -> None:
    events = [
        {"time": at(22), "entity": "binary_sensor.back_door", "state": "on"},
        {"time": at(26), "entity": "binary_sensor.back_door", "state": "on"},
    ]
    [sentence] = digest(events).sentences
    assert sentence.text == "Back door opened 2 times between Wed 22:00 and Thu 02:00."


def generated_day(seed: int) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """A day of a home's events in shuffled order, and how many of each kind it holds."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    counts = {"door": rng.randint(2, 12), "motion": rng.randint(1, 30), "light": rng.randint(1, 6)}
    for _ in range(counts["door"]):
        events.append(
            {"time": at(rng.uniform(6, 23)), "entity": "binary_sensor.front_door", "state": "on"}
        )
        events.append(
            {"time": at(rng.uniform(6, 23)), "entity": "binary_sensor.front_door", "state": "off"}
        )
    for _ in range(counts["motion"]):
        events.append(
            {"time": at(rng.uniform(0, 23.9)), "entity": "binary_sensor.garage_motion",
             "area": "garage", "state": "on"}
        )  # fmt: skip
    for _ in range(counts["light"]):
        events.append({"time": at(rng.uniform(17, 23)), "entity": "light.porch", "state": "on"})
    for hour in range(24):
        events.append(
            {"time": at(hour), "entity": "sensor.hall_temperature", "state": f"{18 + hour % 5}.5"}
        )
    events.append({"time": at(10.5), "entity": "sensor.washer", "state": "finished"})
    rng.shuffle(events)
    return events, counts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_generated_day_is_counted_exactly(seed: int) -> None:
    events, counts = generated_day(seed)
    result = digest(events)
    by_start = {s.text.split(" at ")[0].split(" between ")[0]: s for s in result.sentences}

    def times(entity: str, state: object) -> set[int]:
        return {i for i, e in enumerate(events) if e["entity"] == entity and e["state"] == state}

    expected = {
        "Front door opened": times("binary_sensor.front_door", "on"),
        "Front door closed": times("binary_sensor.front_door", "off"),
        "Motion was detected in the garage": times("binary_sensor.garage_motion", "on"),
        "Porch light was turned on": times("light.porch", "on"),
        "Washer finished": times("sensor.washer", "finished"),
    }
    for start, indexes in expected.items():
        [sentence] = [s for text, s in by_start.items() if text.startswith(start)]
        assert set(sentence.events) == indexes
        if len(indexes) > 1:
            assert f"{start} {len(indexes)} times between" in sentence.text
    assert len(expected["Front door opened"]) == counts["door"]
    assert len(expected["Motion was detected in the garage"]) == counts["motion"]
    [readings] = [s for s in result.sentences if s.text.startswith("Hall temperature")]
    assert (
        readings.text
        == "Hall temperature was between 18.5 and 22.5 (24 readings from 00:00 to 23:00)."
    )
    every = sorted(i for s in result.sentences for i in s.events)
    assert every == list(range(len(events)))  # each event in exactly one sentence
    firsts = [
        min(datetime.fromisoformat(events[i]["time"]) for i in s.events) for s in result.sentences
    ]
    assert firsts == sorted(firsts)


def test_over_budget_alarms_and_doors_are_kept_before_lights_and_readings() -> None:
    events, _ = generated_day(1)
    events.append({"time": at(4), "entity": "binary_sensor.kitchen_smoke", "state": "on"})
    result = digest(events, max_sentences=2)
    assert [s.text.split(" ")[:2] for s in result.sentences] == [
        ["Kitchen", "smoke"],
        ["Front", "door"],
    ]
    assert result.omitted == 5
    short = digest(events, max_chars=60)
    assert len(short.text) <= 60 and short.sentences


def test_no_events_give_an_empty_digest() -> None:
    assert digest([]).sentences == () and digest([]).since is None


@pytest.mark.parametrize(
    ("event", "field", "message"),
    [
        ("door opened", "events[1]", "is a str, not a JSON object"),
        ({"entity": "light.a", "state": "on"}, "events[1].time", "needs a time"),
        ({"time": "yesterday", "entity": "light.a", "state": "on"},
         "events[1].time", "not ISO 8601"),
        ({"time": "2024-05-01T08:00:00+02:00", "entity": "Front Door", "state": "on"},
         "events[1].entity", "no entity id"),
        ({"time": "2024-05-01T08:00:00+02:00", "entity": "light.a"}, "events[1].state", "either"),
        ({"time": "2024-05-01T08:00:00+02:00", "entity": "light.a", "state": "on",
          "attribute": "brightness", "value": 3}, "events[1].state", "not both"),
        ({"time": "2024-05-01T08:00:00+02:00", "entity": "light.a", "attribute": "brightness"},
         "events[1].value", "no value"),
        ({"time": "2024-05-01T08:00:00+02:00", "entity": "light.a", "state": ""},
         "events[1].state", "non-empty"),
        ({"time": "2024-05-01T08:00:00+02:00", "entity": "light.a", "state": "on", "name": 3},
         "events[1].name", "non-empty string"),
        ({"time": "2024-05-01T08:00:00", "entity": "light.a", "state": "on"},
         "events[1].time", "UTC offset"),
    ],
)  # fmt: skip
def test_a_malformed_event_is_an_error_naming_its_index_and_field(
    event: Any, field: str, message: str
) -> None:
    good = {"time": "2024-05-01T07:00:00+02:00", "entity": "light.a", "state": "off"}
    with pytest.raises(EventError, match=message) as caught:
        digest([good, event])
    assert caught.value.field == field and caught.value.index == 1
    assert str(caught.value).startswith(field)


def test_a_budget_below_one_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="max_sentences must be at least 1"):
        digest([], max_sentences=0)
