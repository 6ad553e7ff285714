"""Training: folds, the feedback file, one run on tiny synthetic data, and the shipped head."""

import hashlib
import json
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from slm_mesh.services.errors import SlmMeshError
from slm_mesh.services.sentiment import Label, SentimentClassifier, default_head_path
from slm_mesh.services.sentiment.cases import Case
from slm_mesh.services.sentiment.corpus import FEEDBACK_PATH, fold_numbers, load_feedback
from slm_mesh.services.sentiment.head import FORMAT
from slm_mesh.services.sentiment.training import TrainingConfig, metadata, train


def fake_embed(texts: Sequence[str]) -> np.ndarray:
    """8-d vectors: axis 0 says "about a film", axis 1 hints the polarity, the rest is noise
    drawn from the text, so the same text always gets the same vector."""
    rows = []
    for text in texts:
        rng = np.random.default_rng(zlib.crc32(text.encode("utf-8")))
        hint = 0.5 if any(w in text for w in ("great", "lovely", "works")) else -0.5
        rows.append([1.0 if "film" in text else -1.0, hint, *rng.normal(0.0, 0.5, 6)])
    return np.array(rows, dtype=np.float32)


def corpus() -> tuple[list[Case], list[Case]]:
    words: list[tuple[str, Label]] = [("great", "positive"), ("dull", "negative")]
    states: list[tuple[str, Label]] = [
        ("works now", "positive"),
        ("is lovely", "positive"),
        ("is broken", "negative"),
        ("keeps failing", "negative"),
    ]
    movies = [
        Case(f"a {word} film about {topic}", label)
        for topic in ("love", "war", "cats", "space", "money", "trains", "ghosts", "chess")
        for word, label in words
    ] * 3
    feedback = [
        Case(f"the {thing} {state}", label)
        for thing in ("lamp", "heating", "speaker", "plug", "lock")
        for state, label in states
    ]
    return movies, feedback


def test_folds_deal_each_label_evenly_and_the_same_way_each_time() -> None:
    cases = [Case(str(i), "positive" if i % 3 else "negative") for i in range(30)]
    numbers = fold_numbers(cases, 5, seed=1)
    assert numbers.tolist() == fold_numbers(cases, 5, seed=1).tolist()
    assert numbers.tolist() != fold_numbers(cases, 5, seed=2).tolist()
    for label in ("positive", "negative"):
        counts = np.bincount([n for n, c in zip(numbers, cases, strict=True) if c.label == label])
        assert counts.max() - counts.min() <= 1


def test_fewer_than_two_folds_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        fold_numbers([Case("x", "positive")], 1, seed=0)


def test_feedback_sentences_are_read_per_label(tmp_path: Path) -> None:
    path = tmp_path / "feedback.yaml"
    path.write_text("positive:\n  - thanks\nnegative:\n  - wrong light\n", encoding="utf-8")
    assert load_feedback(path) == [Case("thanks", "positive"), Case("wrong light", "negative")]


@pytest.mark.parametrize(
    "text",
    ["positive: [fine]\n", "positive: fine\nnegative: [bad]\n", "positive: [:\n"],
)
def test_a_malformed_feedback_file_names_itself(tmp_path: Path, text: str) -> None:
    path = tmp_path / "feedback.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SlmMeshError, match=r"feedback\.yaml"):
        load_feedback(path)


def test_training_prints_each_epoch_and_learns_both_kinds_of_sentence() -> None:
    movies, feedback = corpus()
    lines: list[str] = []
    trained = train(
        movies=movies,
        feedback=feedback,
        embed=fake_embed,
        config=TrainingConfig(folds=3),
        say=lines.append,
    )
    assert any(
        "fold 1/3 epoch   1  train loss" in line and "validation loss" in line for line in lines
    )
    assert [len(epochs) > 0 for epochs in trained.folds] == [True] * 3
    assert trained.gate_accuracy == {"movies": 1.0, "feedback": 1.0}
    assert trained.validation["movies"].accuracy == 1.0
    assert trained.validation["feedback"].accuracy == 1.0
    assert trained.validation["all"].sentences == len(movies) + len(feedback)
    classifier = SentimentClassifier(embed=fake_embed, head=trained.head)
    results = classifier.classify(["a great film about dogs", "the fan is broken"])
    assert [r.label for r in results] == ["positive", "negative"]


def test_metadata_records_the_sources_their_hashes_and_the_scores(tmp_path: Path) -> None:
    movies, feedback = corpus()
    trained = train(
        movies=movies,
        feedback=feedback,
        embed=fake_embed,
        config=TrainingConfig(folds=3),
        say=lambda _: None,
    )
    source = tmp_path / "movies.tsv"
    source.write_text("text\tlabel\n", encoding="utf-8")
    info = metadata(trained, config=TrainingConfig(folds=3), sources={"movies": source}, encoder={})
    assert info["sources"]["movies"]["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert info["seed"] == 0 and len(info["folds"]) == 3
    assert info["validation"]["movies"]["accuracy"] == 1.0
    json.dumps(info)  # plain JSON, nothing numpy left in it


def test_the_shipped_head_was_trained_on_the_feedback_sentences_as_they_are() -> None:
    """Edit data/feedback_train.yaml, and this fails until the head is trained again."""
    info = json.loads(default_head_path().with_suffix(".json").read_text(encoding="utf-8"))
    feedback = hashlib.sha256(FEEDBACK_PATH.read_bytes()).hexdigest()
    assert info["sources"]["feedback"]["sha256"] == feedback
    assert info["format"] == FORMAT


def test_the_shipped_head_is_small() -> None:
    assert default_head_path().stat().st_size < 1_000_000
