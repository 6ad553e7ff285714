"""Scoring on a TSV of cases: reading the file, counting per label, listing mistakes."""

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from slm_mesh.services.errors import SlmMeshError
from slm_mesh.services.sentiment import SentimentResult
from slm_mesh.services.sentiment.cases import Case, load_cases
from slm_mesh.services.sentiment.evaluate import format_score, score


class SaysPositiveForThanks:
    """A stand-in classifier: positive when the text thanks, and sure of it."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def classify(self, texts: Sequence[str]) -> list[SentimentResult]:
        self.batches.append(len(texts))
        return [
            SentimentResult(
                text=text,
                label="positive" if "thanks" in text else "negative",
                scores={"positive": 0.9, "negative": 0.1}
                if "thanks" in text
                else {"positive": 0.1, "negative": 0.9},
            )
            for text in texts
        ]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cases.tsv"
    path.write_text(text, encoding="utf-8")
    return path


def test_cases_are_read_with_quotes_as_plain_characters(tmp_path: Path) -> None:
    path = write(tmp_path, 'text\tlabel\n"thanks" she said\tpositive\nno\tnegative\n')
    assert load_cases(path) == [Case('"thanks" she said', "positive"), Case("no", "negative")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("words\tlabel\nhi\tpositive\n", "columns `text` and `label`"),
        ("text\tlabel\nhi\tneutral\n", ":2: `label` must be one of"),
        ("text\tlabel\n\tpositive\n", ":2: empty `text`"),
        ("text\tlabel\n", "no cases"),
    ],
)
def test_a_bad_cases_file_says_where_and_what(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(SlmMeshError, match=re.escape(message)):
        load_cases(write(tmp_path, content))


def test_a_missing_cases_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(SlmMeshError, match="cannot read cases"):
        load_cases(tmp_path / "absent.tsv")


def test_score_counts_accuracy_per_label_and_keeps_the_mistakes() -> None:
    cases = [
        Case("thanks", "positive"),
        Case("thanks a lot", "positive"),
        Case("great job", "positive"),
        Case("wrong room", "negative"),
    ]
    classifier = SaysPositiveForThanks()
    result = score(classifier, cases, batch_size=3)
    assert classifier.batches == [3, 1]
    assert result.accuracy == 0.75
    assert (result.by_label["positive"].cases, result.by_label["positive"].correct) == (3, 2)
    assert (result.by_label["negative"].cases, result.by_label["negative"].correct) == (1, 1)
    assert [case.text for case, _ in result.mistakes] == ["great job"]
    assert result.as_json()["by_label"]["positive"] == {"cases": 3, "correct": 2}
    assert "expected positive, got negative (0.90): great job" in format_score(
        result, show_mistakes=5
    )
