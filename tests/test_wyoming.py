"""Home Assistant Assist's Wyoming conversation agent: the events Home Assistant sends and
reads, the bounded reader, and the server on a real socket played with the `wyoming` client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from brokers import MeshThread
from fake_home_assistant import TOKEN, fake_home_assistant, home_assistant_shapes
from wyoming.asr import Transcript
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.intent import Intent, NotRecognized
from zeroconf import IPVersion
from zeroconf.asyncio import AsyncZeroconf

from slm_mesh.services.contracts.intent import IntentRequest, IntentResult
from slm_mesh.services.contracts.text import CANNOT_HELP
from slm_mesh.services.errors import InvalidRequestError, UnreadablePayload
from slm_mesh.services.home.model import Home
from slm_mesh.services.intent.core import IntentService
from slm_mesh.services.intent.evaluate import load_cases
from slm_mesh.services.intent.recognizer import IntentRecognizer
from slm_mesh.services.mesh import running_mesh, wyoming_on_mesh
from slm_mesh.services.router.answer import Answer
from slm_mesh.services.router.backends import InProcessIntent
from slm_mesh.services.router.request import RouterRequest
from slm_mesh.services.router.router import Router
from slm_mesh.services.runtime.broker import find_mosquitto
from slm_mesh.services.settings import Settings
from slm_mesh.services.wyoming.announce import SERVICE_TYPE, announced, reachable_address
from slm_mesh.services.wyoming.events import answer_events, describe, request_from
from slm_mesh.services.wyoming.reader import read_event
from slm_mesh.services.wyoming.server import WyomingServer, running_wyoming

DATA = Path(__file__).resolve().parent / "data"
REQUEST = RouterRequest(id="r1", text="turn off the kitchen lights and lock the front door")
OFF = IntentResult("turn off the kitchen lights", "HassTurnOff", {"area": "Kitchen"}, 0.9)
LOCK = IntentResult("lock the front door", "HassTurnOn", {"name": "Front Lock"}, 0.9)


def _types(events: list[Event]) -> list[str]:
    return [event.type for event in events]


def test_one_intent_is_one_intent_event_with_its_slots_as_entities() -> None:
    (event,) = answer_events(Answer.for_intents(REQUEST, [OFF]))

    intent = Intent.from_event(event)
    assert intent.name == "HassTurnOff"
    assert [(e.name, e.value) for e in intent.entities] == [("area", "Kitchen")]


def test_a_compound_command_is_one_group_of_intents() -> None:
    events = answer_events(Answer.for_intents(REQUEST, [OFF, LOCK]))

    assert _types(events) == ["intents-start", "intent", "intent", "intents-stop"]
    assert [Intent.from_event(e).name for e in events[1:3]] == ["HassTurnOff", "HassTurnOn"]


def test_a_fallback_reply_is_handled_with_its_text() -> None:
    answer = Answer(request=REQUEST, task="intent", text="Paris.", tier="llm")

    (event,) = answer_events(answer)

    assert (event.type, event.data["text"]) == ("handled", "Paris.")


def test_what_nobody_can_answer_is_not_recognized_with_a_sentence_to_speak() -> None:
    answer = Answer.for_intents(REQUEST, [], text=CANNOT_HELP)

    (event,) = answer_events(answer)

    assert NotRecognized.from_event(event).text == CANNOT_HELP


def test_a_secret_in_an_error_is_not_spoken() -> None:
    answer = Answer.error(
        REQUEST, "intent", "unavailable", "fallback http://me:hunter2@llm.local/v1 is down"
    )

    (event,) = answer_events(answer)

    assert "hunter2" not in event.data["text"]


def test_an_error_is_not_handled_with_its_message() -> None:
    answer = Answer.error(REQUEST, "intent", "deadline_exceeded", "no answer within 5 s")

    (event,) = answer_events(answer)

    assert (event.type, event.data["text"]) == ("not-handled", "no answer within 5 s")


def test_a_transcript_from_a_satellite_asks_as_that_device() -> None:
    event = Transcript(
        text="lights off",
        language="en-GB",
        context={"conversation_id": "c1", "device_id": "d1", "satellite_id": "satellite-kitchen"},
    ).event()

    request = request_from(event)

    assert (request.text, request.device) == ("lights off", "satellite-kitchen")


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        ({"text": "   "}, "no text"),
        ({"text": 7}, "no text"),
        ({"text": "lights off", "language": "de"}, "understands en"),
        ({"text": "lights off", "context": ["x"]}, "'context' must be an object"),
        ({"text": "lights off", "context": {"device_id": {"a": 1}}}, "must be text"),
    ],
)
def test_a_transcript_the_mesh_cannot_take_says_why(
    data: dict[str, object], complaint: str
) -> None:
    with pytest.raises(InvalidRequestError, match=complaint):
        request_from(Event(type="transcript", data=data))


def test_info_names_an_installed_intent_program_in_english() -> None:
    info = Info.from_event(describe(version="1.0", plugin="minilm").event())

    (program,) = info.intent
    assert program.installed and program.models[0].installed
    assert program.models[0].languages == ["en"]
    assert info.handle[0].supports_home_control


def _read(raw: bytes) -> Event | None:
    async def run() -> Event | None:
        reader = asyncio.StreamReader(limit=64 * 1024)
        reader.feed_data(raw)
        reader.feed_eof()
        return await read_event(reader)

    return asyncio.run(run())


def test_the_reader_merges_the_data_that_follows_the_header() -> None:
    data = json.dumps({"text": "lights off"}).encode()
    header = json.dumps({"type": "transcript", "data_length": len(data)}).encode()

    event = _read(header + b"\n" + data)

    assert event is not None and (event.type, event.data) == ("transcript", {"text": "lights off"})


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        (b"[" * 3000 + b"]" * 3000 + b"\n", "nested too deeply"),
        (b'["transcript"]\n', "must be a JSON object"),
        (b'{"type": "transcript", "data_length": 100000000000}\n', "whole number up to"),
        (b'{"type": "transcript", "data_length": 50}\n{"text"', "in the middle of an event's data"),
        (b'{"type": "transcript", "data": "text"}\n', "'data' must be an object"),
        (b'{"type": "transc', "in the middle of an event header"),
        (b'{"type": ""}\n', "short string"),
        (b"\xff\xfe\n", "not UTF-8"),
    ],
)
def test_the_reader_refuses_what_it_cannot_trust(raw: bytes, complaint: str) -> None:
    with pytest.raises(UnreadablePayload, match=complaint):
        _read(raw)


def test_the_reader_ends_quietly_at_the_end_of_the_stream() -> None:
    assert _read(b"") is None


@asynccontextmanager
async def _agent(recognizer: IntentRecognizer) -> AsyncIterator[WyomingServer]:
    async with IntentService(recognizer=recognizer) as service:
        router = Router(
            intent=InProcessIntent(service=service), devices={"satellite-kitchen": "Kitchen"}
        )
        async with running_wyoming(
            router, host="127.0.0.1", port=0, version="test", plugin="minilm"
        ) as server:
            yield server


async def _converse(port: int, event: Event) -> list[Event]:
    """As Home Assistant does: one connection per sentence, read until its answer ends."""
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(event)
        events: list[Event] = []
        while not _answer_complete(events):
            reply = await asyncio.wait_for(client.read_event(), timeout=30)
            assert reply is not None, f"connection closed after {_types(events)}"
            events.append(reply)
        return events


def _answer_complete(events: list[Event]) -> bool:
    if not events:
        return False
    return events[0].type != "intents-start" or events[-1].type == "intents-stop"


def _run(recognizer: IntentRecognizer, play: Callable[[int], Awaitable[None]]) -> WyomingServer:
    async def run() -> WyomingServer:
        async with _agent(recognizer) as server:
            await play(server.port)
            return server

    return asyncio.run(run())


@pytest.mark.slow
def test_home_assistants_sequence_gets_the_events_it_reads(
    demo_recognizer: IntentRecognizer,
) -> None:
    async def play(port: int) -> None:
        (info,) = await _converse(port, Describe().event())
        assert Info.from_event(info).intent[0].models[0].languages == ["en"]

        kitchen = {"conversation_id": "c1", "satellite_id": "satellite-kitchen"}
        (single,) = await _converse(
            port, Transcript(text="lights off", language="en", context=kitchen).event()
        )
        intent = Intent.from_event(single)
        assert intent.name == "HassTurnOff"
        assert {e.name: e.value for e in intent.entities}["area"] == "Kitchen"

        compound = await _converse(
            port,
            Transcript(text="turn off the kitchen lights and lock the front door").event(),
        )
        assert _types(compound) == ["intents-start", "intent", "intent", "intents-stop"]
        off, lock = (Intent.from_event(e) for e in compound[1:3])
        assert (off.name, lock.name) == ("HassTurnOff", "HassTurnOn")
        assert {e.name: e.value for e in lock.entities}["name"] == "Front Lock"

        (unknown,) = await _converse(port, Transcript(text="what is the capital of france").event())
        assert unknown.type == "not-recognized" and unknown.data["text"]

    _run(demo_recognizer, play)


@pytest.mark.slow
def test_a_connection_that_sends_junk_is_closed_and_the_agent_keeps_answering(
    demo_recognizer: IntentRecognizer,
) -> None:
    async def play(port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"[" * 3000 + b"]" * 3000 + b"\n")
        await writer.drain()
        header, _, data = (await asyncio.wait_for(reader.read(), timeout=10)).partition(b"\n")
        writer.close()
        await writer.wait_closed()
        assert json.loads(header)["type"] == "error"
        assert "nested too deeply" in json.loads(data)["text"]

        (unknown_type,) = await _converse(port, Event(type="audio-chunk", data={"rate": 16000}))
        assert unknown_type.type == "error"
        (refused,) = await _converse(port, Transcript(text="  ").event())
        assert refused.type == "not-handled"
        (answer,) = await _converse(port, Transcript(text="turn off the kitchen lights").event())
        assert answer.type == "intent"

    counts = _run(demo_recognizer, play).counts
    assert (counts.connections, counts.unreadable, counts.refused, counts.answered) == (4, 1, 1, 1)


@pytest.mark.parametrize(
    ("host", "address"),
    [("127.0.0.1", None), ("localhost", None), ("192.168.1.20", "192.168.1.20")],
)
def test_only_an_address_others_can_reach_is_announced(host: str, address: str | None) -> None:
    assert reachable_address(host) == address


@pytest.mark.integration
def test_home_assistant_finds_the_agent_over_zeroconf() -> None:
    async def run() -> tuple[int, list[str]] | None:
        loopback = ["127.0.0.1"]
        async with announced(
            name="slm-mesh-test", address="127.0.0.1", port=10799, interfaces=loopback
        ):
            browser = AsyncZeroconf(interfaces=loopback, ip_version=IPVersion.V4Only)
            try:
                info = await browser.async_get_service_info(
                    SERVICE_TYPE, f"slm-mesh-test.{SERVICE_TYPE}", timeout=3000
                )
            finally:
                await browser.async_close()
        return None if info is None else (info.port or 0, info.parsed_addresses())

    assert asyncio.run(run()) == (10799, ["127.0.0.1"])


@pytest.mark.slow
@pytest.mark.integration
def test_serve_wyoming_answers_from_the_running_mesh(mesh: MeshThread) -> None:
    async def run() -> list[Event]:
        async with wyoming_on_mesh(mesh.settings.updated(wyoming_port=0)) as server:
            return await _converse(
                server.port, Transcript(text="turn off the kitchen lights").event()
            )

    (answer,) = asyncio.run(run())

    intent = Intent.from_event(answer)
    assert (intent.name, {e.name: e.value for e in intent.entities}["area"]) == (
        "HassTurnOff",
        "Kitchen",
    )


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(find_mosquitto() is None, reason="needs mosquitto (.ci/run installs it)")
def test_assist_on_up_with_the_home_read_from_home_assistant(
    cache_dir: Path, tmp_path: Path, demo_home: Home, demo_recognizer: IntentRecognizer
) -> None:
    """`up` reading its home from Home Assistant: a satellite's area comes from Home
    Assistant's device registry, and a rename there is understood without a restart."""
    data = home_assistant_shapes(demo_home)
    data.devices.append({"id": "satellite-device", "area_id": "kitchen"})
    data.entities.append(
        {
            "entity_id": "assist_satellite.kitchen",
            "device_id": "satellite-device",
            "area_id": None,
            "options": {},
        }
    )
    data.states.append(
        {
            "entity_id": "assist_satellite.kitchen",
            "state": "idle",
            "attributes": {"friendly_name": "Kitchen Satellite"},
        }
    )

    async def run() -> None:
        async with fake_home_assistant(data) as home_assistant:
            settings = Settings(cache_dir=cache_dir, port=0).updated(
                broker_port=0,
                homeassistant_url=home_assistant.url,
                homeassistant_token=TOKEN,
                unanswered_log=tmp_path / "unanswered.jsonl",
            )
            async with running_mesh(settings) as mesh:
                assert mesh.wyoming is not None
                port = mesh.wyoming.port
                satellite = {
                    "conversation_id": "c1",
                    "device_id": "satellite-device",
                    "satellite_id": "assist_satellite.kitchen",
                }
                (single,) = await _converse(
                    port, Transcript(text="lights off", language="en", context=satellite).event()
                )
                intent = Intent.from_event(single)
                assert intent.name == "HassTurnOff"
                assert {e.name: e.value for e in intent.entities}["area"] == "Kitchen"

                lamp = data.state("light.study_desk_lamp")
                before = json.loads(json.dumps(lamp))
                lamp["attributes"]["friendly_name"] = "Reading Lamp"
                await home_assistant.fire(
                    "state_changed",
                    {"entity_id": lamp["entity_id"], "old_state": before, "new_state": lamp},
                )
                async with asyncio.timeout(20):
                    while True:
                        (reply,) = await _converse(
                            port, Transcript(text="turn on the reading lamp").event()
                        )
                        slots = {e.name: e.value for e in Intent.from_event(reply).entities}
                        if slots.get("name") == "Reading Lamp":
                            break
                        await asyncio.sleep(0.1)
                assert Intent.from_event(reply).name == "HassTurnOn"

    asyncio.run(run())


@pytest.mark.slow
def test_home_assistant_receives_the_intents_the_intent_service_finds(
    demo_recognizer: IntentRecognizer,
) -> None:
    """The development cases, each spoken from a satellite in its case's area: what comes
    over Wyoming is what the intent service answers (the router adds nothing wrong, such as
    splitting a command from its reason as if they were two commands)."""
    cases = load_cases(DATA / "dev_examples.yaml")
    devices = {f"satellite-{case.area}": case.area for case in cases if case.area}

    async def run() -> list[list[Event]]:
        async with IntentService(recognizer=demo_recognizer) as service:
            router = Router(intent=InProcessIntent(service=service), devices=devices)
            async with running_wyoming(
                router, host="127.0.0.1", port=0, version="test", plugin="minilm"
            ) as server:
                answers = []
                for case in cases:
                    context = {"satellite_id": f"satellite-{case.area}"} if case.area else {}
                    transcript = Transcript(text=case.text, language="en", context=context)
                    answers.append(await _converse(server.port, transcript.event()))
                return answers

    answers = asyncio.run(run())

    direct = demo_recognizer.recognize_batch(
        [IntentRequest(text=case.text, area=case.area) for case in cases]
    )
    for case, events, expected in zip(cases, answers, direct, strict=True):
        if expected.intent is None:
            assert _types(events) == ["not-recognized"], case.text
            continue
        assert _types(events) == ["intent"], case.text
        intent = Intent.from_event(events[0])
        assert intent.name == expected.intent, case.text
        assert {e.name: e.value for e in intent.entities} == {
            name: value for name, value in expected.slots.items()
        }, case.text
