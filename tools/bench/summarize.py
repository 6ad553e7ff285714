"""`slm-mesh bench summarize`: a 2,000-word article summarized by the service over gRPC (a
subprocess on loopback), next to raw ONNX Runtime encoding every sentence of it, and the
core in this process, in one run.

The article is the development set's articles run together (`tests/data/summarizer/dev`
when present, else a text of the summarizer's own tests), cut to 2,000 words.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from slm_mesh.services.contracts.summarize import CONTRACT, SummarizeRequest
from slm_mesh.services.kit.grpc_client import ServiceClient
from slm_mesh.services.kit.shared import Shared
from slm_mesh.services.settings import Settings
from slm_mesh.services.summarizer.extractive import ExtractiveSummarizer
from slm_mesh.services.summarizer.sentences import split_sentences
from slm_mesh.tools.bench.intent import START_TIMEOUT_S, ServiceProcess

WORDS = 2000
ROUNDS = 30
TARGET_MS = 150.0
_DEV = Path(__file__).resolve().parents[2] / "tests" / "data" / "summarizer" / "dev" / "articles"
_FILLER = (
    "The council met on Tuesday to discuss the new bus timetable. Residents asked for "
    "earlier buses on weekdays, and Dr. Shah said the 7.15 service is often full. "
)


def article(words: int = WORDS) -> str:
    texts = [p.read_text(encoding="utf-8") for p in sorted(_DEV.glob("*.txt"))] or [_FILLER]
    body: list[str] = []
    while sum(len(t.split()) for t in body) < words:
        body.extend(texts)
    return " ".join(" ".join(body).split()[:words])


@dataclass(frozen=True)
class Row:
    name: str
    p50_ms: float
    p99_ms: float


def _row(name: str, seconds: list[float]) -> Row:
    ordered = sorted(seconds)
    return Row(
        name, statistics.median(ordered) * 1000, ordered[int(0.99 * (len(ordered) - 1))] * 1000
    )


def _timed(run: Callable[[], object], rounds: int = ROUNDS) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return times


async def _bench(settings: Settings) -> tuple[list[Row], int]:
    text = article()
    embedder = Shared(settings).load_encoder(settings.plugin)
    sentences = [text[s.start : s.end] for s in split_sentences(text)]
    core = ExtractiveSummarizer(embed=embedder.embed)
    rows = [
        _row("raw ORT: encode every sentence", _timed(lambda: embedder.embed(sentences))),
        _row("core in-process, with the encoder", _timed(lambda: core.summarize(text))),
        _row("core in-process, no encoder", _timed(lambda: ExtractiveSummarizer().summarize(text))),
    ]
    with ServiceProcess(settings, ("serve", "summarize"), contract=CONTRACT) as served:
        await served.wait_serving(START_TIMEOUT_S)
        async with ServiceClient(CONTRACT, target=served.target, timeout=30.0) as client:
            request = SummarizeRequest(text=text)
            await client.call([request])
            times = []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                await client.call([request])
                times.append(time.perf_counter() - started)
    rows.append(_row("service over gRPC", times))
    return rows, len(sentences)


def run_bench(settings: Settings) -> int:
    rows, sentences = asyncio.run(_bench(settings))
    print(f"summarizer benchmark: a {WORDS}-word article ({sentences} sentences), {ROUNDS} runs\n")
    print(f"{'':42}{'p50 ms':>9}{'p99 ms':>9}")
    for row in rows:
        print(f"{row.name:42}{row.p50_ms:9.1f}{row.p99_ms:9.1f}")
    service = rows[-1].p50_ms
    mark = "✓" if service <= TARGET_MS else "✗"
    print(f"\nservice p50 over gRPC {service:.1f} ms  <= {TARGET_MS:.0f} ms {mark}")
    return 0
