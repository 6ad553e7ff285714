"""`slm-mesh bench sentiment`: the sentiment service over gRPC (a subprocess on loopback)
next to raw ONNX Runtime (the shared encoder's session on the same texts) and the core in
this process, in one run: single texts, and batches of 32.

The texts are the feedback development set's (`tests/data/sentiment/feedback_dev.tsv`)
when present, else a few of the bench's own.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from slm_mesh.services.contracts.sentiment import CONTRACT, SentimentRequest
from slm_mesh.services.kit.grpc_client import ServiceClient
from slm_mesh.services.kit.shared import Shared
from slm_mesh.services.sentiment.classifier import SentimentClassifier
from slm_mesh.services.sentiment.head import SentimentHead, default_head_path
from slm_mesh.services.settings import Settings
from slm_mesh.tools.bench.intent import START_TIMEOUT_S, ServiceProcess

ROUNDS = 200
BATCH = 32
_DEV = Path(__file__).resolve().parents[2] / "tests" / "data" / "sentiment" / "feedback_dev.tsv"
_OWN = ("that's not what I asked", "thanks, perfect", "the new lamp is lovely", "useless again")


def texts() -> list[str]:
    if not _DEV.is_file():
        return list(_OWN)
    lines = _DEV.read_text(encoding="utf-8").splitlines()[1:]
    return [line.split("\t")[0] for line in lines if line.strip()]


def _ms(samples: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(0.99 * (len(ordered) - 1))] * 1000


def _sync(run: Callable[[], object], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return times


async def _async(run: Callable[[], Awaitable[object]], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await run()
        times.append(time.perf_counter() - started)
    return times


async def _bench(settings: Settings) -> list[tuple[str, float, float, float, float]]:
    pool = texts()
    one, batch = (
        itertools.cycle(pool),
        itertools.cycle(
            [pool[i : i + BATCH] for i in range(0, len(pool) - BATCH + 1, BATCH)] or [pool]
        ),
    )
    embedder = Shared(settings).load_encoder(settings.plugin)
    core = SentimentClassifier(embed=embedder.embed, head=SentimentHead.load(default_head_path()))
    rows = [
        ("raw ORT: encode", *_ms(_sync(lambda: embedder.embed([next(one)]), ROUNDS)),
         *_ms(_sync(lambda: embedder.embed(next(batch)), ROUNDS // 10))),
        ("core in-process", *_ms(_sync(lambda: core.classify([next(one)]), ROUNDS)),
         *_ms(_sync(lambda: core.classify(next(batch)), ROUNDS // 10))),
    ]  # fmt: skip
    with ServiceProcess(settings, ("serve", "sentiment"), contract=CONTRACT) as served:
        await served.wait_serving(START_TIMEOUT_S)
        async with ServiceClient(CONTRACT, target=served.target) as client:
            await client.call([SentimentRequest("warm up")])
            single = await _async(lambda: client.call([SentimentRequest(next(one))]), ROUNDS)
            batched = await _async(
                lambda: client.call([SentimentRequest(t) for t in next(batch)]), ROUNDS // 10
            )
    rows.append(("service over gRPC", *_ms(single), *_ms(batched)))
    return rows


def run_bench(settings: Settings) -> int:
    rows = asyncio.run(_bench(settings))
    print(f"sentiment benchmark: {ROUNDS} single texts, {ROUNDS // 10} batches of {BATCH}\n")
    print(f"{'':26}{'1 text p50':>12}{'p99':>8}{'32 texts p50':>14}{'p99':>8}")
    for name, p50, p99, batch_p50, batch_p99 in rows:
        print(f"{name:26}{p50:12.2f}{p99:8.2f}{batch_p50:14.2f}{batch_p99:8.2f}")
    raw, service = rows[0], rows[-1]
    print(f"\nservice / raw ORT, 1 text p50: {service[1] / raw[1]:.2f}")
    print(f"service / raw ORT, 32 texts p50: {service[3] / raw[3]:.2f}")
    return 0
