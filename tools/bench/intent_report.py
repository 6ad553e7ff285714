"""The benchmark's numbers and their verdicts: pure, so the table and targets are testable."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_LATENCY_RATIO = 2.0
"""The service's p50 over gRPC may be at most this many times raw ONNX Runtime's p50."""
MIN_THROUGHPUT_RATIO = 0.70
"""With 32 clients the service must reach this share of raw batched ONNX Runtime."""
MAX_PEAK_RSS_MB = 200.0
MAX_START_S = 5.0


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile with linear interpolation between closest ranks (numpy's default)."""
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def status_mb(status: str, key: str) -> float:
    """A `kB` line of /proc/<pid>/status (e.g. VmRSS, VmHWM) in decimal megabytes."""
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name == key:
            parts = value.split()
            if len(parts) != 2 or parts[1] != "kB" or not parts[0].isdigit():
                raise ValueError(f"cannot read {line!r}: expected '{key}: <number> kB'")
            return int(parts[0]) * 1024 / 1e6
    raise ValueError(f"no {key} line in the process status")


def stat_cpu_seconds(stat: str, ticks_per_s: int) -> float:
    """User plus system time of a process, from its /proc/<pid>/stat line."""
    _, paren, fields = stat.rpartition(")")  # the command name may hold spaces
    parts = fields.split()
    if not paren or len(parts) < 13 or not (parts[11].isdigit() and parts[12].isdigit()):
        raise ValueError(f"cannot read CPU times from {stat[:80]!r}")
    return (int(parts[11]) + int(parts[12])) / ticks_per_s


@dataclass(frozen=True)
class CpuUse:
    """CPU milliseconds per sentence while 32 clients ran: where the box's CPUs went."""

    raw_ms: float
    """Raw ONNX Runtime on batches of 32, all its threads."""
    service_ms: float
    """The service process, all its threads."""
    clients_ms: float
    """The 32 clients driving it, which share the service's CPUs in this benchmark."""

    def ceiling_per_s(self, cpus: int) -> float:
        """Sentences per second the service and its clients would reach with every CPU busy."""
        return cpus * 1000 / (self.service_ms + self.clients_ms)


@dataclass(frozen=True)
class Row:
    """One contender: latency of single sentences, and sentences per second."""

    name: str
    p50_ms: float
    p99_ms: float
    per_s_1: float
    """Throughput with one client, one sentence per call."""
    per_s_32: float | None = None
    """With 32 concurrent clients; for raw ONNX Runtime, batches of 32 (None: not measured)."""

    @classmethod
    def from_samples(
        cls, name: str, latencies_s: Sequence[float], *, per_s_1: float, per_s_32: float | None
    ) -> Row:
        return cls(
            name=name,
            p50_ms=percentile(latencies_s, 50) * 1e3,
            p99_ms=percentile(latencies_s, 99) * 1e3,
            per_s_1=per_s_1,
            per_s_32=per_s_32,
        )


def row_table(rows: Sequence[Row]) -> list[str]:
    """The contenders as a plain-text table, a heading line first."""
    lines = [f"{'':34}{'p50 ms':>9}{'p99 ms':>9}{'1 client/s':>12}{'32 clients/s':>14}"]
    for row in rows:
        many = "—" if row.per_s_32 is None else f"{row.per_s_32:.0f}"
        lines.append(
            f"{row.name:34}{row.p50_ms:9.2f}{row.p99_ms:9.2f}{row.per_s_1:12.0f}{many:>14}"
        )
    return lines


@dataclass(frozen=True)
class Latency:
    """Latency of one client's calls, one after another."""

    p50_ms: float
    p99_ms: float
    calls: int

    @classmethod
    def from_samples(cls, latencies_s: Sequence[float]) -> Latency:
        return cls(
            p50_ms=percentile(latencies_s, 50) * 1e3,
            p99_ms=percentile(latencies_s, 99) * 1e3,
            calls=len(latencies_s),
        )


@dataclass(frozen=True)
class Starvation:
    """Single short sentences from one client, alone and while other clients keep sending
    big batches of long texts: whether small calls wait behind big ones."""

    alone: Latency
    beside_big: Latency
    big_clients: int
    big_texts: int
    """Texts in each big call."""
    big_text_chars: int
    """Characters in each of those texts."""
    big_answered: int
    big_refused: int
    """Big calls refused with INVALID_ARGUMENT (over the service's per-call limit)."""

    @property
    def p50_ratio(self) -> float:
        return self.beside_big.p50_ms / self.alone.p50_ms

    @property
    def p99_ratio(self) -> float:
        return self.beside_big.p99_ms / self.alone.p99_ms

    def lines(self) -> list[str]:
        alone, beside = self.alone, self.beside_big
        return [
            f"small calls beside big ones: one client sends single sentences, alone, then "
            f"while {self.big_clients} clients send {self.big_texts} texts of "
            f"{self.big_text_chars} characters a call",
            f"{'':34}{'p50 ms':>9}{'p99 ms':>9}{'calls':>8}",
            f"{'alone':34}{alone.p50_ms:9.2f}{alone.p99_ms:9.2f}{alone.calls:8}",
            f"{'beside big batches':34}{beside.p50_ms:9.2f}{beside.p99_ms:9.2f}{beside.calls:8}",
            f"{'ratio (beside / alone)':34}{self.p50_ratio:9.2f}{self.p99_ratio:9.2f}",
            f"big calls answered {self.big_answered}, refused {self.big_refused}",
        ]

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"p50_ratio": self.p50_ratio, "p99_ratio": self.p99_ratio}


@dataclass(frozen=True)
class Check:
    name: str
    value: float
    target: str
    ok: bool


@dataclass(frozen=True)
class BenchReport:
    """Raw ONNX Runtime, the service over gRPC and Home Assistant's matcher, one run."""

    raw: Row
    service: Row
    hassil_strict: Row
    hassil_fuzzy: Row
    recognizer: Row
    """The service's pipeline called in-process: where the time goes besides gRPC."""
    idle_rss_mb: float
    """The service's resident memory once SERVING, before any load."""
    peak_rss_mb: float
    """Its peak resident memory (VmHWM) after all the load."""
    start_s: float
    """From spawning the service process to its health check answering SERVING."""
    sentences: int
    seconds: float
    cpus: int
    cpu: CpuUse
    starvation: Starvation
    notes: tuple[str, ...] = field(default=())

    @property
    def rows(self) -> tuple[Row, ...]:
        return (self.raw, self.service, self.hassil_strict, self.hassil_fuzzy, self.recognizer)

    def checks(self) -> list[Check]:
        latency = self.service.p50_ms / self.raw.p50_ms
        throughput = (self.service.per_s_32 or 0.0) / (self.raw.per_s_32 or math.inf)
        return [
            Check("service p50 / raw ORT p50", latency, f"<= {MAX_LATENCY_RATIO:.2f}",
                  latency <= MAX_LATENCY_RATIO),
            Check("service 32 clients / raw ORT batched", throughput,
                  f">= {MIN_THROUGHPUT_RATIO:.2f}", throughput >= MIN_THROUGHPUT_RATIO),
            Check("service peak RSS (MB)", self.peak_rss_mb, f"<= {MAX_PEAK_RSS_MB:.0f}",
                  self.peak_rss_mb <= MAX_PEAK_RSS_MB),
            Check("time to SERVING (s)", self.start_s, f"<= {MAX_START_S:.1f}",
                  self.start_s <= MAX_START_S),
        ]  # fmt: skip

    def format(self) -> str:
        """A plain-text table, then each target with ✓ or ✗."""
        lines = [
            f"intent benchmark: {self.sentences} sentences, {self.seconds:g} s per throughput "
            f"run, {self.cpus} CPUs",
            "",
            *row_table(self.rows),
        ]
        lines += ["", f"{'check':40}{'value':>9}  target"]
        for check in self.checks():
            mark = "✓" if check.ok else "✗"
            lines.append(f"{check.name:40}{check.value:9.2f}  {check.target:8} {mark}")
        lines.append(f"{'service RSS once SERVING, idle (MB)':40}{self.idle_rss_mb:9.1f}")
        lines += ["", *self._cpu_lines(), "", *self.starvation.lines()]
        lines += ["", *(f"note: {note}" for note in self.notes)]
        return "\n".join(lines).rstrip()

    def _cpu_lines(self) -> list[str]:
        cpu = self.cpu
        ceiling = cpu.ceiling_per_s(self.cpus)
        share = ceiling / (self.raw.per_s_32 or math.inf)
        return [
            f"CPU ms per sentence with 32 clients: raw ORT batched {cpu.raw_ms:.2f}; "
            f"service {cpu.service_ms:.2f} + its clients {cpu.clients_ms:.2f}",
            f"with all {self.cpus} CPUs busy, service and clients would reach {ceiling:.0f}/s, "
            f"{share:.2f} of raw ORT batched",
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": [asdict(row) for row in self.rows],
            "checks": [asdict(check) for check in self.checks()],
            "idle_rss_mb": self.idle_rss_mb,
            "peak_rss_mb": self.peak_rss_mb,
            "start_s": self.start_s,
            "sentences": self.sentences,
            "seconds": self.seconds,
            "cpus": self.cpus,
            "cpu_ms_per_sentence": asdict(self.cpu),
            "cpu_ceiling_per_s": self.cpu.ceiling_per_s(self.cpus),
            "starvation": self.starvation.as_json(),
            "notes": list(self.notes),
        }
