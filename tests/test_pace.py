"""Pace: a lone request may skip the queue; requests back to back may not."""

from __future__ import annotations

import pytest

from slm_mesh.services.kit.pace import Pace


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_requests_one_at_a_time_with_room_between_come_alone() -> None:
    clock = Clock()
    pace = Pace(back_to_back_s=0.001, memory_s=0.05, clock=clock)
    for _ in range(3):
        assert pace.arrive()
        clock.now += 0.002  # the work
        pace.leave()
        clock.now += 0.002  # the caller's round trip


def test_a_request_that_finds_another_in_flight_is_load_and_load_is_remembered() -> None:
    clock = Clock()
    pace = Pace(back_to_back_s=0.001, memory_s=0.05, clock=clock)
    assert pace.arrive()
    assert not pace.arrive()
    pace.leave()
    pace.leave()
    clock.now += 0.01
    assert not pace.arrive()  # alone, but within the memory of the load
    pace.leave()
    clock.now += 0.06
    assert pace.arrive()


def test_a_request_right_after_the_last_one_finished_is_load() -> None:
    clock = Clock()
    pace = Pace(back_to_back_s=0.001, memory_s=0.05, clock=clock)
    assert pace.arrive()
    pace.leave()
    clock.now += 0.0002  # it was already waiting
    assert not pace.arrive()


def test_negative_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        Pace(back_to_back_s=-1)
