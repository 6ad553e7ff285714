"""The intent recognizer end to end, on the real model and the demo home."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from slm_mesh.services.contracts.intent import IntentRequest, IntentResult
from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.home.model import Home
from slm_mesh.services.intent.core import IntentService
from slm_mesh.services.intent.evaluate import Case, case_slots_right, load_cases
from slm_mesh.services.intent.head import IntentHead, IntentHeads
from slm_mesh.services.intent.recognizer import IntentRecognizer
from slm_mesh.services.intent.slots import OUT_OF_SCOPE

pytestmark = pytest.mark.slow


def test_the_issue_examples(demo_recognizer: IntentRecognizer) -> None:
    dark, lamp, bread = demo_recognizer.recognize_batch(
        [
            IntentRequest("it's pitch black in the study"),
            IntentRequest("set the desk lamp to 40 percent"),
            IntentRequest("what's a good banana bread recipe"),
        ]
    )
    assert (dark.intent, dark.slots["area"], dark.slots["domain"]) == (
        "HassTurnOn",
        "Study",
        "light",
    )
    assert dark.tier == "slm"
    assert (lamp.intent, lamp.slots["name"], lamp.slots["brightness"]) == (
        "HassLightSet",
        "Desk Lamp",
        40,
    )
    assert lamp.tier == "template"
    assert (bread.intent, bread.tier, bread.slots) == (None, "none", {})


def test_the_requesting_devices_area_is_used_for_elliptic_commands(
    demo_recognizer: IntentRecognizer,
) -> None:
    result = demo_recognizer.recognize(IntentRequest("kill the lights", area="living room"))
    assert (result.intent, result.slots.get("area")) == ("HassTurnOff", "Lounge")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("lock the front door", "HassTurnOn"),
        ("please lock the front door", "HassTurnOn"),
        ("unlock the front door", "HassTurnOff"),
        ("unbolt the front door for the kids", "HassTurnOff"),
        ("secure the front door", "HassTurnOn"),
    ],
)
def test_a_lock_named_by_its_door_moves_the_way_the_words_say(
    demo_recognizer: IntentRecognizer, text: str, intent: str
) -> None:
    result = demo_recognizer.recognize(IntentRequest(text))
    assert (result.intent, result.slots.get("name")) == (intent, "Front Lock"), result.reason


def test_locking_up_for_the_night_locks_and_lights_nothing(
    demo_recognizer: IntentRecognizer,
) -> None:
    result = demo_recognizer.recognize(IntentRequest("lock up for the night"))
    assert (result.intent, result.slots) == ("HassTurnOn", {"domain": "lock"}), result.reason


def test_most_dev_examples_are_right(demo_recognizer: IntentRecognizer, data_dir: Path) -> None:
    cases = load_cases(data_dir / "dev_examples.yaml")
    results = demo_recognizer.recognize_batch([IntentRequest(c.text, c.area) for c in cases])
    right = [
        c.intent == r.intent and case_slots_right(c, r) for c, r in zip(cases, results, strict=True)
    ]
    assert sum(right) >= len(cases) - 2, [
        (c.text, r.intent, r.slots)
        for c, r, ok in zip(cases, results, right, strict=True)
        if not ok
    ]


def _right(case: Case, result: IntentResult) -> bool:
    return case.intent == result.intent and case_slots_right(case, result)


def test_answers_do_not_depend_on_what_shares_the_batch(
    demo_recognizer: IntentRecognizer,
) -> None:
    texts = ["it's way too dark in here", "turn the telly off", "lights off", "hi", "x" * 300]
    alone = [demo_recognizer.recognize(IntentRequest(t, area="Lounge")) for t in texts]
    together = demo_recognizer.recognize_batch([IntentRequest(t, area="Lounge") for t in texts])
    assert [(r.intent, r.slots) for r in alone] == [(r.intent, r.slots) for r in together]
    assert [r.confidence for r in alone] == pytest.approx([r.confidence for r in together])


@pytest.mark.slow
def test_concurrent_callers_share_model_calls_and_get_the_answers_they_get_alone(
    demo_recognizer: IntentRecognizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["it's pitch black in the study", "boil the kettle", "next song", "tell me a joke"]
    requests = [IntentRequest(t) for t in texts * 8]
    alone = [demo_recognizer.recognize(r) for r in requests]
    model_calls: list[int] = []
    embed = demo_recognizer.embed

    def counted(batch: Sequence[str]) -> np.ndarray:
        model_calls.append(len(batch))
        return embed(batch)

    monkeypatch.setattr(demo_recognizer, "embed", counted)

    async def concurrently() -> list[IntentResult]:
        async with IntentService(recognizer=demo_recognizer) as service:
            results = await asyncio.gather(*(service.handle([r]) for r in requests))
        return [result for (result,) in results]

    together = asyncio.run(concurrently())
    assert [(r.intent, r.slots, r.tier) for r in together] == [
        (r.intent, r.slots, r.tier) for r in alone
    ]
    assert [r.confidence for r in together] == pytest.approx([r.confidence for r in alone])
    assert sum(model_calls) == len(requests) and max(model_calls) > 1


def test_confidence_is_a_probability(demo_recognizer: IntentRecognizer) -> None:
    for text in ("kill the lights in the kitchen", "tell me a joke", "boil the kettle"):
        assert 0.0 <= demo_recognizer.recognize(IntentRequest(text)).confidence <= 1.0


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (IntentRequest(""), "empty"),
        (IntentRequest("   "), "empty"),
        (IntentRequest("x" * 1001), "limit is 1000"),
        (IntentRequest("lights\x00 off"), "control character U+0000"),
        (IntentRequest("lights \ud800off"), "not valid UTF-8"),
        (IntentRequest("lights off", area="Attic"), "unknown context area 'Attic'"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(
    demo_recognizer: IntentRecognizer, request_: IntentRequest, message: str
) -> None:
    with pytest.raises(InvalidRequestError, match=re.escape(message)):
        demo_recognizer.recognize(request_)
    assert demo_recognizer.recognize(IntentRequest("lights off", area="Lounge")).intent


def without_a_model() -> IntentRecognizer:
    """A recognizer with a head that knows nothing and no model: enough for `validate`."""
    head = IntentHead(
        labels=(OUT_OF_SCOPE,),
        w1=np.zeros((1, 1)),
        b1=np.zeros(1),
        w2=np.zeros((1, 1)),
        b2=np.zeros(1),
    )
    return IntentRecognizer(
        home=Home(),
        embed=lambda texts: np.zeros((len(texts), 1)),
        heads=IntentHeads(full=head, words=head),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\u200b", "text has no visible characters"),
        ("\u200b\u200c\u200d\u2060\ufeff", "text has no visible characters"),
        ("\u00a0\u200b \u2028\u3000", "text has no visible characters"),
        ("\u00a0\u3000\u2028", "text is empty"),
    ],
)
def test_a_text_of_only_invisible_characters_is_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        without_a_model().validate(IntentRequest(text))


def test_invisible_characters_inside_a_text_are_let_through() -> None:
    assert without_a_model().validate(IntentRequest("lights\u200b off\ufeff")) is None
