"""The factory's encoder recipes end to end on a tiny BERT (random, seeded weights, 32-wide):
distil-intent, finetune-sentiment and the report, each in seconds.

The real runs (all-MiniLM-L6-v2 and the movie reviews) take minutes and are documented with
their figures in the README.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import structlog

from slm_mesh.factory.card import CURVES_FILE, read_card
from slm_mesh.factory.encoders import teacher_folder
from slm_mesh.factory.extra import missing_modules
from slm_mesh.services.cli import main
from slm_mesh.services.runtime.manifest import read_manifest
from slm_mesh.services.runtime.onnx_session import Embedder
from slm_mesh.services.runtime.plugins import load_plugin
from slm_mesh.services.sentiment.service import classifier_export, from_export
from slm_mesh.services.settings import Settings

pytestmark = [
    pytest.mark.skipif(
        bool(missing_modules()),
        reason=f"the factory extra is not installed ({', '.join(missing_modules())}): "
        "pip install 'slm-mesh[factory]'",
    ),
    pytest.mark.slow,
]

DATA = Path(__file__).parent / "data"
HOME = DATA / "code_home.yaml"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _logs_go_to_stderr_and_are_put_back(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`main()` points logging at the stderr it sees, pytest's capture for this test only
    (later tests would log to a closed file); here logs go to the process's own stderr,
    never to the stdout the report's JSON is read from, and the set-up is put back."""
    saved = structlog.get_config()
    monkeypatch.setattr(
        "slm_mesh.services.cli.configure_logging",
        lambda **_: structlog.configure(
            logger_factory=structlog.PrintLoggerFactory(sys.__stderr__)
        ),
    )
    yield
    structlog.configure(**saved)


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-layer BERT with all-MiniLM-L6-v2's tokenizer and random weights."""
    import shutil

    import torch
    from transformers import BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(folder)
    shutil.copyfile(teacher_folder() / "tokenizer.json", folder / "tokenizer.json")
    return folder


@pytest.fixture(scope="module")
def reviews(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100 labelled sentences a tiny model can learn: the words say the label."""
    rng = random.Random(0)
    good = ("great", "wonderful", "lovely", "brilliant", "superb")
    bad = ("awful", "terrible", "dreadful", "boring", "horrible")
    rows = ["text\tlabel"]
    for number in range(100):
        label = "positive" if number % 2 else "negative"
        word = rng.choice(good if label == "positive" else bad)
        rows.append(f"a {word} film , {word} acting number {number} .\t{label}")
    path = tmp_path_factory.mktemp("reviews") / "reviews.tsv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def distil(teacher: Path, out: Path, cache: Path, *more: str) -> int:
    return main(
        [
            "factory",
            "distil-intent",
            "--teacher",
            str(teacher),
            "--train-home",
            str(HOME),
            "--max-sentences",
            "160",
            "--epochs",
            "2",
            "--layers",
            "2",
            "--batch-size",
            "16",
            "--out",
            str(out),
            "--cache-dir",
            str(cache),
            *more,
        ]
    )


def test_distil_intent_writes_a_student_encoder_the_services_load(
    tiny_bert: Path, tmp_path: Path
) -> None:
    out = tmp_path / "student"
    assert distil(tiny_bert, out, tmp_path) == 0
    manifest = read_manifest(out)
    assert manifest is not None and manifest.task == "encoder"
    assert json.loads((out / "config.json").read_text())["num_hidden_layers"] == 2
    card = read_card(out)
    assert card["split"]["train"] + card["split"]["validation"] == 160
    points = card["curves"]["points"]
    assert len(points) == 2 and all(p["train"] > 0 and p["validation"] > 0 for p in points)
    assert card["size"]["parameters"] < card["size"]["teacher_parameters"]
    assert card["latency"]["p50 ratio student/teacher int8"] > 0
    assert len(card["sources"][0]["sha256"]) == 64
    assert (out / CURVES_FILE).read_bytes().startswith(PNG_SIGNATURE)
    embedder = Embedder(plugin=load_plugin(f"path:{out}"), cache_dir=tmp_path)
    vectors = embedder.embed(["turn on the kitchen light", "what time is it"])
    assert vectors.shape == (2, 32)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_distilling_again_with_the_same_seed_gives_the_same_student(
    tiny_bert: Path, tmp_path: Path
) -> None:
    cards = []
    for name in ("first", "second"):
        assert distil(tiny_bert, tmp_path / name, tmp_path, "--no-latency") == 0
        cards.append(read_card(tmp_path / name))
    assert cards[0]["curves"] == cards[1]["curves"]
    assert cards[0]["split"] == cards[1]["split"]


def test_a_teacher_of_another_architecture_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from transformers import GPT2Config

    folder = tmp_path / "gpt2"
    GPT2Config(n_layer=1, n_embd=16, n_head=2).save_pretrained(folder)
    (folder / "tokenizer.json").write_text("{}")
    assert distil(folder, tmp_path / "out", tmp_path) == 2
    assert "holds a 'gpt2' model" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_too_little_data_for_a_validation_split_is_refused(
    tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "factory",
            "distil-intent",
            "--teacher",
            str(tiny_bert),
            "--train-home",
            str(HOME),
            "--max-sentences",
            "12",
            "--out",
            str(tmp_path / "out"),
            "--cache-dir",
            str(tmp_path),
        ]
    )
    assert code == 2
    assert "too little data to distil" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_run_stopped_while_writing_leaves_no_plugin_folder(
    tiny_bert: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stopped(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("slm_mesh.factory.distil_run.write_manifest", stopped)
    assert distil(tiny_bert, tmp_path / "out", tmp_path, "--no-latency") == 130
    assert [p.name for p in tmp_path.iterdir() if "out" in p.name] == []


def finetune(base: Path, reviews: Path, out: Path, cache: Path, *more: str) -> int:
    return main(
        [
            "factory",
            "finetune-sentiment",
            "--base",
            str(base),
            "--train",
            str(reviews),
            "--epochs",
            "3",
            "--batch-size",
            "8",
            "--learning-rate",
            "1e-3",
            "--validation-share",
            "0.2",
            "--out",
            str(out),
            "--cache-dir",
            str(cache),
            *more,
        ]
    )


def test_finetune_sentiment_writes_a_classifier_the_sentiment_service_serves(
    tiny_bert: Path, reviews: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sentiment"
    assert finetune(tiny_bert, reviews, out, tmp_path, "--eval-cases", str(reviews)) == 0
    manifest = read_manifest(out)
    assert manifest is not None and manifest.task == "classifier"
    assert manifest.labels == ("negative", "positive") and manifest.precision == "int8"
    card = read_card(out)
    assert card["split"] == {"train": 80, "validation": 20, "rule": card["split"]["rule"]}
    assert card["metrics"]["validation accuracy (int8 plugin)"] >= 80
    assert set(card["latency"]) == {"fp32", "int8"}
    assert (out / CURVES_FILE).read_bytes().startswith(PNG_SIGNATURE)
    settings = Settings(cache_dir=tmp_path, plugin=f"path:{out}")
    assert classifier_export(settings) == out
    classify, info = from_export(out, cache_dir=tmp_path)
    results = classify(["a superb film", "a dreadful film"])
    assert [r.label for r in results] == ["positive", "negative"]
    assert info.task == "classifier"


def test_the_report_times_every_variant_at_both_precisions_in_one_run(
    tiny_bert: Path, reviews: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    student, sentiment = tmp_path / "factory" / "student", tmp_path / "factory" / "sentiment"
    assert distil(tiny_bert, student, tmp_path, "--no-latency") == 0
    assert (
        finetune(
            tiny_bert, reviews, sentiment, tmp_path, "--no-latency", "--eval-cases", str(reviews)
        )
        == 0
    )
    capsys.readouterr()
    code = main(
        [
            "factory",
            "report",
            "--cache-dir",
            str(tmp_path),
            "--rounds",
            "5",
            "--sentiment-cases",
            str(reviews),
            "--json",
        ]
    )
    assert code == 0
    report = {v["name"]: v for v in json.loads(capsys.readouterr().out)}
    assert set(report) == {"minilm", "student", "sentiment"}
    for variant in report.values():
        precisions = [row["precision"].split()[0] for row in variant["rows"]]
        assert precisions == ["fp32", "int8"]
        assert all(row["p50_ms"] > 0 and row["batched_per_second"] > 0 for row in variant["rows"])
    minilm = report["minilm"]["rows"][0]
    assert minilm["p50_ratio"] == 1.0
    int8_row = report["sentiment"]["rows"][1]
    assert int8_row["accuracy"] == int8_row["card_accuracy"]  # measured now = in the card


def test_weights_averaged_late_in_a_run_are_kept_and_scored(
    tiny_bert: Path, reviews: Path, tmp_path: Path
) -> None:
    out = tmp_path / "averaged"
    more = ("--average-from", "1", "--evaluations-per-epoch", "2", "--patience", "9")
    assert finetune(tiny_bert, reviews, out, tmp_path, "--no-latency", *more) == 0
    card = read_card(out)
    assert card["hyperparameters"]["average_from"] == 1
    averaged = sum(point["epoch"] > 1 for point in card["curves"]["points"])
    assert averaged == 4
    assert f"kept the average of the {averaged} weights evaluated after epoch 1" in card["notes"][0]
    kept = card["curves"]["averaged"]
    assert (kept["evaluations"], kept["after_epoch"]) == (averaged, 1)
    markdown = (out / "MODEL_CARD.md").read_text()
    assert f"Kept: the average of the {averaged} weights evaluated after epoch 1" in markdown
    assert "(best: kept)" not in markdown
    torch_accuracy = card["metrics"]["validation accuracy (PyTorch fp32, the weights kept)"]
    assert abs(torch_accuracy - card["metrics"]["validation accuracy (int8 plugin)"]) <= 10
