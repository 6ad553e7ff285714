"""Word features: words and pairs, negation signs, hashing, and the sparse sums."""

import zlib

import numpy as np

from slm_mesh.services.sentiment.features import BUCKETS, term_matrix, terms


def test_terms_are_casefolded_words_then_adjacent_pairs() -> None:
    assert terms("Love the LAMP") == [
        ("love", 1),
        ("the", 1),
        ("lamp", 1),
        ("love the", 1),
        ("the lamp", 1),
    ]


def test_a_negation_flips_the_words_after_it_until_the_clause_ends() -> None:
    signs = dict(t for t in terms("No problems at all, great") if " " not in t[0])
    assert signs == {"no": 1, "problems": -1, "at": -1, "all": -1, "great": 1}


def test_but_ends_a_negation_and_contractions_negate() -> None:
    signs = dict(t for t in terms("it isn't quick but works") if " " not in t[0])
    assert signs == {"it": 1, "isn't": 1, "quick": -1, "but": 1, "works": 1}


def test_curly_apostrophes_read_as_straight_ones() -> None:
    assert terms("that\u2019s wrong") == terms("that's wrong")


def test_exclamation_and_question_marks_are_terms() -> None:
    words = [term for term, _ in terms("why?! really")]
    assert "?" in words and "!" in words


def test_a_term_met_twice_counts_once_and_opposite_signs_cancel() -> None:
    matrix = term_matrix(["good good", "good, not good"], buckets=64)
    first = matrix.rows == 0
    assert sorted(matrix.values[first].tolist()) == [1.0, 1.0]  # "good" and "good good"
    # Row 1: "good" (+1) and "good" negated (-1) cancel; "not", the pairs remain.
    assert matrix.texts == 2 and (matrix.rows == 1).sum() == 3


def test_texts_without_words_have_no_terms() -> None:
    matrix = term_matrix(["", "..."], buckets=64)
    assert matrix.texts == 2 and matrix.rows.size == 0


def test_weighted_sums_add_the_weights_of_known_buckets_with_their_signs() -> None:
    matrix = term_matrix(["nice", "not nice"], buckets=BUCKETS)
    nice = zlib.crc32(b"nice") % BUCKETS
    sums = matrix.weighted_sums(np.array([nice]), np.array([2.0]))
    np.testing.assert_allclose(sums, [2.0, -2.0])


def test_unknown_buckets_weigh_nothing() -> None:
    matrix = term_matrix(["anything at all"], buckets=BUCKETS)
    sums = matrix.weighted_sums(np.array([], dtype=np.int64), np.array([]))
    np.testing.assert_allclose(sums, [0.0])


def test_take_keeps_the_chosen_texts_renumbered() -> None:
    matrix = term_matrix(["one", "two words", "three little words"], buckets=BUCKETS)
    taken = matrix.take(np.array([0, 2]))
    alone = term_matrix(["one", "three little words"], buckets=BUCKETS)
    assert taken.texts == 2
    assert sorted(zip(taken.rows.tolist(), taken.buckets.tolist(), strict=True)) == sorted(
        zip(alone.rows.tolist(), alone.buckets.tolist(), strict=True)
    )
