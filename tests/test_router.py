"""The router's core with the real intent recognizer in-process, and small collaborators
(a slow or failing intent backend, a scripted fallback, a task service) around it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from slm_mesh.services.contracts.intent import IntentResult
from slm_mesh.services.contracts.text import CANNOT_HELP
from slm_mesh.services.errors import (
    DeadlineExceeded,
    InvalidRequestError,
    ServiceUnavailable,
    SlmMeshError,
)
from slm_mesh.services.intent.core import IntentService
from slm_mesh.services.intent.recognizer import IntentRecognizer
from slm_mesh.services.router.answer import Answer
from slm_mesh.services.router.backends import InProcessIntent
from slm_mesh.services.router.request import parse_request
from slm_mesh.services.router.router import IntentBackend, Router
from slm_mesh.services.router.unanswered import UnansweredLog

DEVICES = {"satellite-lounge": "Lounge", "satellite-kitchen": "Kitchen"}


@dataclass(frozen=True)
class FallbackReply:
    kind: str
    result: IntentResult | None = None
    answer_text: str | None = None
    reason: str = "llm answered"
    budget: dict[str, Any] = field(default_factory=lambda: {"spent_usd": 0.001, "left_usd": 0.999})
    breaker: str = "closed"


class ScriptedFallback:
    """A fallback that gives one prepared reply and remembers what it was asked."""

    def __init__(self, reply: FallbackReply) -> None:
        self.reply = reply
        self.asked: list[tuple[str, str | None, float]] = []

    async def ask(self, text: str, *, area: str | None, deadline_s: float) -> FallbackReply:
        self.asked.append((text, area, deadline_s))
        return self.reply


class SlowIntent:
    async def recognize(
        self, texts: Sequence[str], *, area: str | None, timeout_s: float
    ) -> list[IntentResult]:
        await asyncio.sleep(10)
        return []


class FailingIntent:
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    async def recognize(
        self, texts: Sequence[str], *, area: str | None, timeout_s: float
    ) -> list[IntentResult]:
        self.calls += 1
        raise self.error


class SummaryService:
    def __init__(self, reply: dict[str, Any]) -> None:
        self.reply = reply

    def available(self, task: str) -> bool:
        return task == "summarize"

    async def ask(self, task: str, text: str, *, timeout_s: float) -> dict[str, Any]:
        return self.reply


def _handle(router: Router, body: dict[str, Any], device: str | None = None) -> Answer:
    return asyncio.run(router.handle(parse_request(body, device=device)))


def _ask(
    recognizer: IntentRecognizer,
    body: dict[str, Any],
    *,
    device: str | None = None,
    **router_args: Any,
) -> Answer:
    """One request through a router over the real intent service, started for it."""

    async def run() -> Answer:
        async with IntentService(recognizer=recognizer) as service:
            router = Router(intent=InProcessIntent(service=service), **router_args)
            return await router.handle(parse_request(body, device=device))

    return asyncio.run(run())


@pytest.mark.slow
def test_a_simple_command_is_answered_by_a_template(demo_recognizer: IntentRecognizer) -> None:
    answer = _ask(demo_recognizer, {"text": "turn off the kitchen lights"})
    payload = answer.as_json()
    assert payload["error"] is None
    assert payload["tier"] == "template"
    assert payload["intent"] == "HassTurnOff"
    assert payload["slots"] == {"area": "Kitchen", "domain": "light"}
    assert payload["why"]["reason"]
    assert payload["answer"] is None


@pytest.mark.slow
def test_a_loose_command_is_answered_by_the_slm(demo_recognizer: IntentRecognizer) -> None:
    answer = _ask(demo_recognizer, {"text": "kill the lights", "area": "Kitchen"})
    assert answer.tier == "slm"
    assert answer.intents[0].intent == "HassTurnOff"
    assert answer.intents[0].slots.get("area") == "Kitchen"
    assert answer.out_of_scope is not None and answer.out_of_scope < 0.5
    assert answer.reason


@pytest.mark.slow
def test_the_device_table_gives_the_area(demo_recognizer: IntentRecognizer) -> None:
    answer = _ask(
        demo_recognizer, {"text": "lights off"}, device="satellite-lounge", devices=DEVICES
    )
    assert answer.intents[0].intent == "HassTurnOff"
    assert answer.intents[0].slots == {"area": "Lounge", "domain": "light"}
    assert answer.as_json()["device"] == "satellite-lounge"


@pytest.mark.slow
def test_the_requests_own_area_wins_over_the_device_table(
    demo_recognizer: IntentRecognizer,
) -> None:
    body = {"text": "lights off", "area": "Kitchen"}
    answer = _ask(demo_recognizer, body, device="satellite-lounge", devices=DEVICES)
    assert answer.intents[0].slots.get("area") == "Kitchen"


@pytest.mark.slow
def test_a_compound_command_is_answered_as_two_intents(demo_recognizer: IntentRecognizer) -> None:
    answer = _ask(demo_recognizer, {"text": "turn off the kitchen lights and lock the front door"})
    assert answer.reason == "compound: 2 commands"
    assert [result.text for result in answer.intents] == [
        "turn off the kitchen lights",
        "lock the front door",
    ]
    first, second = answer.intents
    assert (first.intent, first.slots) == ("HassTurnOff", {"area": "Kitchen", "domain": "light"})
    assert second.slots.get("name") == "Front Lock"
    assert len(answer.as_json()["intents"]) == 2


@pytest.mark.slow
def test_loose_compound_parts_are_each_understood(demo_recognizer: IntentRecognizer) -> None:
    answer = _ask(
        demo_recognizer, {"text": "kill the lights and boil the kettle", "area": "Kitchen"}
    )
    assert [(r.intent, r.slots.get("domain")) for r in answer.intents] == [
        ("HassTurnOff", "light"),
        ("HassTurnOn", "switch"),
    ]


@pytest.mark.slow
def test_two_areas_sharing_one_device_word_are_not_broken_apart(
    demo_recognizer: IntentRecognizer,
) -> None:
    answer = _ask(demo_recognizer, {"text": "turn on the kitchen and lounge lights"})
    assert answer.error_code is None
    assert answer.intents
    for result in answer.intents:
        assert result.text.startswith("turn on"), f"a part without its verb: {result.text!r}"
        assert (result.intent, result.slots.get("domain")) == ("HassTurnOn", "light")
    areas = {result.slots.get("area") for result in answer.intents}
    assert areas <= {"Kitchen", "Lounge"}
    assert "Kitchen" in areas


@pytest.mark.slow
def test_out_of_scope_without_a_fallback_cannot_help_and_is_logged(
    demo_recognizer: IntentRecognizer, tmp_path: Path
) -> None:
    log = UnansweredLog(path=tmp_path / "unanswered.jsonl")
    body = {"text": "what is the capital of france", "id": "q1"}
    answer = _ask(demo_recognizer, body, device="satellite-lounge", devices=DEVICES, unanswered=log)
    payload = answer.as_json()
    assert payload["tier"] == "none"
    assert payload["intent"] is None
    assert payload["answer"] == CANNOT_HELP
    assert payload["why"]["out_of_scope"] > 0.5
    assert payload["why"]["fallback"] == "not configured"
    assert payload["error"] is None
    [entry] = log.entries()
    assert entry["id"] == "q1"
    assert entry["text"] == "what is the capital of france"
    assert entry["context"]["device"] == "satellite-lounge"
    assert entry["tiers"]["local"]["intent"] is None
    assert entry["fallback"] is None


@pytest.mark.slow
def test_an_answered_command_is_not_logged(
    demo_recognizer: IntentRecognizer, tmp_path: Path
) -> None:
    log = UnansweredLog(path=tmp_path / "unanswered.jsonl")
    _ask(demo_recognizer, {"text": "turn off the kitchen lights"}, unanswered=log)
    assert log.entries() == []


@pytest.mark.slow
def test_an_unknown_area_is_an_invalid_request(demo_recognizer: IntentRecognizer) -> None:
    answer = _ask(demo_recognizer, {"text": "turn on the lights", "area": "Atlantis"})
    error = answer.as_json()["error"]
    assert error["code"] == "invalid_request"
    assert "Atlantis" in error["message"]
    assert answer.intents == ()


@pytest.mark.slow
def test_a_fallback_intent_is_answered_by_the_llm_tier(
    demo_recognizer: IntentRecognizer, tmp_path: Path
) -> None:
    result = IntentResult(
        text="make it cosy in here",
        intent="HassTurnOn",
        slots={"name": "Movie Night"},
        confidence=0.8,
        tier="llm",
        reason="llm",
    )
    fallback = ScriptedFallback(FallbackReply(kind="intent", result=result, reason="llm intent"))
    log = UnansweredLog(path=tmp_path / "unanswered.jsonl")
    body = {"text": "write me a poem about the sea", "deadline_ms": 3000}
    answer = _ask(
        demo_recognizer,
        body,
        device="satellite-lounge",
        devices=DEVICES,
        fallback=fallback,
        unanswered=log,
    )
    payload = answer.as_json()
    assert payload["tier"] == "llm"
    assert payload["intent"] == "HassTurnOn"
    assert payload["slots"] == {"name": "Movie Night"}
    assert payload["why"]["reason"] == "llm intent"
    assert payload["why"]["fallback"] == "closed"
    assert payload["why"]["budget"] == {"spent_usd": 0.001, "left_usd": 0.999}
    [(text, area, deadline_s)] = fallback.asked
    assert (text, area) == ("write me a poem about the sea", "Lounge")
    assert 0 < deadline_s < 3.0
    [entry] = log.entries()
    assert entry["fallback"]["kind"] == "intent"
    assert entry["fallback"]["intent"]["intent"] == "HassTurnOn"


@pytest.mark.slow
def test_a_fallback_text_answer_is_given_with_why(
    demo_recognizer: IntentRecognizer, tmp_path: Path
) -> None:
    reply = FallbackReply(kind="answer", answer_text="Paris.", reason="general question")
    log = UnansweredLog(path=tmp_path / "unanswered.jsonl")
    answer = _ask(
        demo_recognizer,
        {"text": "what is the capital of france"},
        fallback=ScriptedFallback(reply),
        unanswered=log,
    )
    payload = answer.as_json()
    assert payload["tier"] == "llm"
    assert payload["answer"] == "Paris."
    assert payload["intent"] is None
    assert payload["why"]["reason"] == "general question"
    assert payload["why"]["budget"] == reply.budget
    assert payload["why"]["out_of_scope"] > 0.5
    [entry] = log.entries()
    assert entry["fallback"]["answer"] == "Paris."


@pytest.mark.slow
def test_a_fallback_that_cannot_help_says_both_reasons(
    demo_recognizer: IntentRecognizer, tmp_path: Path
) -> None:
    reply = FallbackReply(kind="cannot_help", reason="budget spent", breaker="open")
    log = UnansweredLog(path=tmp_path / "unanswered.jsonl")
    answer = _ask(
        demo_recognizer,
        {"text": "what is the capital of france"},
        fallback=ScriptedFallback(reply),
        unanswered=log,
    )
    assert answer.tier == "none"
    assert answer.text == CANNOT_HELP
    assert answer.reason.endswith("; budget spent")
    assert len(answer.reason) > len("; budget spent")
    assert answer.fallback == "open"
    assert log.entries()[0]["fallback"]["kind"] == "cannot_help"


@pytest.mark.slow
def test_the_fallback_is_not_asked_when_a_local_tier_answers(
    demo_recognizer: IntentRecognizer,
) -> None:
    fallback = ScriptedFallback(FallbackReply(kind="answer", answer_text="no"))
    answer = _ask(demo_recognizer, {"text": "turn off the kitchen lights"}, fallback=fallback)
    assert answer.tier == "template"
    assert fallback.asked == []


class RecordingIntent:
    """Answers at once, and keeps the time each call was given."""

    def __init__(self) -> None:
        self.timeouts: list[float] = []

    async def recognize(
        self, texts: Sequence[str], *, area: str | None, timeout_s: float
    ) -> list[IntentResult]:
        self.timeouts.append(timeout_s)
        return [IntentResult(text=t, intent="HassTurnOn", tier="template") for t in texts]


def test_a_slow_intent_service_gets_a_deadline_error() -> None:
    answer = _handle(
        Router(intent=SlowIntent()), {"text": "turn on the lights", "deadline_ms": 200}
    )
    assert answer.error_code == "deadline_exceeded"
    assert "0.2 s" in (answer.error_message or "")


def test_the_intent_service_gets_what_is_left_of_the_deadline_less_room_to_answer() -> None:
    """On the router's clock: a request due at 102.0, read at 100.5, leaves the service
    1.5 s less the 50 ms kept to publish the answer."""
    intent = RecordingIntent()
    router = Router(intent=intent, clock=lambda: 100.5)
    request = replace(parse_request({"text": "lights on", "deadline_ms": 2000}), deadline_at=102.0)
    asyncio.run(router.handle(request))
    assert intent.timeouts == [pytest.approx(1.45)]


def test_the_default_deadline_applies_without_one_in_the_request() -> None:
    intent = RecordingIntent()
    asyncio.run(Router(intent=intent, default_deadline_s=3.0, clock=lambda: 7.0).handle(
        parse_request({"text": "lights on"})
    ))  # fmt: skip
    assert intent.timeouts == [pytest.approx(2.95)]
    answer = _handle(Router(intent=SlowIntent(), default_deadline_s=0.1), {"text": "lights on"})
    assert answer.error_code == "deadline_exceeded"


def test_the_default_deadline_must_be_positive() -> None:
    with pytest.raises(ValueError, match="default_deadline_s"):
        Router(intent=SlowIntent(), default_deadline_s=0)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ServiceUnavailable("no intent service is online"), "unavailable"),
        (DeadlineExceeded("no reply within 1 s"), "deadline_exceeded"),
        (InvalidRequestError("text is empty"), "invalid_request"),
        (SlmMeshError("the intent service failed: boom"), "internal"),
    ],
)
def test_backend_errors_become_error_answers(error: Exception, code: str) -> None:
    backend: IntentBackend = FailingIntent(error)
    answer = _handle(Router(intent=backend), {"text": "turn on the lights", "id": "r1"})
    payload = answer.as_json()
    assert payload["error"] == {"code": code, "message": str(error)}
    assert payload["id"] == "r1"
    assert payload["tier"] == "none"


def test_another_task_without_a_service_or_fallback_cannot_help() -> None:
    intent = FailingIntent(AssertionError("the intent service must not be asked"))
    answer = _handle(Router(intent=intent), {"text": "summarize: the meeting ran long"})
    assert answer.task == "summarize"
    assert answer.text == CANNOT_HELP
    assert answer.reason == "no summarize service is running on this mesh"
    assert answer.error_code is None
    assert intent.calls == 0


def test_another_task_goes_to_its_service_when_one_runs() -> None:
    router = Router(intent=SlowIntent(), tasks=SummaryService({"answer": "It ran long."}))
    answer = _handle(router, {"text": "tl;dr the meeting ran long"})
    assert (answer.task, answer.tier, answer.text) == ("summarize", "slm", "It ran long.")


def test_a_task_service_reply_without_an_answer_is_an_error() -> None:
    router = Router(intent=SlowIntent(), tasks=SummaryService({"elapsed_ms": 3}))
    answer = _handle(router, {"text": "summarize: the meeting ran long"})
    assert answer.error_code == "internal"
    assert answer.text is None


def test_another_task_without_a_service_may_be_answered_by_the_fallback() -> None:
    fallback = ScriptedFallback(FallbackReply(kind="answer", answer_text="Positive."))
    router = Router(intent=SlowIntent(), fallback=fallback)
    answer = _handle(router, {"text": "is this review positive? loved it"})
    assert (answer.task, answer.tier, answer.text) == ("sentiment", "llm", "Positive.")
    assert answer.reason.startswith("no sentiment service; ")
    assert fallback.asked[0][1] is None


def test_a_request_past_its_deadline_is_refused_without_asking_anyone() -> None:
    backend = FailingIntent(AssertionError("the intent service must not be asked"))
    now = [100.0]
    router = Router(intent=backend, clock=lambda: now[0])
    request = replace(parse_request({"text": "lights on"}), deadline_at=99.5)
    answer = asyncio.run(router.handle(request))
    assert answer.error_code == "deadline_exceeded"
    assert "had passed when it reached the router" in (answer.error_message or "")
    assert backend.calls == 0


class UnwritableLog(UnansweredLog):
    def record(self, entry: dict[str, Any]) -> None:
        raise OSError(28, "No space left on device")


@pytest.mark.slow
def test_a_log_that_cannot_be_written_never_costs_the_answer(
    demo_recognizer: IntentRecognizer, tmp_path: Path
) -> None:
    log = UnwritableLog(path=tmp_path / "unanswered.jsonl")
    answer = _ask(demo_recognizer, {"text": "what's a good banana bread recipe"}, unanswered=log)
    assert answer.error_code is None
    assert answer.text == CANNOT_HELP


class UnsureIntent:
    """No local tier answers."""

    async def recognize(
        self, texts: Sequence[str], *, area: str | None, timeout_s: float
    ) -> list[IntentResult]:
        return [IntentResult(text=t, intent=None, reason="unsure") for t in texts]


def test_the_log_keeps_the_fallbacks_checked_intent_and_the_area_it_was_given(
    tmp_path: Path,
) -> None:
    """What `slm-mesh factory learn` reads: "lights on in here" means the device's area."""
    result = IntentResult(
        text="lights on in here",
        intent="HassTurnOn",
        slots={"domain": "light", "area": "Lounge"},
        tier="llm",
    )
    log = UnansweredLog(path=tmp_path / "unanswered.jsonl")
    router = Router(
        intent=UnsureIntent(),
        fallback=ScriptedFallback(FallbackReply(kind="intent", result=result)),
        unanswered=log,
        devices=DEVICES,
    )
    assert _handle(router, {"text": "lights on in here"}, device="satellite-lounge").tier == "llm"
    [entry] = log.entries()
    assert entry["area"] == "Lounge" and entry["context"]["area"] is None
    assert entry["fallback"]["kind"] == "intent"
    assert entry["fallback"]["intent"]["slots"] == {"domain": "light", "area": "Lounge"}
