"""The shipped sentiment head on the real encoder: clear sentences, probabilities, the dev set.

The development set (tests/data/sentiment/feedback_dev.tsv) was written apart from the
training sentences, in other words, and is never trained on.
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from slm_mesh.services.runtime.onnx_session import Embedder
from slm_mesh.services.sentiment import SentimentClassifier, SentimentHead, default_head_path
from slm_mesh.services.sentiment.cases import load_cases
from slm_mesh.services.sentiment.evaluate import main, score

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def classifier(embedder: Embedder) -> SentimentClassifier:
    return SentimentClassifier(embed=embedder.embed, head=SentimentHead.load(default_head_path()))


CLEAR = [
    ("Thank you, that's perfect.", "positive"),
    ("You switched on the wrong lamp again.", "negative"),
    ("The new doorbell works brilliantly.", "positive"),
    ("The heating is broken and the house is freezing.", "negative"),
    ("A moving, beautifully made film.", "positive"),
    ("A boring, pointless movie.", "negative"),
]


def test_clear_sentences_get_their_label(classifier: SentimentClassifier) -> None:
    results = classifier.classify([text for text, _ in CLEAR])
    assert [r.label for r in results] == [label for _, label in CLEAR]


def test_probabilities_sum_to_one(classifier: SentimentClassifier) -> None:
    for result in classifier.classify([text for text, _ in CLEAR]):
        assert 0.0 <= result.scores["positive"] <= 1.0
        assert result.scores["positive"] + result.scores["negative"] == pytest.approx(1.0)
        assert result.scores[result.label] >= 0.5


def test_a_batch_runs_the_encoder_once(embedder: Embedder) -> None:
    calls: list[int] = []

    def counted(texts: Sequence[str]) -> np.ndarray:
        calls.append(len(texts))
        return embedder.embed(texts)

    head = SentimentHead.load(default_head_path())
    SentimentClassifier(embed=counted, head=head).classify([text for text, _ in CLEAR])
    assert calls == [len(CLEAR)]


def test_the_feedback_dev_set_scores_at_least_90_percent(
    classifier: SentimentClassifier, data_dir: Path
) -> None:
    result = score(classifier, load_cases(data_dir / "sentiment" / "feedback_dev.tsv"))
    assert result.cases >= 100
    assert result.accuracy >= 0.90, [case.text for case, _ in result.mistakes]


def test_the_evaluate_command_prints_the_accuracy(
    data_dir: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = data_dir / "sentiment" / "feedback_dev.tsv"
    assert main(["--cases", str(cases), "--cache-dir", str(cache_dir)]) == 0
    assert "accuracy" in capsys.readouterr().out
