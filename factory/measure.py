"""Raw ONNX Runtime speed of several models, measured side by side in one run.

The box is shared and noisy, so models are never timed one after the other: each round
times every model once, in turn, on the same sentence (or batch), and the figures are
medians over the rounds. Sessions are plain ONNX Runtime sessions with the same options,
without the services' batching or wrappers: the models' own cost.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from slm_mesh.services.runtime.onnx_session import create_session, load_tokenizer


@dataclass(frozen=True)
class Timing:
    p50_ms: float
    """Median time of one sentence."""
    per_second: float
    """Sentences per second in batches of `batch_size` (median over batches)."""
    batch_size: int

    def as_json(self) -> dict[str, float]:
        return {
            "p50_ms": round(self.p50_ms, 3),
            "batched_per_second": round(self.per_second, 1),
            "batch_size": self.batch_size,
        }


@dataclass(frozen=True)
class Candidate:
    name: str
    model: Path
    tokenizer: Path


class _Runner:
    def __init__(self, candidate: Candidate, max_length: int) -> None:
        self.session: ort.InferenceSession = create_session(candidate.model)
        self.tokenizer = load_tokenizer(candidate.tokenizer, max_length=max_length)
        self.inputs = [i.name for i in self.session.get_inputs()]

    def seconds(self, texts: Sequence[str]) -> float:
        encodings = self.tokenizer.encode_batch(list(texts))
        columns = {
            "input_ids": [e.ids for e in encodings],
            "attention_mask": [e.attention_mask for e in encodings],
            "token_type_ids": [e.type_ids for e in encodings],
        }
        feeds = {name: np.array(columns[name], dtype=np.int64) for name in self.inputs}
        started = time.perf_counter()
        self.session.run(None, feeds)
        return time.perf_counter() - started


def side_by_side(
    candidates: Sequence[Candidate],
    texts: Sequence[str],
    *,
    rounds: int = 200,
    batch_size: int = 32,
    batches: int = 12,
    max_length: int = 256,
) -> dict[str, Timing]:
    """Each candidate's single-sentence p50 and batched rate, interleaved round by round."""
    if not texts:
        raise ValueError("no sentences to time")
    runners = {c.name: _Runner(c, max_length) for c in candidates}
    for runner in runners.values():  # the first runs allocate; they are not the model's cost
        runner.seconds(texts[:batch_size])
        runner.seconds(texts[:1])
    single: dict[str, list[float]] = {name: [] for name in runners}
    batched: dict[str, list[float]] = {name: [] for name in runners}
    for number in range(rounds):
        text = [texts[number % len(texts)]]
        for name, runner in runners.items():
            single[name].append(runner.seconds(text))
    for number in range(batches):
        start = (number * batch_size) % len(texts)
        batch = [texts[(start + i) % len(texts)] for i in range(batch_size)]
        for name, runner in runners.items():
            batched[name].append(runner.seconds(batch))
    return {
        name: Timing(
            p50_ms=statistics.median(single[name]) * 1000,
            per_second=batch_size / statistics.median(batched[name]),
            batch_size=batch_size,
        )
        for name in runners
    }
