"""Shared fixtures: the real model and a recognizer trained once per test session.

The cache lives in the checkout (`.cache/tests`, ignored by git), so a second local run
skips the one-off int8 conversion and the head's training; CI starts clean each time.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from brokers import MeshThread, RunningBroker, any_broker, local_broker

from slm_mesh.plugins.minilm import PLUGIN
from slm_mesh.services.home.files import demo_home_path
from slm_mesh.services.home.model import Home, load_home
from slm_mesh.services.intent.recognizer import IntentRecognizer
from slm_mesh.services.intent.service import build_recognizer
from slm_mesh.services.runtime.broker import EmbeddedBroker
from slm_mesh.services.runtime.onnx_session import Embedder
from slm_mesh.services.settings import Settings

# Many meshes start side by side in the tests (and in their subprocesses): none takes
# Home Assistant's Wyoming port 10700, which a real slm-mesh on this machine may hold.
os.environ.setdefault("SLM_MESH_WYOMING_PORT", "0")

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    path = ROOT / ".cache" / "tests"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def embedder(cache_dir: Path) -> Embedder:
    return Embedder(plugin=PLUGIN, cache_dir=cache_dir)


@pytest.fixture(scope="session")
def demo_home() -> Home:
    return load_home(demo_home_path())


@pytest.fixture(scope="session")
def settings(cache_dir: Path) -> Settings:
    return Settings(cache_dir=cache_dir)


@pytest.fixture(scope="session")
def demo_recognizer(settings: Settings, demo_home: Home) -> IntentRecognizer:
    recognizer, _ = build_recognizer(settings, home=demo_home)
    return recognizer


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


_HOSTILE_REPORT: list[str] = []


@pytest.fixture
def hostile_report() -> list[str]:
    """Lines a hostile-client test adds: what it sent and what came of it."""
    return _HOSTILE_REPORT


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _HOSTILE_REPORT:
        terminalreporter.section("hostile clients")
        for line in _HOSTILE_REPORT:
            terminalreporter.write_line(line)


@pytest.fixture(scope="module")
def mqtt_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBroker]:
    """A Mosquitto container where Docker runs, a local Mosquitto otherwise."""
    with any_broker(tmp_path_factory.mktemp("broker")) as running:
        yield running


@pytest.fixture
def restartable_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A local Mosquitto the test may `await broker.restart()` (same port, persistence)."""
    with local_broker(tmp_path / "broker") as broker:
        yield broker


@pytest.fixture(scope="module")
def mesh(
    mqtt_broker: RunningBroker, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MeshThread]:
    """An intent replica and the router on `mqtt_broker`, under a topic prefix of their own."""
    settings = Settings(cache_dir=cache_dir, port=0).updated(
        mqtt_url=mqtt_broker.url,
        mqtt_prefix=f"test-{uuid.uuid4().hex[:8]}",
        unanswered_log=tmp_path_factory.mktemp("mesh") / "unanswered.jsonl",
    )
    with MeshThread(settings=settings) as running:
        yield running
