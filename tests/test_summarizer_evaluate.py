"""The evaluation entry: cases in either layout, reference budgets, a side-by-side table."""

from __future__ import annotations

from pathlib import Path

import pytest

from slm_mesh.services.summarizer.evaluate import load_cases, main, reference_sentences

DEV = Path(__file__).parent / "data" / "summarizer" / "dev"


def test_a_reference_counts_lines_or_sentences_even_when_joined_without_a_space() -> None:
    assert reference_sentences("One line.\nAnother, without a stop\n\n") == 2
    assert reference_sentences("Sales rose 2% to $11.1bn.For the year, profit was up.") == 2
    assert reference_sentences("The U.S. firm grew 3.5%. Its rival did not.") == 2


def test_the_bbc_news_summary_layout_is_read(tmp_path: Path) -> None:
    (tmp_path / "News Articles" / "business").mkdir(parents=True)
    (tmp_path / "Summaries" / "business").mkdir(parents=True)
    article = "Title here\n\nFirst sentence is long. Second one. Third one.\n"
    (tmp_path / "News Articles" / "business" / "001.txt").write_text(article, encoding="utf-8")
    (tmp_path / "Summaries" / "business" / "001.txt").write_text(
        "First sentence is long.Third one.", encoding="utf-8"
    )
    (tmp_path / "News Articles" / "business" / "002.txt").write_text("No summary.")
    [case] = load_cases(tmp_path)
    assert (case.name, case.budget) == ("business/001.txt", 2)


def test_a_folder_without_cases_says_which_folders_it_wants(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="articles, News Articles"):
        load_cases(tmp_path)


def test_the_table_lists_the_summarizer_beside_the_baselines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--cases", str(DEV)]) == 0
    table = capsys.readouterr().out
    assert table.startswith("10 cases")
    for method in ("lead", "word frequency", "summarizer"):
        assert f"\n{method} " in table
