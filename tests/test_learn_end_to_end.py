"""Recipe 4 end to end: a sentence the SLM did not know goes to the fallback (a real
OpenAI-compatible server on loopback), the router logs the checked answer, `slm-mesh
factory learn` retrains the head with it, and the SLM answers it the next time; a
question the fallback answered in words is not learned."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from fallback_server import FakeLlmServer

from slm_mesh.services.cli import main
from slm_mesh.services.fallback import (
    CallBudget,
    ChatClient,
    CircuitBreaker,
    LlmFallback,
    ResponseCache,
)
from slm_mesh.services.home.model import Home
from slm_mesh.services.intent.core import IntentService
from slm_mesh.services.intent.learned import learned_path, read_learned
from slm_mesh.services.intent.recognizer import IntentRecognizer
from slm_mesh.services.intent.service import build_recognizer
from slm_mesh.services.router.answer import Answer
from slm_mesh.services.router.backends import InProcessIntent
from slm_mesh.services.router.request import parse_request
from slm_mesh.services.router.router import Router
from slm_mesh.services.router.unanswered import unanswered_log
from slm_mesh.services.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: Sent to the fallback by today's head: it puts it out of scope (0.57).
REST = "give the desk lamp a rest"
QUESTION = "what is the capital of france"
TURN_OFF: dict[str, Any] = {
    "kind": "intent",
    "intent": "HassTurnOff",
    "slots": {"name": "desk lamp", "domain": "light"},
    "answer": None,
}
PARIS: dict[str, Any] = {"kind": "answer", "intent": None, "slots": {}, "answer": "Paris."}


def ask(
    recognizer: IntentRecognizer, settings: Settings, home: Home, url: str, text: str
) -> Answer:
    """One request through the router: the in-process intent service, the fallback over
    HTTP, and the unanswered log where the settings put it."""

    async def run() -> Answer:
        fallback = LlmFallback(
            client=ChatClient(base_url=url, model="tiny"),
            home=home,
            breaker=CircuitBreaker(failure_threshold=2, reset_after_s=30),
            budget=CallBudget(per_minute=100, per_day=1000),
            cache=ResponseCache(max_entries=16, ttl_s=60),
            timeout_s=5.0,
        )
        try:
            async with IntentService(recognizer=recognizer) as service:
                router = Router(
                    intent=InProcessIntent(service=service),
                    fallback=fallback,
                    unanswered=unanswered_log(settings),
                    default_deadline_s=10.0,
                )
                return await router.handle(parse_request({"text": text}))
        finally:
            await fallback.aclose()

    return asyncio.run(run())


def test_what_the_fallback_answered_yesterday_the_slm_answers_today(
    tmp_path: Path,
    cache_dir: Path,
    demo_recognizer: IntentRecognizer,
    demo_home: Home,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `main` would point the process's logs at stderr, which pytest closes after the test.
    monkeypatch.setattr("slm_mesh.services.cli.configure_logging", lambda **_: None)
    # A cache of its own (the learned file and the head it trains), sharing the model.
    home_cache = tmp_path / "cache"
    home_cache.mkdir()
    (home_cache / "models").symlink_to(cache_dir / "models")
    settings = Settings(cache_dir=home_cache)
    with FakeLlmServer(mode="intent", reply=TURN_OFF) as server:
        first = ask(demo_recognizer, settings, demo_home, server.url, REST)
        assert (first.tier, first.intents[0].intent) == ("llm", "HassTurnOff")
        server.mode, server.reply = "answer", PARIS
        question = ask(demo_recognizer, settings, demo_home, server.url, QUESTION)
        assert (question.tier, question.text) == ("llm", "Paris.")
        assert len(server.requests) == 2

        assert main(["factory", "learn", "--cache-dir", str(home_cache)]) == 0
        out = capsys.readouterr().out
        assert "learned 1 sentence (1 new):\n     1  HassTurnOff (from the fallback)" in out
        assert f"out of scope: the fallback answered in words: '{QUESTION}'" in out
        assert "the SLM now answers 1 of 1 as learned" in out
        assert [s.text for s in read_learned(learned_path(home_cache))] == [REST]

        learned, _ = build_recognizer(settings, home=demo_home)  # the cached head: no training
        again = ask(learned, settings, demo_home, server.url, REST)
        assert (again.tier, again.intents[0].intent) == ("slm", "HassTurnOff")
        assert (
            again.intents[0].slots
            == first.intents[0].slots
            == {
                "name": "Desk Lamp",
                "domain": "light",
            }
        )
        assert len(server.requests) == 2, "the learned sentence must not reach the model"
        server.reply = {**PARIS, "answer": "Paris, still."}
        still = ask(learned, settings, demo_home, server.url, QUESTION)
        assert (still.tier, still.text) == ("llm", "Paris, still.")
