"""Sentence spans: abbreviations, numbers, quotes, lists and headings, and every character kept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slm_mesh.services.summarizer.sentences import split_sentences


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mr. Smith met Dr. Jones at 10 a.m. on Monday. They spoke.",
            ["Mr. Smith met Dr. Jones at 10 a.m. on Monday.", "They spoke."],
        ),
        (
            "Use a hub, e.g. the Pi, i.e. a small box. It works.",
            ["Use a hub, e.g. the Pi, i.e. a small box.", "It works."],
        ),
        (
            "The U.S. economy grew. I live in the U.S. He does not.",
            ["The U.S. economy grew.", "I live in the U.S.", "He does not."],
        ),
        (
            "Ask for No. 5 on St. Mary's Road. It is on Baker St. The house is red.",
            ["Ask for No. 5 on St. Mary's Road.", "It is on Baker St.", "The house is red."],
        ),
        (
            "Growth was 3.5% in 2004. Version v2.0.1 shipped at 10.30 today.",
            ["Growth was 3.5% in 2004.", "Version v2.0.1 shipped at 10.30 today."],
        ),
        (
            "George W. Bush spoke. Plan B. The rest.",
            ["George W. Bush spoke.", "Plan B.", "The rest."],
        ),
        (
            "Acme Inc. announced results. Acme Ltd. The firm grew.",
            ["Acme Inc. announced results.", "Acme Ltd.", "The firm grew."],
        ),
    ],
)
def test_abbreviations_initials_and_numbers_do_not_end_sentences(
    text: str, expected: list[str]
) -> None:
    assert sentences(text) == expected


def test_quotes_and_brackets_after_the_full_stop_stay_with_their_sentence() -> None:
    text = 'He said "Stop." Then he left. "Why?" she asked. (See below.) Next.'
    assert sentences(text) == [
        'He said "Stop."',
        "Then he left.",
        '"Why?" she asked.',
        "(See below.)",
        "Next.",
    ]


def test_ellipses_end_a_sentence_only_before_a_capital() -> None:
    text = "Wait... What happened?! It cost £3.5bn... and rose. Prices fell\u2026 Then more."
    assert sentences(text) == [
        "Wait...",
        "What happened?!",
        "It cost £3.5bn... and rose.",
        "Prices fell\u2026",
        "Then more.",
    ]


def test_lists_headings_and_paragraphs_are_sentences_of_their_own() -> None:
    text = (
        "Shopping\n\nWe need a few things. Mostly food\n\n"
        "- milk\n- eggs and bread\n1. First step. Do it.\n2) Second step\n  * nested item"
    )
    assert sentences(text) == [
        "Shopping",
        "We need a few things.",
        "Mostly food",
        "- milk",
        "- eggs and bread",
        "1. First step.",
        "Do it.",
        "2) Second step",
        "* nested item",
    ]


def test_short_unpunctuated_lines_stand_alone_but_wrapped_prose_is_joined() -> None:
    chat = "Alice: on my way\nBob: ok see you\nCarol: bring snacks"
    assert sentences(chat) == ["Alice: on my way", "Bob: ok see you", "Carol: bring snacks"]
    wrapped = "This long line of hard-wrapped prose goes on for a while\nand ends here. Done."
    assert sentences(wrapped) == [
        "This long line of hard-wrapped prose goes on for a while\nand ends here.",
        "Done.",
    ]


def test_text_without_final_punctuation_and_odd_spacing() -> None:
    assert sentences("  no full stop at all  ") == ["no full stop at all"]
    assert sentences("One.   Two?\tThree") == ["One.", "Two?", "Three"]
    assert sentences(" \n\t ") == []


def test_offsets_point_into_the_original_text() -> None:
    text = "\n  First one.  Second one!\n\n"
    assert split_sentences(text) == ((3, 13), (15, 26))


_PIECES = st.sampled_from(
    [
        "Mr.", "Dr.", "e.g.", "U.S.", "a.m.", "No.", "5", "3.5", "v2.0.1", "...", "\u2026",
        '"', "'", ")", "(", "-", "*", "1.", "2)", "a)", "The", "the", "end.", "Why?", "Stop!",
        " ", "  ", "\n", "\n\n", "\t", "word", "Word", "\u00a0", "\u2028", "\r\n",
    ]
)  # fmt: skip


@given(st.lists(_PIECES | st.text(max_size=6), max_size=40).map("".join))
def test_spans_are_ordered_disjoint_trimmed_and_cover_every_visible_character(text: str) -> None:
    spans = split_sentences(text)
    covered: set[int] = set()
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        assert not text[start].isspace() and not text[end - 1].isspace()
        covered.update(range(start, end))
        previous_end = end
    visible = {i for i, char in enumerate(text) if not char.isspace()}
    assert visible <= covered
