"""`slm-mesh bench mesh`: device event → answer over MQTT, beside the same sentences sent
straight to the gRPC intent service and to raw ONNX Runtime, in one run.

The mesh is `slm-mesh up` in a subprocess (router and one intent replica, which the router
calls in-process), on a Mosquitto the bench starts; a second replica (`slm-mesh serve
intent --mqtt`) joins for the 2-replica rows and takes the router's overflow. This process
is the device: it publishes events and waits for the answers. Raw ONNX Runtime runs here,
alternating with the others, because the box is shared and noisy.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from slm_mesh.services.contracts.intent import CONTRACT, IntentRequest, IntentResult
from slm_mesh.services.errors import SlmMeshError
from slm_mesh.services.intent.service import build_recognizer
from slm_mesh.services.kit.grpc_client import ServiceClient
from slm_mesh.services.mesh_client import MeshClient, mesh_client
from slm_mesh.services.runtime.broker import EmbeddedBroker
from slm_mesh.services.runtime.mqtt import MqttClient
from slm_mesh.services.runtime.topics import Topics
from slm_mesh.services.settings import Settings
from slm_mesh.tools.bench.intent import (
    SENTENCES,
    RawOrt,
    ServiceProcess,
    async_latencies,
    batches,
    rate,
    run_for,
    sync_latencies,
)
from slm_mesh.tools.bench.intent_report import Row, row_table

MAX_LATENCY_RATIO = 3.0
"""Device event → answer over MQTT: p50 at most this many times raw ONNX Runtime's."""
LATENCY_ROUNDS = 3
CLIENTS = 32
START_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class MeshReport:
    rows: tuple[Row, ...]
    """raw ORT, gRPC service, mesh with 1 replica, mesh with 2 replicas."""
    seconds: float
    cpus: int
    broker: str

    @property
    def latency_ratio(self) -> float:
        return self.rows[2].p50_ms / self.rows[0].p50_ms

    def format(self) -> str:
        lines = [
            f"mesh benchmark: {len(SENTENCES)} sentences, {self.seconds:g} s per throughput "
            f"run, {self.cpus} CPUs, broker {self.broker}",
            "",
            *row_table(self.rows),
        ]
        ok = "✓" if self.latency_ratio <= MAX_LATENCY_RATIO else "✗"
        target = f"<= {MAX_LATENCY_RATIO:.2f} {ok}"
        two = self.rows[3].per_s_32 or 0.0
        one = self.rows[2].per_s_32 or 1.0
        lines += [
            "",
            f"{'mesh p50 / raw ORT p50':40}{self.latency_ratio:9.2f}  {target}",
            f"{'mesh 32 clients, 2 replicas / 1':40}{two / one:9.2f}",
            "",
            "note: raw ORT's 32-client column is batches of 32 in one call",
            "note: mesh = device event published to the broker -> router -> intent "
            "service -> router -> answer on the device's response topic; the router asks "
            "the service in its own process first, and the second replica (over the broker) "
            "once that one holds a full batch",
        ]  # fmt: skip
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": [asdict(row) for row in self.rows],
            "latency_ratio": self.latency_ratio,
            "max_latency_ratio": MAX_LATENCY_RATIO,
            "seconds": self.seconds,
            "cpus": self.cpus,
            "broker": self.broker,
        }


def run_mesh_bench(settings: Settings, *, seconds: float, as_json: bool) -> int:
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    report = asyncio.run(_bench(settings, seconds))
    print(json.dumps(report.as_json(), indent=2) if as_json else report.format())
    return 0


async def _bench(settings: Settings, seconds: float) -> MeshReport:
    # Builds (or loads) the head first, so the mesh processes below start from the cache.
    _, embedder = await asyncio.to_thread(build_recognizer, settings)
    raw = RawOrt(embedder)
    with tempfile.TemporaryDirectory(prefix="slm-mesh-bench-") as data_dir:
        async with EmbeddedBroker(data_dir=Path(data_dir), port=0) as broker:
            features = broker.features
            mesh = settings.updated(
                mqtt_url=f"mqtt://{broker.url.host}:{broker.port}",
                mqtt_protocol=features.protocol,
                mqtt_shared_subscriptions=features.shared_subscriptions,
                unanswered_log=Path(data_dir) / "unanswered.jsonl",
                wyoming_enabled=False,
            )
            topics = Topics(prefix=mesh.mqtt.prefix)
            with ServiceProcess(mesh, command=("up",)) as up:
                await up.wait_serving(START_TIMEOUT_S)
                await _wait_online(broker, topics, {"router": 1, "intent": 1})
                async with (
                    mesh_client(broker.url, topics=topics, protocol=mesh.mqtt.protocol) as client,
                    ServiceClient(CONTRACT, target=up.target) as grpc,
                ):
                    raw_row, grpc_row, one = await _compare(raw, grpc, client, seconds)
                    with ServiceProcess(mesh, command=("serve", "intent")) as replica:
                        await replica.wait_serving(START_TIMEOUT_S)
                        await _wait_online(broker, topics, {"router": 1, "intent": 2})
                        two = await _mesh_row("mesh, 2 intent replicas", client, seconds)
    return MeshReport(
        rows=(raw_row, grpc_row, one, two),
        seconds=seconds,
        cpus=os.cpu_count() or 1,
        broker=broker.kind,
    )


async def _compare(
    raw: RawOrt,
    grpc: ServiceClient[IntentRequest, IntentResult],
    client: MeshClient,
    seconds: float,
) -> tuple[Row, Row, Row]:
    async def recognize(text: str) -> None:
        await grpc.call([IntentRequest(text=text)])

    async def ask(text: str) -> None:
        await _checked(client, text)

    raw_latencies: list[float] = []
    grpc_latencies: list[float] = []
    mesh_latencies: list[float] = []
    sync_latencies(lambda text: raw.run([text]))  # warm-up, every side
    await async_latencies(recognize)
    await async_latencies(ask)
    for _ in range(LATENCY_ROUNDS):
        raw_latencies += sync_latencies(lambda text: raw.run([text]))
        grpc_latencies += await async_latencies(recognize)
        mesh_latencies += await async_latencies(ask)
    singles = itertools.cycle(SENTENCES)
    chunks = itertools.cycle(batches(SENTENCES, CLIENTS))
    raw_1 = run_for(seconds, lambda: raw.run([next(singles)]))
    raw_32 = run_for(seconds, lambda: raw.run(next(chunks)))
    mesh_1 = await _clients(ask, 1, seconds)
    mesh_32 = await _clients(ask, CLIENTS, seconds)
    return (
        Row.from_samples(
            "raw ONNX Runtime", raw_latencies, per_s_1=rate([raw_1]), per_s_32=rate([raw_32])
        ),
        Row.from_samples(
            "intent service over gRPC",
            grpc_latencies,
            per_s_1=len(grpc_latencies) / sum(grpc_latencies),
            per_s_32=None,
        ),
        Row.from_samples(
            "mesh, 1 intent replica",
            mesh_latencies,
            per_s_1=rate([mesh_1]),
            per_s_32=rate([mesh_32]),
        ),
    )


async def _mesh_row(name: str, client: MeshClient, seconds: float) -> Row:
    async def ask(text: str) -> None:
        await _checked(client, text)

    await async_latencies(ask)
    latencies = [s for _ in range(LATENCY_ROUNDS) for s in await async_latencies(ask)]
    return Row.from_samples(
        name,
        latencies,
        per_s_1=rate([await _clients(ask, 1, seconds)]),
        per_s_32=rate([await _clients(ask, CLIENTS, seconds)]),
    )


async def _checked(client: MeshClient, text: str) -> None:
    answer = await client.ask(text, device="bench")
    if answer.get("error"):
        raise SlmMeshError(f"the mesh answered {text!r} with an error: {answer['error']}")


async def _clients(
    ask: Callable[[str], Awaitable[None]], clients: int, seconds: float
) -> tuple[int, float]:
    started = time.perf_counter()
    deadline = started + seconds

    async def loop(offset: int) -> int:
        texts = itertools.cycle(SENTENCES[offset:] + SENTENCES[:offset])
        done = 0
        while time.perf_counter() < deadline:
            await ask(next(texts))
            done += 1
        return done

    counts = await asyncio.gather(*(loop(i % len(SENTENCES)) for i in range(clients)))
    return sum(counts), time.perf_counter() - started


async def _wait_online(broker: EmbeddedBroker, topics: Topics, wanted: dict[str, int]) -> None:
    """Until the retained statuses show `wanted` instances of each service online."""
    online: dict[str, set[str]] = {}
    async with MqttClient(broker=broker.url, client_id=f"bench-watch-{os.getpid()}") as watch:
        await watch.subscribe(topics.status())
        async with asyncio.timeout(START_TIMEOUT_S):
            async for message in watch.messages():
                _, _, rest = message.topic.partition(f"{topics.prefix}/status/")
                service, _, instance = rest.partition("/")
                if json.loads(message.payload).get("state") == "online":
                    online.setdefault(service, set()).add(instance)
                else:
                    online.setdefault(service, set()).discard(instance)
                if all(len(online.get(s, ())) >= n for s, n in wanted.items()):
                    return
