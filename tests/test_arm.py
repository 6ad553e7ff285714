"""Proof on ARM: the intent recognizer and service on emulated Raspberry Pi CPUs.

`tools/arm/setup.sh` sets up an aarch64 Python 3.11 under QEMU user mode with the aarch64
wheels of what the intent service imports. These tests run `tools/arm/probe.py` there as a
Raspberry Pi 4 CPU (Cortex-A72: no int8 dot-product instructions) and as a Pi 5 CPU
(Cortex-A76: with them), and the same script on x86, then check that

- `precision: auto` picks fp32 on the Pi 4 and int8 on the Pi 5, from what
  `cpu_int8_support()` reads in the emulated /proc/cpuinfo;
- each Pi answers the probe's sentences as x86 does: the same intents, slots and tiers,
  and confidences within `TOLERANCE` of x86 in the same precision (int8 results differ
  slightly between x86 and Arm kernels);
- the Pi 5 converts the model to int8 itself, into the same bytes as x86;
- `slm-mesh serve intent` starts on each and answers over gRPC (the client is on x86).

The heads are trained on x86 (once per cache; training under emulation would take many
minutes) and copied to each Pi's own cache. Timing under emulation means nothing; the
README's "Proof on ARM" estimates what real Pis do. Without the emulator these tests are
skipped, unless ARM64_REQUIRED=1 (as CI sets), which makes a missing set-up a failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from slm_mesh.services.contracts.intent import CONTRACT, IntentRequest, IntentResult
from slm_mesh.services.kit.grpc_client import ServiceClient

pytestmark = [pytest.mark.arm, pytest.mark.slow, pytest.mark.integration]

ROOT = Path(__file__).resolve().parent.parent
PROBE = ROOT / "tools" / "arm" / "probe.py"
MARK = "probe: "  # tools/arm/probe.py's answer line
PIS = {"pi4": "fp32", "pi5": "int8"}  # what `auto` must pick on each
INT8_FLAGS = {"pi4": "none", "pi5": "asimddp"}
TOLERANCE = 0.01  # on a confidence, against x86 in the same precision
#: Generous: each run takes well under a minute here. A run that trains heads under
#: emulation instead of loading x86's (a changed cache key) would take far longer.
EMULATED_TIMEOUT_S = 600
SERVED = ("it's pitch black in the study", "lights off", "what's a good banana bread recipe")


def _emulator_base() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("ARM64_BASE") or Path(cache) / "arm64-emulator")


@pytest.fixture(scope="module")
def arm64py() -> Path:
    """The emulated Python's wrapper, with the project's dependencies beside it."""
    base = _emulator_base()
    wrapper = base / "bin" / "arm64py"
    missing = [
        p for p in (wrapper, base / "site" / "hassil", base / "site" / "grpc") if not p.exists()
    ]
    if missing:
        reason = (
            f"no emulated Raspberry Pi at {base} ({missing[0]} is missing): run "
            "tools/arm/setup.sh, or set ARM64_BASE"
        )
        if os.environ.get("ARM64_REQUIRED") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return wrapper


@pytest.fixture(scope="module")
def arm_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of an emulated run: the checkout importable as `slm_mesh`."""
    root = tmp_path_factory.mktemp("arm-import-root")
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "arm" / "import_root.py"), str(root)],
        check=True,
        capture_output=True,
    )
    return {**os.environ, "PYTHONPATH": str(root)}


def _answer(output: str) -> dict[str, Any]:
    for line in reversed(output.splitlines()):
        if line.startswith(MARK):
            found: dict[str, Any] = json.loads(line[len(MARK) :])
            return found
    raise AssertionError(f"the probe gave no answer; its output ends:\n{output[-3000:]}")


@dataclass(frozen=True)
class Run:
    answer: dict[str, Any]
    log: str
    cache_dir: Path


@pytest.fixture(scope="module")
def x86(cache_dir: Path) -> dict[str, Run]:
    """The probe on this machine, in each precision (training the heads if not cached)."""
    runs = {}
    for precision in ("int8", "fp32"):
        done = subprocess.run(
            [sys.executable, str(PROBE), "--cache-dir", str(cache_dir), "--precision", precision],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, output[-3000:]
        runs[precision] = Run(_answer(output), output, cache_dir)
    return runs


@pytest.fixture(scope="module")
def pis(
    arm64py: Path,
    arm_env: dict[str, str],
    x86: dict[str, Run],
    cache_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Run]:
    """The probe on both emulated Pis at once, each with a cache of its own that holds only
    x86's trained heads (so the Pi 5 converts the model itself)."""
    started: dict[str, tuple[subprocess.Popen[str], Path]] = {}
    for cpu in PIS:
        own = tmp_path_factory.mktemp(f"cache-{cpu}")
        for head in (*cache_dir.glob("intent-head-*.npz"), *cache_dir.glob("intent-words-*.npz")):
            shutil.copy2(head, own / head.name)
        command = [str(arm64py), "--cpu", cpu, str(PROBE), "--cache-dir", str(own)]
        process = subprocess.Popen(
            command, env=arm_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        started[cpu] = (process, own)
    runs = {}
    try:
        for cpu, (process, own) in started.items():
            output, _ = process.communicate(timeout=EMULATED_TIMEOUT_S)
            assert process.returncode == 0, f"{cpu}:\n{output[-3000:]}"
            runs[cpu] = Run(_answer(output), output, own)
    finally:
        for process, _ in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    return runs


def test_auto_precision_is_fp32_on_a_pi4_and_int8_on_a_pi5(pis: dict[str, Run]) -> None:
    for cpu, precision in PIS.items():
        answer = pis[cpu].answer
        assert answer["machine"] == "aarch64"
        assert answer["int8_dot_product"] == INT8_FLAGS[cpu], cpu
        assert answer["precision"] == precision, cpu


@pytest.mark.parametrize("cpu", PIS)
def test_a_pi_answers_as_x86_does(cpu: str, pis: dict[str, Run], x86: dict[str, Run]) -> None:
    run = pis[cpu]
    assert "intent heads loaded from cache" in run.log, "the Pi trained its own heads"
    same_precision = x86[PIS[cpu]].answer["answers"]
    default = x86["int8"].answer["answers"]  # what an x86 gateway answers, with `auto`
    answers = run.answer["answers"]
    assert [a["text"] for a in answers] == [a["text"] for a in same_precision]
    for got, want, usual in zip(answers, same_precision, default, strict=True):
        where = f"{cpu}: {got['text']!r}"
        assert (got["intent"], got["slots"], got["tier"]) == (
            want["intent"],
            want["slots"],
            want["tier"],
        ), where
        assert got["confidence"] == pytest.approx(want["confidence"], abs=TOLERANCE), where
        assert (got["intent"], got["slots"]) == (usual["intent"], usual["slots"]), where
    # Every tier is among the answers, so the comparison covers the model too.
    assert {a["tier"] for a in answers} == {"template", "slm", "none"}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_pi5_converts_the_model_to_the_same_int8_bytes_as_x86(
    pis: dict[str, Run], x86: dict[str, Run]
) -> None:
    name = pis["pi5"].answer["model"]
    assert name.endswith("-int8-dynamic.onnx"), name
    assert name == x86["int8"].answer["model"]
    converted = pis["pi5"].cache_dir / "models" / name
    assert _sha256(converted) == _sha256(x86["int8"].cache_dir / "models" / name)
    assert not list(pis["pi4"].cache_dir.glob("models/*int8*")), "the Pi 4 made an int8 model"


@contextmanager
def _serving(arm64py: Path, cpu: str, cache_dir: Path, env: dict[str, str]) -> Iterator[Server]:
    command = [str(arm64py), "--cpu", cpu, "-m", "slm_mesh.services.cli", "serve", "intent"]
    command += ["--port", "0", "--cache-dir", str(cache_dir)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    server = Server(cpu, process)
    try:
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        server.close()


class Server:
    """An emulated `slm-mesh serve intent`; its log read as it comes."""

    def __init__(self, cpu: str, process: subprocess.Popen[str]) -> None:
        self.cpu = cpu
        self.process = process
        self.lines: list[str] = []
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def close(self) -> None:
        """After the process ended: the rest of its log read, the pipe closed."""
        self._reader.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                self._events.put(event)
        self._events.put(None)

    def address(self, timeout: float) -> str:
        """Where it serves, once it says so in its log."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self._events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if event is None:
                break
            if event.get("event") == "serving":
                return str(event["address"])
        raise AssertionError(
            f"{self.cpu}: not serving; its log ends:\n{''.join(self.lines)[-3000:]}"
        )


async def _ask(address: str, requests: list[IntentRequest]) -> tuple[list[IntentResult], str]:
    async with ServiceClient(CONTRACT, target=address, timeout=60.0) as client:
        await client.wait_until_serving(60.0)
        results = await client.call(requests)
        info = await client.describe()
    return list(results), info.models[0].precision


def test_the_intent_service_serves_over_grpc_on_both_pis(
    arm64py: Path, arm_env: dict[str, str], pis: dict[str, Run], x86: dict[str, Run]
) -> None:
    want = {a["text"]: a for a in x86["int8"].answer["answers"]}
    requests = [IntentRequest(text, area=want[text]["area"]) for text in SERVED]
    with (
        _serving(arm64py, "pi4", pis["pi4"].cache_dir, arm_env) as pi4,
        _serving(arm64py, "pi5", pis["pi5"].cache_dir, arm_env) as pi5,
    ):
        for server in (pi4, pi5):
            results, precision = asyncio.run(_ask(server.address(EMULATED_TIMEOUT_S), requests))
            assert precision.startswith(PIS[server.cpu]), precision
            for result in results:
                expected = want[result.text]
                assert (result.intent, dict(result.slots)) == (
                    expected["intent"],
                    expected["slots"],
                ), f"{server.cpu}: {result.text!r}"
