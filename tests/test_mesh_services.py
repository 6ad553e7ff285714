"""`slm-mesh up` hosts every installed service in one process, and the router sends what
asks for a summary (or a sentiment, or code) to the service beside it, whether the request
comes over MQTT or from Home Assistant over Wyoming."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from wyoming.asr import Transcript
from wyoming.client import AsyncTcpClient

from slm_mesh.services.contracts.summarize import CONTRACT as SUMMARIZE
from slm_mesh.services.contracts.summarize import SummarizeRequest
from slm_mesh.services.kit.grpc_client import ServiceClient
from slm_mesh.services.mesh import running_mesh
from slm_mesh.services.mesh_client import mesh_client
from slm_mesh.services.runtime.broker import EmbeddedBroker, find_mosquitto
from slm_mesh.services.runtime.topics import Topics
from slm_mesh.services.settings import Settings

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(find_mosquitto() is None, reason="needs mosquitto (.ci/run installs it)"),
]

ARTICLE = (
    "The village hall reopened on Saturday after a two-year restoration. "
    "Volunteers repaired the roof, replaced the windows and rewired the kitchen. "
    "The restoration cost 240,000 pounds, most of it raised by the village itself. "
    "A grant from the county council paid for the new heating. "
    "The hall will host a market every first Sunday of the month. "
    "Dr. Lane, who chaired the committee, thanked the 84 volunteers by name."
)


def test_summaries_and_feedback_are_answered_by_the_services_in_the_same_process(
    tmp_path: Path, cache_dir: Path
) -> None:
    async def body() -> None:
        async with EmbeddedBroker(data_dir=tmp_path / "broker", port=0) as broker:
            settings = Settings(cache_dir=cache_dir, port=0).updated(
                mqtt_url=f"mqtt://127.0.0.1:{broker.port}",
                unanswered_log=tmp_path / "unanswered.jsonl",
            )
            async with (
                running_mesh(settings) as mesh,
                mesh_client(broker.url, topics=Topics()) as client,
                ServiceClient(SUMMARIZE, target=f"127.0.0.1:{mesh.grpc_port}") as grpc,
            ):
                answer = await client.ask(f"summarize this: {ARTICLE}", device="phone")
                assert (answer["task"], answer["tier"], answer["error"]) == (
                    "summarize",
                    "slm",
                    None,
                )
                sentences = answer["result"]["sentences"]
                assert answer["answer"] == " ".join(s["text"] for s in sentences)
                assert all(ARTICLE[s["start"] : s["end"]] == s["text"] for s in sentences)
                [direct] = await grpc.call([SummarizeRequest(text=ARTICLE, max_sentences=2)])
                assert len(direct.sentences) == 2
                feedback = await client.ask("that's not what I asked", device="phone")
                assert (feedback["task"], feedback["tier"]) == ("sentiment", "slm")
                assert feedback["result"]["label"] == "negative"
                assert feedback["answer"].startswith("negative (")
                code = await client.ask(
                    "write an automation that turns the porch light on at sunset", device="phone"
                )
                assert (code["task"], code["tier"], code["error"]) == ("code", "slm", None)
                assert "light.porch" in code["answer"] and code["result"]["valid"]

                assert mesh.wyoming is not None
                async with AsyncTcpClient("127.0.0.1", mesh.wyoming.port) as assist:
                    await assist.write_event(Transcript(text=f"summarize this: {ARTICLE}").event())
                    handled = await asyncio.wait_for(assist.read_event(), timeout=30)
                assert handled is not None and handled.type == "handled"
                assert handled.data["text"] == answer["answer"]

    asyncio.run(body())
