"""The sentiment service on the kit: over gRPC with its own model (a Hugging Face export
in the standard layout, as a user points it at DistilBERT SST-2), and the shipped head
through the mesh's router."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tiny_models import write_classifier

from slm_mesh.services.contracts.sentiment import CONTRACT, SentimentRequest
from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.kit.grpc_client import ServiceClient
from slm_mesh.services.kit.host import hosting
from slm_mesh.services.sentiment.service import SERVICE
from slm_mesh.services.settings import Settings

pytestmark = pytest.mark.integration


def test_a_users_own_export_serves_over_grpc_with_its_labels(tmp_path: Path) -> None:
    folder = write_classifier(tmp_path / "sst2")
    settings = Settings(cache_dir=tmp_path / "cache", port=0).updated(
        sentiment_model=f"path:{folder}"
    )

    async def body() -> None:
        async with (
            hosting(settings, [SERVICE]) as hosted,
            ServiceClient(CONTRACT, target=f"127.0.0.1:{hosted.port}") as client,
        ):
            await client.wait_until_serving(5.0)
            good, bad = await client.call(
                [SentimentRequest("a good good film"), SentimentRequest("bad bad")]
            )
            assert (good.label, bad.label) == ("positive", "negative")
            assert sum(good.scores.values()) == pytest.approx(1.0, abs=1e-6)
            with pytest.raises(InvalidRequestError, match="no visible characters"):
                await client.call([SentimentRequest("\u200b")])
            info = await client.describe()
            assert info.name == "sentiment"
            assert (info.models[0].task, list(info.models[0].labels)) == (
                "classifier",
                ["negative", "positive"],
            )

    asyncio.run(body())
