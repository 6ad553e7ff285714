"""ROUGE-1/2 and the Porter stemmer agree with rouge-score and NLTK, without needing either."""

from __future__ import annotations

from pathlib import Path

import pytest

from slm_mesh.services.summarizer._porter import stem
from slm_mesh.services.summarizer.rouge import rouge_n, rouge_tokens

DATA = Path(__file__).parent / "data" / "summarizer"


def test_tokens_are_lowercase_alphanumeric_runs_stemmed_past_three_letters() -> None:
    text = "The U.S. cats were running, 3.5% faster!"
    assert rouge_tokens(text) == ["the", "u", "s", "cats", "were", "running", "3", "5", "faster"]
    assert rouge_tokens(text, stem=True) == [
        "the", "u", "s", "cat", "were", "run", "3", "5", "faster",
    ]  # fmt: skip


# (candidate, reference, stem, n) -> (precision, recall, F1), as rouge-score 0.1.2 computes them.
@pytest.mark.parametrize(
    ("candidate", "reference", "stemmed", "n", "expected"),
    [
        (
            "The cats are running quickly to the U.S. border.",
            "A cat runs quickly toward the US border, they said.",
            False, 1, (0.3, 0.3, 0.3),
        ),
        (
            "The cats are running quickly to the U.S. border.",
            "A cat runs quickly toward the US border, they said.",
            True, 1, (0.5, 0.5, 0.5),
        ),
        (
            "The cats are running quickly to the U.S. border.",
            "A cat runs quickly toward the US border, they said.",
            True, 2, (0.111111, 0.111111, 0.111111),
        ),
        (
            "Profits rose 31% to £84m in the year to March.",
            "Profits at Harbour Foods rose 31% to £84m, helped by sales.",
            False, 2, (0.333333, 0.3, 0.315789),
        ),
        ("", "Something here.", False, 1, (0.0, 0.0, 0.0)),
    ],
)  # fmt: skip
def test_scores_match_rouge_score(
    candidate: str, reference: str, stemmed: bool, n: int, expected: tuple[float, float, float]
) -> None:
    score = rouge_n(candidate, reference, n, stem=stemmed)
    assert (score.precision, score.recall, score.f1) == pytest.approx(expected, abs=1e-6)


def test_n_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        rouge_n("a", "a", 0)


def test_stems_match_nltk_porter_with_its_extensions() -> None:
    rows = (DATA / "porter_nltk.tsv").read_text(encoding="utf-8").splitlines()
    pairs = [line.split("\t") for line in rows if not line.startswith("#")]
    assert len(pairs) > 400
    assert [(word, stem(word)) for word, _ in pairs] == [(word, s) for word, s in pairs]
