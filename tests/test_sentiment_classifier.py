"""The sentiment core: batch in, batch out, one encoder call per batch, scores that sum to 1."""

from collections.abc import Sequence

import numpy as np
import pytest

from slm_mesh.services.sentiment import SentimentClassifier, SentimentHead, SentimentResult


class CountingEmbed:
    """A stand-in encoder: "yes" texts point along the first axis, others against it."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.array([[1.0 if "yes" in t else -1.0, 0.0] for t in texts], dtype=np.float32)


def head() -> SentimentHead:
    empty = np.zeros(0)
    return SentimentHead(
        embedding_weights=np.array([3.0, 0.0], dtype=np.float32),
        home_weights=np.zeros(2, dtype=np.float32),
        gate_weights=np.zeros(2, dtype=np.float32),
        gate_bias=0.0,
        term_buckets=empty.astype(np.int64),
        term_weights=empty.astype(np.float32),
        home_term_buckets=empty.astype(np.int64),
        home_term_weights=empty.astype(np.float32),
        bias=0.0,
    )


def test_a_batch_gets_one_result_per_text_in_order_from_one_encoder_call() -> None:
    embed = CountingEmbed()
    classifier = SentimentClassifier(embed=embed, head=head())
    results = classifier.classify(["yes please", "no thanks", "oh yes"])
    assert [r.text for r in results] == ["yes please", "no thanks", "oh yes"]
    assert [r.label for r in results] == ["positive", "negative", "positive"]
    assert embed.calls == [["yes please", "no thanks", "oh yes"]]


def test_scores_are_probabilities_that_sum_to_one() -> None:
    (result,) = SentimentClassifier(embed=CountingEmbed(), head=head()).classify(["yes"])
    assert result.scores["positive"] == pytest.approx(1 / (1 + np.exp(-3.0)))
    assert result.scores["positive"] + result.scores["negative"] == pytest.approx(1.0)
    assert isinstance(result.scores["positive"], float)


def test_an_empty_batch_does_not_call_the_encoder() -> None:
    embed = CountingEmbed()
    assert SentimentClassifier(embed=embed, head=head()).classify([]) == []
    assert embed.calls == []


def test_results_are_frozen() -> None:
    result = SentimentResult(text="x", label="positive", scores={"positive": 1.0, "negative": 0.0})
    with pytest.raises(AttributeError):
        result.label = "negative"  # type: ignore[misc]
