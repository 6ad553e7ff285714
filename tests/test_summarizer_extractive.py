"""Extractive summaries: source sentences with exact offsets, in order, within budget."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.runtime.onnx_session import Embedder
from slm_mesh.services.summarizer import ExtractiveSummarizer, Summary
from slm_mesh.services.summarizer.evaluate import evaluate, load_cases, methods

DEV = Path(__file__).parent / "data" / "summarizer" / "dev"

ARTICLE = """Harbour Foods profit jumps on ready meals

Profits at Harbour Foods, a maker of ready meals, rose 31% to £84m in the year to March.

The firm said revenue grew 9% to £1.2bn as shoppers bought more ready meals for home.

Its shares rose 6%.

"Families are watching every pound," said its boss.

Harbour Foods also cut its debt after selling its bakery, and it will build a new ready meals \
kitchen in Scotland.

Analysts had expected profits of £79m."""


def assert_grounded(summary: Summary, text: str) -> None:
    starts = [sentence.start for sentence in summary.sentences]
    assert starts == sorted(starts)
    for sentence in summary.sentences:
        assert text[sentence.start : sentence.end] == sentence.text


def test_every_sentence_is_a_verbatim_span_of_the_source_in_source_order() -> None:
    summary = ExtractiveSummarizer().summarize(ARTICLE, max_sentences=3)
    assert len(summary.sentences) == 3
    assert_grounded(summary, ARTICLE)
    assert summary.sentences[0].text.startswith("Profits at Harbour Foods")


def test_the_headline_and_colour_are_left_out() -> None:
    texts = [s.text for s in ExtractiveSummarizer().summarize(ARTICLE, max_sentences=3).sentences]
    assert "Harbour Foods profit jumps on ready meals" not in texts
    assert "Its shares rose 6%." not in texts


def test_a_budget_in_characters_is_respected_by_the_joined_text() -> None:
    for max_chars in (90, 150, 200, 400):
        summary = ExtractiveSummarizer().summarize(ARTICLE, max_chars=max_chars)
        assert summary.sentences and len(summary.text) <= max_chars
        assert_grounded(summary, ARTICLE)


def test_both_budgets_together_and_the_default() -> None:
    both = ExtractiveSummarizer().summarize(ARTICLE, max_sentences=5, max_chars=120)
    assert len(both.sentences) <= 5 and len(both.text) <= 120
    assert len(ExtractiveSummarizer().summarize(ARTICLE).sentences) == 3


def test_a_budget_larger_than_the_text_returns_every_sentence_without_repeats() -> None:
    text = "The pump failed. The pump failed. The heater works."
    summary = ExtractiveSummarizer().summarize(text, max_sentences=10)
    assert [s.text for s in summary.sentences] == ["The pump failed.", "The heater works."]
    assert [s.start for s in summary.sentences] == [0, 34]


def test_a_short_text_is_its_own_summary() -> None:
    summary = ExtractiveSummarizer().summarize("  Kettle on  ", max_sentences=2)
    assert [(s.text, s.start, s.end) for s in summary.sentences] == [("Kettle on", 2, 11)]


@pytest.mark.parametrize(
    ("budget", "field"),
    [({"max_sentences": 0}, "max_sentences"), ({"max_chars": -1}, "max_chars")],
)
def test_a_budget_below_one_is_refused(budget: dict[str, int], field: str) -> None:
    with pytest.raises(InvalidRequestError, match="at least 1") as caught:
        ExtractiveSummarizer().summarize(ARTICLE, **budget)
    assert caught.value.field == field


def test_a_character_budget_below_every_sentence_says_how_much_is_needed() -> None:
    with pytest.raises(InvalidRequestError, match="allow at least 19 characters"):
        ExtractiveSummarizer().summarize(
            "Its shares rose 6%. Analysts were wrong about it.", max_chars=10
        )


def test_the_encoder_only_sees_the_best_candidates_and_paraphrases_count_as_repeats() -> None:
    seen: list[str] = []

    def embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        seen.extend(texts)
        # Every sentence gets the same vector: all are paraphrases of the first one chosen.
        return np.tile(np.eye(1, 384, dtype=np.float32), (len(texts), 1))

    summary = ExtractiveSummarizer(embed=embed, max_embedded=3).summarize(ARTICLE, max_sentences=3)
    assert len(seen) == 3
    assert len(summary.sentences) == 3  # the rest come from sentences never encoded
    assert sum(sentence.text in seen for sentence in summary.sentences) == 1
    assert_grounded(summary, ARTICLE)


def test_two_sentences_the_encoder_finds_alike_are_not_both_chosen() -> None:
    text = (
        "The boiler lost pressure overnight. The boiler pressure dropped in the night. "
        "The hall light stayed on. The garage door was left open."
    )
    alike = {"The boiler lost pressure overnight.", "The boiler pressure dropped in the night."}

    def embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        rows = [0 if t in alike else 1 + k for k, t in enumerate(texts)]
        return np.eye(len(texts) + 1, 384, dtype=np.float32)[rows]

    summary = ExtractiveSummarizer(embed=embed).summarize(text, max_sentences=3)
    chosen = {sentence.text for sentence in summary.sentences}
    assert len(chosen & alike) == 1 and len(chosen) == 3
    assert_grounded(summary, text)


def test_max_embedded_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_embedded"):
        ExtractiveSummarizer(max_embedded=0)


def test_on_the_dev_set_it_beats_the_word_frequency_baseline() -> None:
    cases = load_cases(DEV)
    chosen = methods(None)
    ours = evaluate(cases, chosen["summarizer"], "summarizer")
    baseline = evaluate(cases, chosen["word frequency"], "word frequency")
    assert ours.rouge1 > baseline.rouge1 and ours.rouge2 > baseline.rouge2


@pytest.mark.slow
def test_with_the_real_encoder_summaries_stay_grounded(embedder: Embedder) -> None:
    summarizer = ExtractiveSummarizer(embed=embedder.embed)
    for case in load_cases(DEV):
        summary = summarizer.summarize(case.article, max_sentences=case.budget)
        assert len(summary.sentences) == case.budget
        assert_grounded(summary, case.article)
