"""The code-snippet service on the kit, played over real gRPC (batch and streaming) and a
real broker: answers that use the home's entities and say whether they are valid, code
streamed as it is written, and bad requests refused while the service keeps serving."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from brokers import RunningBroker

from slm_mesh.services.code_snippet.service import SERVICE
from slm_mesh.services.contracts.code import CONTRACT, CodeAnswer, CodeRequest
from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.kit.contract import Piece
from slm_mesh.services.kit.grpc_client import ServiceClient
from slm_mesh.services.kit.host import hosting
from slm_mesh.services.runtime.mqtt import BrokerUrl, MqttClient
from slm_mesh.services.runtime.topics import Topics
from slm_mesh.services.settings import Settings

DATA = Path(__file__).resolve().parent / "data"
HOME = DATA / "code_eval_home.yaml"
TINY = DATA / "genai" / "llama"
MOTION = CodeRequest(
    "when the hallway motion sensor sees movement, turn on the hallway light for 2 minutes",
    "homeassistant-automation",
)


def _settings(cache_dir: Path, **values: Any) -> Settings:
    return Settings(cache_dir=cache_dir, home=HOME, port=0).updated(**values)


@asynccontextmanager
async def _served(settings: Settings) -> AsyncIterator[ServiceClient[CodeRequest, CodeAnswer]]:
    async with (
        hosting(settings, [SERVICE]) as hosted,
        ServiceClient(CONTRACT, target=f"127.0.0.1:{hosted.port}", timeout=60.0) as client,
    ):
        yield client


def _answer(settings: Settings, request: CodeRequest) -> CodeAnswer:
    """One request's answer, over gRPC from the service the settings describe."""

    async def body() -> CodeAnswer:
        async with _served(settings) as client:
            (answer,) = await client.call([request])
            return answer

    return asyncio.run(body())


def test_a_request_is_answered_with_the_homes_own_entities_over_grpc(cache_dir: Path) -> None:
    async def body() -> list[CodeAnswer]:
        async with _served(_settings(cache_dir)) as client:
            return await client.call([MOTION, CodeRequest("MicroPython that blinks an LED")])

    automation, micropython = asyncio.run(body())

    assert automation.valid, automation.problems
    assert (automation.tier, automation.language) == ("retrieval", "yaml")
    assert "binary_sensor.hallway_motion" in automation.code
    assert "light.hallway" in automation.code
    assert (micropython.format, micropython.language) == ("micropython", "python")


def test_the_answer_streams_then_comes_whole(cache_dir: Path) -> None:
    async def body() -> list[Piece | CodeAnswer]:
        async with _served(_settings(cache_dir)) as client:
            return [part async for part in client.stream(MOTION)]

    *pieces, answer = asyncio.run(body())

    assert isinstance(answer, CodeAnswer) and answer.valid
    assert "".join(p.text for p in pieces if isinstance(p, Piece)) == answer.code


def test_a_generative_answer_streams_its_first_piece_before_generation_ends(
    cache_dir: Path,
) -> None:
    settings = _settings(
        cache_dir, code_plugin=f"path:{TINY}", code_max_new_tokens=60, code_model_first=True
    )

    async def body() -> list[tuple[float, Piece | CodeAnswer]]:
        async with _served(settings) as client:
            loop = asyncio.get_running_loop()
            started = loop.time()
            request = CodeRequest("a shell one-liner that watches the garage door topic")
            return [(loop.time() - started, part) async for part in client.stream(request)]

    parts = asyncio.run(body())

    first_piece_at = next(at for at, part in parts if isinstance(part, Piece))
    answer_at, answer = parts[-1]
    assert isinstance(answer, CodeAnswer)
    assert first_piece_at < answer_at
    assert sum(isinstance(part, Piece) and part.attempt == 0 for _, part in parts) > 1
    # A random model's shell does not pass `bash -n`, or it does: either way the answer
    # says which plugin wrote it and, when the model failed, why the library answered.
    assert answer.tier in ("generative", "retrieval")
    if answer.tier == "retrieval":
        assert any("attempt 2" in note for note in answer.notes)


def test_with_a_model_the_library_still_answers_what_it_has_a_close_snippet_for(
    cache_dir: Path,
) -> None:
    settings = _settings(cache_dir, code_plugin=f"path:{TINY}", code_max_new_tokens=60)

    answer = _answer(settings, MOTION)

    assert (answer.tier, answer.valid) == ("retrieval", True)


@pytest.mark.parametrize(
    ("request_", "complaint"),
    [
        (CodeRequest("   "), "prompt is empty"),
        (CodeRequest("x" * 1001), "prompt is 1001 characters; the limit is 1000"),
        (CodeRequest("blink an led", "cobol"), "unknown format 'cobol'"),
    ],
)
def test_a_bad_request_is_refused_and_the_service_keeps_serving(
    cache_dir: Path, request_: CodeRequest, complaint: str
) -> None:
    async def body() -> CodeAnswer:
        async with _served(_settings(cache_dir)) as client:
            with pytest.raises(InvalidRequestError, match=complaint):
                await client.call([request_])
            with pytest.raises(InvalidRequestError, match=complaint):
                async for _ in client.stream(request_):
                    pass
            (answer,) = await client.call([MOTION])
            return answer

    assert asyncio.run(body()).valid


def test_a_request_for_what_the_home_lacks_says_which(cache_dir: Path) -> None:
    request = CodeRequest("turn on the light in the attic when its motion sensor sees someone")

    answer = _answer(_settings(cache_dir), request)

    assert not answer.valid and answer.code == ""
    assert any("the home has no" in problem for problem in answer.problems)


@pytest.mark.integration
def test_over_mqtt_a_streamed_request_gets_its_chunks_then_its_answer(
    mqtt_broker: RunningBroker, cache_dir: Path
) -> None:
    topics = Topics(prefix=f"test-{uuid.uuid4().hex[:8]}")
    settings = _settings(cache_dir, mqtt_url=mqtt_broker.url, mqtt_prefix=topics.prefix)
    reply = f"{topics.prefix}/reply/code-test"

    async def body() -> list[dict[str, Any]]:
        async with (
            hosting(settings, [SERVICE]),
            MqttClient(broker=BrokerUrl.parse(mqtt_broker.url), client_id="code-test") as client,
        ):
            await client.subscribe(reply)
            request = {"prompt": MOTION.prompt, "format": MOTION.format, "stream": True,
                       "response_topic": reply}  # fmt: skip
            await client.publish(topics.request("code"), json.dumps(request))
            messages: list[dict[str, Any]] = []
            while not messages or "chunk" in messages[-1]:
                message = await client.receive(30.0)
                messages.append(json.loads(message.payload))
            return messages

    *chunks, answer = asyncio.run(body())

    assert chunks and all("chunk" in chunk for chunk in chunks)
    assert answer["valid"] and "light.hallway" in answer["code"]


def test_a_generation_past_its_time_limit_costs_that_attempt_and_the_library_answers(
    cache_dir: Path,
) -> None:
    settings = _settings(
        cache_dir,
        code_plugin=f"path:{TINY}",
        code_model_first=True,
        code_max_new_tokens=60,
        code_time_limit_s=0.0001,
    )

    answer = _answer(settings, MOTION)

    assert (answer.tier, answer.valid) == ("retrieval", True)
    assert "the model's attempt 1 stopped" in answer.notes[0]
    assert "time limit" in answer.notes[0]


#: Where `slm-mesh models build smollm2` puts the model (the user's cache, not the tests').
SMOLLM2 = Path(Settings().cache_dir) / "models" / "smollm2-135m-instruct-int4"


@pytest.mark.slow
@pytest.mark.skipif(not SMOLLM2.is_dir(), reason="needs `slm-mesh models build smollm2`")
def test_smollm2_writes_automations_that_name_only_what_the_home_has(cache_dir: Path) -> None:
    """The real model, end to end: whatever it writes, every entity and service in a
    generated automation is the home's own (the schema's guarantee)."""
    from slm_mesh.services.code_snippet.ha_services import SERVICES
    from slm_mesh.services.home.model import load_home

    settings = _settings(cache_dir, code_plugin=f"path:{SMOLLM2}", code_model_first=True)
    home_ids = {entity.id for entity in load_home(HOME).entities}
    requests = [
        MOTION,
        CodeRequest("close the lounge blinds at sunset", "homeassistant-automation"),
        CodeRequest("notify me when the back door opens", "homeassistant-automation"),
    ]

    async def body() -> list[CodeAnswer]:
        async with _served(settings) as client:
            return await client.call(requests)

    for answer in asyncio.run(body()):
        assert answer.tier == "generative" or answer.notes
        automation = yaml.safe_load(answer.code)
        for entity_id in _values(automation, "entity_id"):
            assert entity_id in home_ids
        for action in _values(automation, "action"):
            domain, _, service = action.partition(".")
            assert service in SERVICES.get(domain, ()) or domain == "notify"


def _values(value: Any, key: str) -> list[str]:
    """Every string under `key`, anywhere in parsed YAML."""
    if isinstance(value, dict):
        found = [str(v) for k, v in value.items() if k == key and isinstance(v, str)]
        return found + [x for v in value.values() for x in _values(v, key)]
    if isinstance(value, list):
        return [x for item in value for x in _values(item, key)]
    return []
