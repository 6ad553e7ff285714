"""`slm-mesh` as a user runs it: real processes, real gRPC on loopback, the real model."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from slm_mesh.services.intent.recognizer import IntentRecognizer

pytestmark = [pytest.mark.slow, pytest.mark.integration]
CLI = [sys.executable, "-m", "slm_mesh.services.cli", "--log-level", "warning"]


def run(*args: str, stdin: bytes = b"", cache_dir: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*CLI, *args, "--cache-dir", str(cache_dir)],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_ask_reads_stdin_lines_and_answers_each_in_order(
    cache_dir: Path, demo_recognizer: IntentRecognizer
) -> None:
    lines = b"\n".join(
        [
            b"lights off",
            b'{"text": "kill the lights", "context": {"area": "Kitchen"}}',
            b"",
            b"\xff\xfe not utf-8",
            b'{"text": "boil the kettle"}',
        ]
    )
    done = run("ask", "intent", "--area", "Lounge", stdin=lines + b"\n", cache_dir=cache_dir)
    answers = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert done.returncode == 2, done.stderr.decode()
    assert [a.get("intent") for a in answers] == [
        "HassTurnOff",
        "HassTurnOff",
        None,
        None,
        "HassTurnOn",
    ]
    assert answers[0]["slots"] == {"domain": "light", "area": "Lounge"}
    assert answers[1]["slots"]["area"] == "Kitchen"
    assert "empty" in answers[2]["error"] and "UTF-8" in answers[3]["error"]
    assert set(answers[4]) == {"text", "intent", "slots", "confidence", "tier"}


def test_a_malformed_home_file_is_reported_with_its_line(tmp_path: Path, cache_dir: Path) -> None:
    home = tmp_path / "home.yaml"
    home.write_text("areas: []\nentities:\n  - {name: Lamp, id: lamp}\n", encoding="utf-8")
    done = run("ask", "intent", "--home", str(home), "lights on", cache_dir=cache_dir)
    assert done.returncode == 2
    assert f"{home}:3:" in done.stderr.decode()


def test_ask_a_service_that_is_not_running_says_so_in_one_line(cache_dir: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the command runs
    done = run("ask", "intent", "--target", f"127.0.0.1:{port}", "lights on", cache_dir=cache_dir)
    assert done.returncode == 1
    assert done.stdout == b""
    [line] = done.stderr.decode().splitlines()
    assert line.startswith(f"slm-mesh: cannot reach the intent service at 127.0.0.1:{port} (")
    assert "UNAVAILABLE" in line and line.endswith("is it running? (slm-mesh serve intent)")


def test_ask_a_service_that_never_answers_gives_up_in_one_line(cache_dir: Path) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts the connection, never speaks gRPC
        target = f"127.0.0.1:{silent.getsockname()[1]}"
        done = run("ask", "intent", "--target", target, "lights on", cache_dir=cache_dir)
    assert done.returncode == 1
    [line] = done.stderr.decode().splitlines()
    assert line.startswith(f"slm-mesh: the intent service at {target} did not answer in time")


@pytest.fixture
def served(cache_dir: Path, demo_recognizer: IntentRecognizer) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [*CLI, "serve", "intent", "--port", str(port), "--cache-dir", str(cache_dir)],
        env={**os.environ, "SLM_MESH_LOG_FORMAT": "json"},
    )
    target = f"127.0.0.1:{port}"
    try:
        wait_until_serving(target, timeout=60)
        yield target
    finally:
        process.terminate()
        assert process.wait(timeout=15) == 0


def wait_until_serving(target: str, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                # types-grpcio-health-checking declares `HealthStub` without its methods.
                status = stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status  # type: ignore[attr-defined]
                if status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    raise AssertionError(f"{target} did not report SERVING within {timeout} s")


def test_ask_through_the_running_service_matches_in_process(served: str, cache_dir: Path) -> None:
    stdin = b'lights off\n{"text": "lights off", "context": {"area": "Attic"}}\nboil the kettle\n'
    remote = run(
        "ask", "intent", "--target", served, "--area", "Lounge", stdin=stdin, cache_dir=cache_dir
    )
    local = run("ask", "intent", "--area", "Lounge", stdin=stdin, cache_dir=cache_dir)
    assert remote.returncode == local.returncode == 2
    remote_answers = [json.loads(line) for line in remote.stdout.decode().splitlines()]
    local_answers = [json.loads(line) for line in local.stdout.decode().splitlines()]
    assert [a.get("intent") for a in remote_answers] == [a.get("intent") for a in local_answers]
    assert "unknown context area" in remote_answers[1]["error"]


def test_demo_starts_a_mesh_and_prints_the_answers_to_device_events(
    cache_dir: Path, demo_recognizer: IntentRecognizer
) -> None:
    done = subprocess.run(
        [*CLI, "demo", "--cache-dir", str(cache_dir)], capture_output=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    out = done.stdout.decode()
    assert "slm-mesh is up" in out
    assert "HassTurnOn" in out and "compound: 2 commands" in out and "can't help" in out


def test_serve_wyoming_without_a_mesh_says_how_to_run_it(cache_dir: Path) -> None:
    done = run("serve", "wyoming", cache_dir=cache_dir)

    assert done.returncode == 2
    assert b"serve wyoming --mqtt URL" in done.stderr
