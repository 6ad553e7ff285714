"""`slm-mesh bench intent`: the service over gRPC beside raw ONNX Runtime and hassil, one run.

The service runs in its own process (its start-up and memory are its own) and is driven
through `ServiceClient`, as a real caller would. Raw ONNX Runtime gets the same model, the
same threads and the same sentences in this process. The box is shared and noisy, so the
two sides alternate: a raw pass, a service pass, a raw pass, ... and each throughput run is
split into halves taken in turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from slm_mesh.services.contracts.intent import CONTRACT, IntentRequest, IntentResult
from slm_mesh.services.errors import InvalidRequestError, SlmMeshError
from slm_mesh.services.home.files import load_settings_home
from slm_mesh.services.intent.service import build_recognizer
from slm_mesh.services.intent.templates import HassilBaseline
from slm_mesh.services.kit.contract import Contract
from slm_mesh.services.kit.grpc_client import ServiceClient
from slm_mesh.services.runtime.broker import free_port
from slm_mesh.services.runtime.onnx_session import Embedder, create_session
from slm_mesh.services.settings import ENV_PREFIX, Settings, settings_env
from slm_mesh.tools.bench.intent_report import (
    BenchReport,
    CpuUse,
    Latency,
    Row,
    Starvation,
    stat_cpu_seconds,
    status_mb,
)

__all__ = [
    "SENTENCES",
    "RawOrt",
    "ServiceProcess",
    "async_latencies",
    "batches",
    "long_texts",
    "rate",
    "run_bench",
    "run_for",
    "small_calls_beside_big_ones",
    "sync_latencies",
]

SENTENCES = (
    "turn on the pendant", "switch off the lights in the kitchen", "it's pitch black in the study",
    "set the desk lamp to 40 percent", "make the floor lamp purple", "dim the night light a bit",
    "turn the porch light on", "kill the lights in the kitchen", "boil the kettle",
    "warm the study up to 21 degrees", "set the study radiator to 19", "how warm is the nursery",
    "what's the temperature in the nursery", "lower the lounge blinds", "open the blinds halfway",
    "close the lounge blinds", "lock the front", "is the front lock locked",
    "is the porch light on", "movie time, start movie night", "activate movie night",
    "have dusty clean the lounge", "send dusty back to its dock", "set a timer for 12 minutes",
    "knock two minutes off the timer", "how much time is left", "cancel the timer", "next song",
    "pause the speaker", "speaker volume to 25", "turn it up a little on the speaker",
    "what time is it", "what's the date today", "add bread to the shopping list",
    "we're out of oat milk", "never mind", "it's way too bright in the lounge",
    "could you switch everything off upstairs", "what's a good recipe for banana bread",
    "why does my boiler make a banging noise",
)  # fmt: skip
LATENCY_ROUNDS = 5
CLIENTS = 32
START_TIMEOUT_S = 120.0
BIG_CLIENTS = 3
BIG_TEXTS = 64
BIG_TEXT_CHARS = 840
BIG_LEAD_S = 0.25
"""The big clients send for this long before the small one starts: their texts are queued."""
SMALL_MIN_CALLS = 5
CALL_TIMEOUT_S = 120.0
"""Deadline of the starvation calls: long, so that a slow answer is measured, not cut off."""
STOP_TIMEOUT_S = 10.0

Rate = tuple[int, float]  # (sentences done, seconds taken)


def run_bench(settings: Settings, *, seconds: float) -> BenchReport:
    """Measure everything once; `seconds` is the length of each throughput run."""
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    home = load_settings_home(settings)
    # Trains and caches the head the first time, so that the service below starts cached.
    recognizer, embedder = build_recognizer(settings, home=home)
    hassil = HassilBaseline(home=home, language=home.language)
    strict = _in_process_row("hassil strict (in-process)", hassil.templates.match)
    fuzzy = _in_process_row("hassil strict+fuzzy (in-process)", hassil.match)
    chunks = itertools.cycle([_requests(b) for b in batches(SENTENCES, CLIENTS)])
    pipeline = _in_process_row(
        "recognizer (in-process)",
        lambda text: recognizer.recognize_batch(_requests([text])),
        per_s_32=rate([run_for(seconds, lambda: len(recognizer.recognize_batch(next(chunks))))]),
    )
    model_texts = recognizer.match_templates(_requests(SENTENCES)).pending_texts
    # The heaviest calls the service accepts: BIG_TEXTS long texts, or as many as fit.
    big_texts = max(1, min(BIG_TEXTS, settings.max_call_chars // BIG_TEXT_CHARS))
    with ServiceProcess(settings) as service:
        start_s = asyncio.run(service.wait_serving(START_TIMEOUT_S))
        idle_rss_mb = service.memory_mb("VmRSS")
        raw, served, cpu = asyncio.run(_compare(RawOrt(embedder), service, seconds))
        peak_rss_mb = service.memory_mb("VmHWM")
        starvation = asyncio.run(
            small_calls_beside_big_ones(
                service.target, seconds / 2, small=model_texts, big_texts=big_texts
            )
        )
    return BenchReport(
        raw=raw,
        service=served,
        hassil_strict=strict,
        hassil_fuzzy=fuzzy,
        recognizer=pipeline,
        idle_rss_mb=idle_rss_mb,
        peak_rss_mb=peak_rss_mb,
        start_s=start_s,
        sentences=len(SENTENCES),
        seconds=seconds,
        cpus=os.cpu_count() or 1,
        cpu=cpu,
        starvation=starvation,
        notes=(
            f"the head was built in-process first and cached in {settings.cache_dir}; "
            "time to SERVING is the cached start (process spawn to health SERVING)",
            "raw ORT: tokenizer + session.run on the service's model file (without the "
            "service's per-text wrapper), in sessions of its own: one intra-op thread for a "
            "single sentence (its fastest), two for "
            f"batches; its 32-client column is batches of {CLIENTS}",
            "service: a subprocess on loopback, single-utterance Recognize calls via "
            f"ServiceClient; {CLIENTS} clients are {CLIENTS} channels on one asyncio loop",
            "in-process rows have no server; their 1-client rate is 1 / mean latency; the "
            f"recognizer's 32 column is recognize_batch on batches of {CLIENTS}, for reference",
            f"latency: {LATENCY_ROUNDS} alternating rounds over all sentences; "
            "throughput: two alternating halves each",
            "CPU: process CPU time over the 32-client halves (the clients' is this process's), "
            "per sentence answered",
            f"small calls beside big ones: {seconds / 2:g} s each way, after the rest (peak RSS "
            f"is read before it); the small client sends the {len(model_texts)} sentences no "
            "template answers (they queue for the model), the big clients run-on sentences",
        ),
    )


class RawOrt:
    """The floor: what ONNX Runtime alone does with the service's model and tokenizer.

    At its best on each job: one sentence runs on one intra-op thread (faster than two on
    a short text), a batch on two.
    """

    def __init__(self, embedder: Embedder) -> None:
        self._single = create_session(embedder.model_path, intra_op_threads=1)
        self._batched = create_session(embedder.model_path)
        self._tokenizer = embedder.tokenizer
        self._inputs = [i.name for i in self._single.get_inputs()]

    def run(self, texts: Sequence[str]) -> int:
        encodings = self._tokenizer.encode_batch(list(texts))
        arrays = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        session = self._single if len(texts) == 1 else self._batched
        session.run(None, {name: arrays[name] for name in self._inputs})
        return len(texts)


async def _compare(raw: RawOrt, service: ServiceProcess, seconds: float) -> tuple[Row, Row, CpuUse]:
    target = service.target
    raw_latencies: list[float] = []
    service_latencies: list[float] = []
    raw_1: list[Rate] = []
    raw_32: list[Rate] = []
    service_1: list[Rate] = []
    service_32: list[Rate] = []
    async with ServiceClient(CONTRACT, target=target) as client:

        async def recognize(text: str) -> None:
            await client.call([IntentRequest(text=text)])

        sync_latencies(lambda text: raw.run([text]))  # warm-up, both sides
        await async_latencies(recognize)
        for _ in range(LATENCY_ROUNDS):
            raw_latencies += sync_latencies(lambda text: raw.run([text]))
            service_latencies += await async_latencies(recognize)
    singles = itertools.cycle(SENTENCES)
    chunks = itertools.cycle(batches(SENTENCES, CLIENTS))
    raw_cpu_s = 0.0
    meter = _CpuMeter(service)
    for _ in range(2):
        raw_1.append(run_for(seconds / 2, lambda: raw.run([next(singles)])))
        service_1.append(await _clients(target, 1, seconds / 2))
        started = time.process_time()
        raw_32.append(run_for(seconds / 2, lambda: raw.run(next(chunks))))
        raw_cpu_s += time.process_time() - started
        service_32.append(await _clients(target, CLIENTS, seconds / 2, meter=meter))
    served = sum(done for done, _ in service_32)
    cpu = CpuUse(
        raw_ms=raw_cpu_s / sum(done for done, _ in raw_32) * 1e3,
        service_ms=meter.service_s / served * 1e3,
        clients_ms=meter.ours_s / served * 1e3,
    )
    return (
        Row.from_samples(
            "raw ONNX Runtime", raw_latencies, per_s_1=rate(raw_1), per_s_32=rate(raw_32)
        ),
        Row.from_samples(
            "service over gRPC",
            service_latencies,
            per_s_1=rate(service_1),
            per_s_32=rate(service_32),
        ),
        cpu,
    )


async def small_calls_beside_big_ones(
    target: str, seconds: float, *, small: Sequence[str], big_texts: int
) -> Starvation:
    """One client's single sentences (from `small`) for `seconds` alone, then for `seconds`
    while BIG_CLIENTS other clients keep sending `big_texts` long texts a call."""
    batch = _requests(long_texts(big_texts, BIG_TEXT_CHARS))
    outcomes: Counter[str] = Counter()

    async def keep_sending(client: ServiceClient[IntentRequest, IntentResult]) -> None:
        while True:
            try:
                await client.call(batch)
            except InvalidRequestError:
                outcomes["refused"] += 1
            else:
                outcomes["answered"] += 1

    async with contextlib.AsyncExitStack() as stack:
        one, *big = [
            await stack.enter_async_context(
                ServiceClient(CONTRACT, target=target, timeout=CALL_TIMEOUT_S)
            )
            for _ in range(1 + BIG_CLIENTS)
        ]
        await one.call(_requests(small[:1]))  # connected before the clock
        alone = await _timed_calls(one, small, seconds)
        senders = [asyncio.create_task(keep_sending(client)) for client in big]
        await asyncio.sleep(BIG_LEAD_S)
        beside = await _timed_calls(one, small, seconds)
        for sender in senders:
            sender.cancel()  # the callers go; what the service still does for them is its own
        await asyncio.gather(*senders, return_exceptions=True)
    return Starvation(
        alone=Latency.from_samples(alone),
        beside_big=Latency.from_samples(beside),
        big_clients=BIG_CLIENTS,
        big_texts=big_texts,
        big_text_chars=BIG_TEXT_CHARS,
        big_answered=outcomes["answered"],
        big_refused=outcomes["refused"],
    )


async def _timed_calls(
    client: ServiceClient[IntentRequest, IntentResult], sentences: Sequence[str], seconds: float
) -> list[float]:
    """Latencies of single-sentence calls, one after another, for `seconds` and at least
    SMALL_MIN_CALLS calls."""
    texts = itertools.cycle(sentences)
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(latencies) < SMALL_MIN_CALLS:
        started = time.perf_counter()
        await client.call([IntentRequest(text=next(texts))])
        latencies.append(time.perf_counter() - started)
    return latencies


def long_texts(count: int, chars: int) -> list[str]:
    """`count` different run-on utterances of `chars` characters, made of SENTENCES."""
    texts = []
    for offset in range(count):
        sentences = itertools.cycle(SENTENCES[offset % len(SENTENCES) :] + SENTENCES)
        text = ""
        while len(text) < chars:
            text += next(sentences) + ", "
        texts.append(text[:chars])
    return texts


def _in_process_row(
    name: str, match: Callable[[str], object], *, per_s_32: float | None = None
) -> Row:
    sync_latencies(match)  # warm-up
    latencies = [s for _ in range(LATENCY_ROUNDS) for s in sync_latencies(match)]
    return Row.from_samples(
        name, latencies, per_s_1=len(latencies) / sum(latencies), per_s_32=per_s_32
    )


def _requests(texts: Sequence[str]) -> list[IntentRequest]:
    return [IntentRequest(text=text) for text in texts]


def sync_latencies(call: Callable[[str], object]) -> list[float]:
    latencies = []
    for text in SENTENCES:
        started = time.perf_counter()
        call(text)
        latencies.append(time.perf_counter() - started)
    return latencies


async def async_latencies(call: Callable[[str], Awaitable[None]]) -> list[float]:
    latencies = []
    for text in SENTENCES:
        started = time.perf_counter()
        await call(text)
        latencies.append(time.perf_counter() - started)
    return latencies


def run_for(seconds: float, step: Callable[[], int]) -> Rate:
    started = time.perf_counter()
    done = 0
    while time.perf_counter() - started < seconds:
        done += step()
    return done, time.perf_counter() - started


class _CpuMeter:
    """Adds up the CPU time of this process (the clients) and of the service while the
    clock runs."""

    def __init__(self, service: ServiceProcess) -> None:
        self._service = service
        self._started = (0.0, 0.0)
        self.ours_s = 0.0
        self.service_s = 0.0

    def start(self) -> None:
        self._started = (time.process_time(), self._service.cpu_seconds())

    def stop(self) -> None:
        ours, theirs = self._started
        self.ours_s += time.process_time() - ours
        self.service_s += self._service.cpu_seconds() - theirs


async def _clients(
    target: str, clients: int, seconds: float, *, meter: _CpuMeter | None = None
) -> Rate:
    """`clients` channels, each looping single-utterance calls; connected before the clock."""
    async with contextlib.AsyncExitStack() as stack:
        opened = [
            await stack.enter_async_context(ServiceClient(CONTRACT, target=target))
            for _ in range(clients)
        ]
        await asyncio.gather(*(c.call([IntentRequest(text=SENTENCES[0])]) for c in opened))
        if meter is not None:
            meter.start()
        started = time.perf_counter()
        deadline = started + seconds

        async def loop(client: ServiceClient[IntentRequest, IntentResult], offset: int) -> int:
            texts = itertools.cycle(SENTENCES[offset:] + SENTENCES[:offset])
            done = 0
            while time.perf_counter() < deadline:
                await client.call([IntentRequest(text=next(texts))])
                done += 1
            return done

        counts = await asyncio.gather(*(loop(c, i % len(SENTENCES)) for i, c in enumerate(opened)))
        taken = time.perf_counter() - started
        if meter is not None:
            meter.stop()
        return sum(counts), taken


def rate(rates: Sequence[Rate]) -> float:
    return sum(done for done, _ in rates) / sum(taken for _, taken in rates)


def batches(texts: Sequence[str], size: int) -> list[list[str]]:
    looped = list(itertools.islice(itertools.cycle(texts), size * len(texts)))
    return [looped[i : i + size] for i in range(0, len(looped), size)]


class ServiceProcess:
    """`slm-mesh <command>` (by default `serve intent`) in a subprocess with these settings
    and a gRPC port of its own, stopped on exit; `contract` names the service whose health
    says it is ready."""

    def __init__(
        self,
        settings: Settings,
        command: Sequence[str] = ("serve", "intent"),
        *,
        contract: Contract[Any, Any] = CONTRACT,
    ) -> None:
        self.contract = contract
        self.port = free_port()
        self.target = f"127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
        env |= settings_env(settings)
        env |= {f"{ENV_PREFIX}HOST": "127.0.0.1", f"{ENV_PREFIX}PORT": str(self.port),
                f"{ENV_PREFIX}LOG_LEVEL": "warning"}  # fmt: skip
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in __exit__)
        self._started = time.perf_counter()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "slm_mesh.services.cli", *command],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def __enter__(self) -> ServiceProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log.close()

    async def wait_serving(self, timeout: float) -> float:
        """Seconds from spawn to health SERVING. The port is polled first: a gRPC channel
        that failed to connect backs off for a second or more, which would pad the time."""
        deadline = self._started + timeout
        while True:
            if self._process.poll() is not None:
                raise SlmMeshError(f"the service exited early:\n{self._output_tail()}")
            if time.perf_counter() > deadline:
                raise SlmMeshError(f"the service did not listen within {timeout} s")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            writer.close()
            await writer.wait_closed()
            break
        async with ServiceClient(self.contract, target=self.target) as client:
            await client.wait_until_serving(max(deadline - time.perf_counter(), 1.0), poll=0.01)
        return time.perf_counter() - self._started

    def memory_mb(self, key: str) -> float:
        return status_mb(Path(f"/proc/{self._process.pid}/status").read_text(), key)

    def cpu_seconds(self) -> float:
        """CPU time the service has used so far, all threads."""
        stat = Path(f"/proc/{self._process.pid}/stat").read_text()
        return stat_cpu_seconds(stat, os.sysconf("SC_CLK_TCK"))

    def _output_tail(self, chars: int = 3000) -> str:
        self._log.seek(0)
        output: bytes = self._log.read()
        return output.decode("utf-8", errors="replace")[-chars:]
