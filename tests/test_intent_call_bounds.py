"""What one call may cost the intent service: a bound on its characters, checked once for
every face, and model batches bounded in characters that calls take turns in."""

from __future__ import annotations

import asyncio

import pytest
from intent_fakes import HeldModel

from slm_mesh.services.contracts.intent import CONTRACT, IntentRequest
from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.intent.core import IntentService
from slm_mesh.services.kit.mqtt_face import json_handler

OVER = "have 120 characters in all, over the limit of 100 per call: split them across smaller"


def test_a_call_over_the_character_bound_is_refused_before_any_work() -> None:
    model = HeldModel()

    async def check() -> None:
        async with IntentService(recognizer=model.recognizer(), max_call_chars=100) as service:
            with pytest.raises(InvalidRequestError, match=OVER) as refused:
                await service.handle([IntentRequest("x" * 60), IntentRequest("y" * 60)])
            assert refused.value.field == "requests"
            assert not model.matched.is_set() and model.batches == []
            results = await service.handle([IntentRequest("x" * 50)] * 2)
            assert [r.text for r in results] == ["x" * 50] * 2

    asyncio.run(check())


def test_the_mqtt_face_refuses_the_same_calls_with_the_same_words() -> None:
    model = HeldModel()

    async def check() -> None:
        async with IntentService(recognizer=model.recognizer(), max_call_chars=100) as service:
            handle = json_handler(CONTRACT, service)
            with pytest.raises(InvalidRequestError, match=OVER):
                await handle({"requests": [{"text": "x" * 60}, {"text": "y" * 60}]})
            with pytest.raises(InvalidRequestError, match="have 101 characters in all"):
                await handle({"text": "x" * 101})
            answer = await handle({"requests": [{"text": "x" * 50}, {"text": "y" * 50}]})
            assert [r["text"] for r in answer["results"]] == ["x" * 50, "y" * 50]

    asyncio.run(check())


def test_model_batches_stay_within_their_characters_and_a_small_call_goes_next() -> None:
    model = HeldModel()
    big = [IntentRequest(f"{i}" * 40) for i in range(1, 7)]

    async def check() -> None:
        async with IntentService(
            recognizer=model.recognizer(), max_batch_chars=100, max_call_chars=1000
        ) as service:
            holding = asyncio.create_task(
                service.handle([IntentRequest("hold"), IntentRequest("hold on")])
            )
            await asyncio.to_thread(model.holding.wait, 10)
            calls = [
                asyncio.create_task(service.handle(big)),
                asyncio.create_task(service.handle([IntentRequest("next song")])),
            ]
            await asyncio.sleep(0)  # both are queued while the model is held
            model.release.set()
            await asyncio.gather(holding, *calls)

    asyncio.run(check())
    assert model.batches[0] == ["hold", "hold on"]
    assert "next song" in model.batches[1]
    assert all(sum(map(len, batch)) <= 100 for batch in model.batches[1:])
    assert sorted(model.texts[2:]) == sorted([r.text for r in big] + ["next song"])


def test_a_bound_below_one_character_is_refused() -> None:
    with pytest.raises(ValueError, match="max_call_chars"):
        IntentService(recognizer=HeldModel().recognizer(), max_call_chars=0)
