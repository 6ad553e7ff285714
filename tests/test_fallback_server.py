"""The fallback against a real HTTP server on loopback: good answers, an invented
entity, and a server that is down, slow, broken or talking nonsense."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from fallback_server import FakeLlmServer, Mode, free_port
from pydantic import SecretStr

from slm_mesh.services.contracts.text import CANNOT_HELP
from slm_mesh.services.fallback import (
    CallBudget,
    ChatClient,
    CircuitBreaker,
    FallbackAnswer,
    FallbackConfig,
    LlmFallback,
    ResponseCache,
)
from slm_mesh.services.home.model import Home, parse_home

pytestmark = pytest.mark.integration

HOME = parse_home("""
areas:
  - {name: Kitchen, id: kitchen}
entities:
  - {name: Pendant, id: light.kitchen_pendant, area: kitchen}
""")
TURN_ON = {
    "kind": "intent",
    "intent": "HassTurnOn",
    "slots": {"name": "pendant", "area": None},
    "answer": None,
}
TIMEOUT_S = 0.2


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_fallback(
    url: str,
    *,
    home: Home = HOME,
    clock: Clock | None = None,
    per_minute: int = 100,
    api_key: SecretStr | None = None,
    threshold: int = 2,
) -> LlmFallback:
    return LlmFallback(
        client=ChatClient(base_url=url, model="tiny", api_key=api_key),
        home=home,
        breaker=CircuitBreaker(
            failure_threshold=threshold, reset_after_s=30, clock=clock or Clock()
        ),
        budget=CallBudget(per_minute=per_minute, per_day=1000),
        cache=ResponseCache(max_entries=16, ttl_s=60),
        timeout_s=TIMEOUT_S,
    )


def run(fallback: LlmFallback, test: Callable[[LlmFallback], Awaitable[None]]) -> None:
    async def body() -> None:
        try:
            await test(fallback)
        finally:
            await fallback.aclose()

    asyncio.run(body())


async def timed_ask(fallback: LlmFallback, text: str, **kwargs: Any) -> FallbackAnswer:
    """An answer well before the request's 5 s deadline: a cannot-help must not hang (the
    bound is loose, for a loaded machine; the fallback's own timeout is 0.2 s)."""
    async with asyncio.timeout(4.0):
        return await fallback.ask(text, area=kwargs.pop("area", None), deadline_s=5.0, **kwargs)


def test_a_good_intent_comes_back_checked_against_the_home() -> None:
    with FakeLlmServer(mode="intent", reply=TURN_ON) as server:

        async def test(fallback: LlmFallback) -> None:
            answer = await timed_ask(fallback, "switch on the hanging light", area="Kitchen")
            assert answer.kind == "intent" and answer.result is not None
            assert answer.result.intent == "HassTurnOn"
            assert answer.result.slots == {"name": "Pendant"}
            assert answer.result.tier == "llm"
            assert answer.breaker == "closed" and answer.budget is not None
            assert answer.budget["minute_used"] == 1

        run(make_fallback(server.url), test)
        (request,) = server.requests
        assert request.path == "/v1/chat/completions"
        assert request.body["model"] == "tiny"
        assert request.body["response_format"]["json_schema"]["strict"] is True
        assert "Pendant" in request.body["messages"][0]["content"]
        assert request.body["messages"][1] == {
            "role": "user",
            "content": "switch on the hanging light",
        }
        assert "authorization" not in {k.lower() for k in request.headers}


def test_the_api_key_is_sent_as_a_bearer_token() -> None:
    with FakeLlmServer(mode="intent", reply=TURN_ON) as server:

        async def test(fallback: LlmFallback) -> None:
            assert (await timed_ask(fallback, "lights on")).kind == "intent"

        run(make_fallback(server.url, api_key=SecretStr("sk-test")), test)
        assert server.requests[0].headers["Authorization"] == "Bearer sk-test"


def test_a_general_question_gets_the_models_text_answer_and_is_cached() -> None:
    reply: dict[str, Any] = {
        "kind": "answer",
        "intent": None,
        "slots": {},
        "answer": "Water boils at 100 °C.",
    }
    with FakeLlmServer(mode="answer", reply=reply) as server:

        async def test(fallback: LlmFallback) -> None:
            first = await timed_ask(fallback, "When does water boil?")
            assert first.kind == "answer"
            assert first.answer_text == "Water boils at 100 °C."
            again = await timed_ask(fallback, "when does water boil")
            assert again.kind == "answer" and again.reason == "cached"

        run(make_fallback(server.url), test)
        assert len(server.requests) == 1


def test_an_entity_the_home_does_not_have_is_never_acted_on() -> None:
    reply = {**TURN_ON, "slots": {"name": "Garage Door"}}
    with FakeLlmServer(mode="intent", reply=reply) as server:

        async def test(fallback: LlmFallback) -> None:
            answer = await timed_ask(fallback, "open the garage")
            assert answer.kind == "cannot_help" and answer.result is None
            assert answer.reason == "model named an entity the home does not have: Garage Door"
            assert answer.answer_text == CANNOT_HELP
            assert answer.breaker == "closed", "the server worked; the model was wrong"

        run(make_fallback(server.url), test)


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("slow", f"timeout after {TIMEOUT_S:.1f} s"),
        ("error500", "answered HTTP 500"),
        ("garbage", "not a chat completion"),
        ("wrong_schema", "not JSON"),
    ],
)
def test_a_failing_server_gets_a_quick_cannot_help(mode: Mode, reason: str) -> None:
    with FakeLlmServer(mode=mode, reply=TURN_ON) as server:

        async def test(fallback: LlmFallback) -> None:
            answer = await timed_ask(fallback, "lights on")
            assert answer.kind == "cannot_help"
            assert reason in answer.reason
            assert answer.answer_text == CANNOT_HELP

        run(make_fallback(server.url), test)


def test_a_server_that_is_down_opens_the_breaker() -> None:
    async def test(fallback: LlmFallback) -> None:
        first = await timed_ask(fallback, "lights on")
        assert first.kind == "cannot_help" and "cannot reach" in first.reason
        await timed_ask(fallback, "lights off")
        third = await timed_ask(fallback, "toggle the pendant")
        assert third.reason == "breaker open" and third.breaker == "open"
        assert third.budget is not None and third.budget["minute_used"] == 2

    run(make_fallback(f"http://127.0.0.1:{free_port()}/v1"), test)


def test_the_breaker_opens_then_a_successful_trial_after_the_cooldown_closes_it() -> None:
    clock = Clock()
    with FakeLlmServer(mode="error500", reply=TURN_ON) as server:

        async def test(fallback: LlmFallback) -> None:
            for text in ("one", "two"):
                assert (await timed_ask(fallback, text)).kind == "cannot_help"
            blocked = await timed_ask(fallback, "three")
            assert blocked.reason == "breaker open"
            assert len(server.requests) == 2, "no request reaches the server while open"

            clock.now += 30
            server.mode = "intent"
            trial = await timed_ask(fallback, "turn on the pendant")
            assert trial.kind == "intent" and trial.breaker == "closed"
            assert len(server.requests) == 3

        run(make_fallback(server.url, clock=clock), test)


def test_a_failed_trial_opens_the_breaker_again() -> None:
    clock = Clock()
    with FakeLlmServer(mode="garbage") as server:

        async def test(fallback: LlmFallback) -> None:
            for text in ("one", "two"):
                await timed_ask(fallback, text)
            clock.now += 30
            trial = await timed_ask(fallback, "three")
            assert "not a chat completion" in trial.reason and trial.breaker == "open"
            assert (await timed_ask(fallback, "four")).reason == "breaker open"
            assert len(server.requests) == 3

        run(make_fallback(server.url, clock=clock), test)


def test_a_spent_budget_answers_without_a_call() -> None:
    with FakeLlmServer(mode="intent", reply=TURN_ON) as server:

        async def test(fallback: LlmFallback) -> None:
            assert (await timed_ask(fallback, "pendant on")).kind == "intent"
            answer = await timed_ask(fallback, "pendant off")
            assert answer.kind == "cannot_help" and answer.reason == "budget spent: 1/min"
            assert answer.budget == {
                "minute_used": 1,
                "minute_remaining": 0,
                "day_used": 1,
                "day_remaining": 999,
            }

        run(make_fallback(server.url, per_minute=1), test)
        assert len(server.requests) == 1


def test_the_deadline_shortens_the_timeout() -> None:
    with FakeLlmServer(mode="slow") as server:

        async def test(fallback: LlmFallback) -> None:
            answer = await fallback.ask("lights on", deadline_s=0.1)
            assert answer.reason == "timeout after 0.1 s"
            late = await fallback.ask("lights off", deadline_s=0.0)
            assert late.kind == "cannot_help" and late.reason.startswith("no time left")

        run(make_fallback(server.url), test)
        assert len(server.requests) == 1


def test_a_call_cancelled_from_outside_counts_against_the_server() -> None:
    with FakeLlmServer(mode="slow") as server:

        async def test(fallback: LlmFallback) -> None:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(fallback.ask("lights on", deadline_s=5.0), 0.05)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(fallback.ask("lights off", deadline_s=5.0), 0.05)
            assert (await timed_ask(fallback, "pendant on")).reason == "breaker open"

        run(make_fallback(server.url), test)
        assert len(server.requests) == 2


def test_from_config_builds_a_working_fallback() -> None:
    with FakeLlmServer(mode="intent", reply=TURN_ON) as server:
        config = FallbackConfig.from_values(base_url=server.url, model="tiny", timeout_s=1.0)

        async def test(fallback: LlmFallback) -> None:
            answer = await fallback.ask("pendant on", area=None, deadline_s=1.0)
            assert answer.kind == "intent"
            assert answer.as_json()["result"]["slots"] == {"name": "Pendant"}

        run(LlmFallback.from_config(config, HOME), test)


def test_a_text_over_the_limit_is_not_sent() -> None:
    with FakeLlmServer(mode="intent", reply=TURN_ON) as server:

        async def test(fallback: LlmFallback) -> None:
            answer = await fallback.ask("summarize: " + "x" * 5000, deadline_s=5.0)
            assert answer.kind == "cannot_help"
            assert answer.reason == "the text is over 4000 characters: not sent"

        run(make_fallback(server.url), test)
        assert server.requests == []
