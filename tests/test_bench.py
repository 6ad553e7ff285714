"""The benchmark: its arithmetic and verdicts (fast), and one real end-to-end run (slow)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from slm_mesh.services.settings import Settings
from slm_mesh.tools.bench.intent import SENTENCES, long_texts, run_bench
from slm_mesh.tools.bench.intent_report import (
    BenchReport,
    CpuUse,
    Latency,
    Row,
    Starvation,
    percentile,
    stat_cpu_seconds,
    status_mb,
)

STATUS = """Name:\tpython
VmPeak:\t  812344 kB
VmHWM:\t  171300 kB
VmRSS:\t  150000 kB
Threads:\t7
"""

STARVATION = Starvation(
    alone=Latency(p50_ms=2.0, p99_ms=4.0, calls=900),
    beside_big=Latency(p50_ms=30.0, p99_ms=80.0, calls=60),
    big_clients=3,
    big_texts=19,
    big_text_chars=840,
    big_answered=40,
    big_refused=0,
)


def _report(
    *, service_p50: float = 6.0, service_32: float = 350.0, peak: float = 180.0, start: float = 2.0
) -> BenchReport:
    return BenchReport(
        raw=Row(name="raw ONNX Runtime", p50_ms=4.0, p99_ms=6.0, per_s_1=240.0, per_s_32=400.0),
        service=Row(
            name="service over gRPC",
            p50_ms=service_p50,
            p99_ms=9.0,
            per_s_1=150.0,
            per_s_32=service_32,
        ),
        hassil_strict=Row(name="hassil strict", p50_ms=5.0, p99_ms=20.0, per_s_1=150.0),
        hassil_fuzzy=Row(name="hassil strict+fuzzy", p50_ms=10.0, p99_ms=40.0, per_s_1=70.0),
        recognizer=Row(name="recognizer", p50_ms=5.0, p99_ms=8.0, per_s_1=200.0, per_s_32=300.0),
        idle_rss_mb=150.0,
        peak_rss_mb=peak,
        start_s=start,
        sentences=40,
        seconds=3.0,
        cpus=2,
        cpu=CpuUse(raw_ms=4.0, service_ms=3.0, clients_ms=1.0),
        starvation=STARVATION,
        notes=("a note",),
    )


@pytest.mark.parametrize("q", [0, 1, 25, 50, 90, 99, 100])
def test_percentile_interpolates_between_ranks_as_numpy_does(q: float) -> None:
    samples = [0.9, 0.1, 0.5, 0.3, 0.7, 2.0, 0.2]
    assert percentile(samples, q) == pytest.approx(float(np.percentile(samples, q)))


def test_percentile_of_one_sample_is_that_sample() -> None:
    assert percentile([0.25], 99) == 0.25


@pytest.mark.parametrize(("samples", "q"), [([], 50), ([1.0], -1), ([1.0], 101)])
def test_percentile_refuses_no_samples_and_out_of_range(samples: list[float], q: float) -> None:
    with pytest.raises(ValueError):
        percentile(samples, q)


def test_process_memory_is_read_in_decimal_megabytes() -> None:
    assert status_mb(STATUS, "VmRSS") == pytest.approx(153.6)
    assert status_mb(STATUS, "VmHWM") == pytest.approx(175.4112)


def test_a_missing_memory_line_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="VmSwap"):
        status_mb(STATUS, "VmSwap")


def test_a_report_within_every_target_passes_every_check() -> None:
    checks = _report().checks()
    assert [c.ok for c in checks] == [True, True, True, True]
    assert checks[0].value == pytest.approx(1.5)
    assert checks[1].value == pytest.approx(0.875)


def test_each_target_fails_on_its_own_number() -> None:
    assert [c.ok for c in _report(service_p50=8.5).checks()] == [False, True, True, True]
    assert [c.ok for c in _report(service_32=270.0).checks()] == [True, False, True, True]
    assert [c.ok for c in _report(peak=201.0).checks()] == [True, True, False, True]
    assert [c.ok for c in _report(start=5.5).checks()] == [True, True, True, False]


def test_the_table_shows_every_row_ratio_and_verdict() -> None:
    text = _report(service_32=100.0).format()
    for name in ("raw ONNX Runtime", "service over gRPC", "hassil strict", "hassil strict+fuzzy"):
        assert name in text
    lines = {line.split("  ")[0]: line.split() for line in text.splitlines()}
    assert lines["service 32 clients / raw ORT batched"][-4:] == ["0.25", ">=", "0.70", "✗"]
    assert lines["service p50 / raw ORT p50"][-4:] == ["1.50", "<=", "2.00", "✓"]
    assert "—" in text  # hassil has no 32-client column
    assert "note: a note" in text


def test_the_json_report_carries_rows_and_checks() -> None:
    data = json.loads(json.dumps(_report().as_json()))
    assert [row["name"] for row in data["rows"]][:2] == ["raw ONNX Runtime", "service over gRPC"]
    assert data["rows"][2]["per_s_32"] is None
    assert all(check["ok"] for check in data["checks"])
    assert data["peak_rss_mb"] == 180.0
    assert data["cpu_ms_per_sentence"] == {"raw_ms": 4.0, "service_ms": 3.0, "clients_ms": 1.0}
    assert data["cpu_ceiling_per_s"] == 500.0


def test_cpu_times_are_read_from_a_stat_line_whose_command_holds_spaces() -> None:
    stat = "4242 (python (x) y) S 1 4242 4242 0 -1 4194560 5 0 0 0 250 50 0 0 20 0 9"
    assert stat_cpu_seconds(stat, 100) == 3.0


@pytest.mark.parametrize("stat", ["", "4242 python S 1", "4242 (python) S 1 2 3"])
def test_a_stat_line_without_cpu_times_is_refused(stat: str) -> None:
    with pytest.raises(ValueError, match="CPU times"):
        stat_cpu_seconds(stat, 100)


def test_the_cpu_ceiling_is_every_cpu_spent_on_the_service_and_its_clients() -> None:
    report = _report()
    assert report.cpu.ceiling_per_s(2) == 500.0
    text = report.format()
    assert "service 3.00 + its clients 1.00" in text
    assert "would reach 500/s, 1.25 of raw ORT batched" in text


def test_small_calls_beside_big_ones_are_a_ratio_to_the_same_calls_alone() -> None:
    assert (STARVATION.p50_ratio, STARVATION.p99_ratio) == (15.0, 20.0)
    lines = {line.split("  ")[0]: line.split() for line in _report().format().splitlines()}
    assert lines["ratio (beside / alone)"][-2:] == ["15.00", "20.00"]
    assert lines["beside big batches"][-3:] == ["30.00", "80.00", "60"]
    assert "while 3 clients send 19 texts of 840 characters a call" in _report().format()
    data = json.loads(json.dumps(_report().as_json()))["starvation"]
    assert (data["p99_ratio"], data["beside_big"]["calls"], data["big_refused"]) == (20.0, 60, 0)


def test_the_big_clients_texts_are_different_and_of_the_length_asked() -> None:
    texts = long_texts(64, 840)
    assert len(set(texts)) > 1 and {len(text) for text in texts} == {840}


def test_the_benchmark_refuses_a_non_positive_duration(settings: Settings) -> None:
    with pytest.raises(ValueError, match="seconds"):
        run_bench(settings, seconds=0)


@pytest.mark.slow
@pytest.mark.integration
def test_a_short_real_run_measures_every_contender(settings: Settings) -> None:
    report = run_bench(settings, seconds=0.3)
    for row in report.rows:
        assert row.p50_ms > 0 and row.p99_ms >= row.p50_ms and row.per_s_1 > 0
    assert report.raw.per_s_32 and report.service.per_s_32
    assert report.idle_rss_mb > 0 and report.peak_rss_mb >= report.idle_rss_mb
    assert report.start_s > 0
    assert report.sentences == len(SENTENCES)
    assert len(report.checks()) == 4
    assert report.cpu.raw_ms > 0 and report.cpu.service_ms > 0 and report.cpu.clients_ms > 0
    assert report.starvation.alone.calls >= 5 and report.starvation.beside_big.calls >= 5
