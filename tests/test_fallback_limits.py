"""The fallback's guards, with injected clocks: breaker, budget and cache."""

from __future__ import annotations

import pytest

from slm_mesh.services.fallback import CallBudget, CircuitBreaker, ResponseCache, cache_key


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_consecutive_failures_only() -> None:
    breaker = CircuitBreaker(failure_threshold=3, reset_after_s=30, clock=Clock())
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    # One comparison, not `==` then `and`: mypy would hold `state` at "closed" from then on.
    assert (breaker.state, breaker.allow()) == ("closed", True)
    breaker.record_failure()
    assert breaker.state == "open"
    assert not breaker.allow()


def test_breaker_lets_one_trial_through_after_cooldown_and_closes_on_success() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, reset_after_s=30, clock=clock)
    breaker.record_failure()
    clock.now += 29.9
    assert not breaker.allow()
    clock.now += 0.1
    assert (breaker.state, breaker.allow()) == ("half_open", True)
    assert not breaker.allow(), "only one trial at a time"
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow()


def test_breaker_reopens_when_the_trial_fails() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=3, reset_after_s=10, clock=clock)
    for _ in range(3):
        breaker.record_failure()
    clock.now += 10
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open"
    clock.now += 9
    assert not breaker.allow()
    clock.now += 1
    assert breaker.allow()


def test_breaker_refuses_a_threshold_below_one() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker(failure_threshold=0)


def test_budget_refuses_past_the_minute_limit_and_recovers_a_minute_later() -> None:
    clock = Clock()
    budget = CallBudget(per_minute=2, per_day=10, clock=clock)
    for _ in range(2):
        assert budget.refusal() is None
        budget.spend()
    assert budget.refusal() == "budget spent: 2/min"
    assert budget.state() == {
        "minute_used": 2,
        "minute_remaining": 0,
        "day_used": 2,
        "day_remaining": 8,
    }
    clock.now += 60
    assert budget.refusal() is None
    assert budget.state()["minute_used"] == 0


def test_budget_refuses_past_the_day_limit_until_the_oldest_call_is_a_day_old() -> None:
    clock = Clock()
    budget = CallBudget(per_minute=5, per_day=3, clock=clock)
    for _ in range(3):
        budget.spend()
        clock.now += 61
    assert budget.refusal() == "budget spent: 3/day"
    clock.now = 1000.0 + 86_400
    assert budget.refusal() is None
    assert budget.state()["day_used"] == 2


def test_a_zero_budget_allows_nothing() -> None:
    assert CallBudget(per_minute=0, per_day=100).refusal() == "budget spent: 0/min"


def test_cache_key_ignores_case_spacing_and_end_punctuation() -> None:
    assert cache_key("  What TIME is it? ", "Kitchen") == cache_key("what time is it", "kitchen")
    assert cache_key("what time is it", "Kitchen") != cache_key("what time is it", None)


def test_cache_forgets_after_its_ttl() -> None:
    clock = Clock()
    cache: ResponseCache[str] = ResponseCache(max_entries=4, ttl_s=5, clock=clock)
    cache.put(("a", None), "one")
    clock.now += 4.9
    assert cache.get(("a", None)) == "one"
    clock.now += 0.1
    assert cache.get(("a", None)) is None
    assert len(cache) == 0


def test_cache_evicts_the_least_recently_used() -> None:
    cache: ResponseCache[int] = ResponseCache(max_entries=2, ttl_s=60, clock=Clock())
    cache.put(("a", None), 1)
    cache.put(("b", None), 2)
    assert cache.get(("a", None)) == 1
    cache.put(("c", None), 3)
    assert cache.get(("b", None)) is None
    assert cache.get(("a", None)) == 1 and cache.get(("c", None)) == 3


def test_a_cache_of_size_zero_stores_nothing() -> None:
    cache: ResponseCache[int] = ResponseCache(max_entries=0, ttl_s=60)
    cache.put(("a", None), 1)
    assert cache.get(("a", None)) is None
