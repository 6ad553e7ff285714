"""The sentiment head: its logit is the sum of its parts, and it survives a save/load."""

import zlib
from pathlib import Path

import numpy as np
import pytest

from slm_mesh.services.errors import ModelError
from slm_mesh.services.sentiment.features import BUCKETS
from slm_mesh.services.sentiment.head import SentimentHead, sigmoid


def bucket(term: str) -> int:
    return zlib.crc32(term.encode("utf-8")) % BUCKETS


def small_head(*, gate_bias: float = 0.0, temperature: float = 1.0) -> SentimentHead:
    weights = {bucket("good"): 1.5, bucket("bad"): -1.5}
    known = sorted(weights)
    return SentimentHead(
        embedding_weights=np.array([1.0, 0.0, 0.0], dtype=np.float32),
        home_weights=np.array([0.0, 2.0, 0.0], dtype=np.float32),
        gate_weights=np.zeros(3, dtype=np.float32),
        gate_bias=gate_bias,
        term_buckets=np.array(known, dtype=np.int64),
        term_weights=np.array([weights[b] for b in known], dtype=np.float32),
        home_term_buckets=np.array([bucket("smart")], dtype=np.int64),
        home_term_weights=np.array([-1.0], dtype=np.float32),
        bias=0.25,
        temperature=temperature,
    )


def test_the_logit_adds_embedding_gated_home_part_words_and_bias() -> None:
    head = small_head(gate_bias=0.0)  # gate = 0.5 for every sentence
    embeddings = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    logits = head.logits(embeddings, ["good smart plug", "not good"])
    # Row 0: 1.0 + 0.5 * 2.0 + 1.5 ("good") + 0.5 * -1.0 ("smart") + 0.25.
    # Row 1: 0 + 0 - 1.5 ("good", negated) + 0.25.
    np.testing.assert_allclose(logits, [3.25, -1.25], rtol=1e-6)


def test_a_closed_gate_leaves_out_the_home_weights() -> None:
    head = small_head(gate_bias=-50.0)
    logits = head.logits(np.array([[0.0, 1.0, 0.0]], dtype=np.float32), ["smart"])
    np.testing.assert_allclose(logits, [0.25], atol=1e-6)


def test_the_temperature_softens_the_probability() -> None:
    embeddings = np.array([[1.0, 0.0, 0.0]], dtype=np.float32)
    sharp = small_head(temperature=1.0).positive_probability(embeddings, ["good"])
    soft = small_head(temperature=2.0).positive_probability(embeddings, ["good"])
    assert 0.5 < soft[0] < sharp[0]


def test_sigmoid_does_not_overflow() -> None:
    np.testing.assert_allclose(sigmoid(np.array([-1000.0, 0.0, 1000.0])), [0.0, 0.5, 1.0])


def test_save_and_load_keep_every_number(tmp_path: Path) -> None:
    head = small_head(gate_bias=0.3, temperature=1.7)
    head.save(tmp_path / "head.npz")
    loaded = SentimentHead.load(tmp_path / "head.npz")
    embeddings = np.array([[0.2, -0.4, 0.9]], dtype=np.float32)
    texts = ["good smart thing"]
    np.testing.assert_allclose(
        loaded.positive_probability(embeddings, texts), head.positive_probability(embeddings, texts)
    )
    assert (loaded.temperature, loaded.gate_bias, loaded.buckets) == (1.7, 0.3, BUCKETS)


def test_a_missing_head_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"sentiment\.training"):
        SentimentHead.load(tmp_path / "absent.npz")


def test_a_file_that_is_no_head_is_refused(tmp_path: Path) -> None:
    (tmp_path / "head.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ModelError, match="cannot read the sentiment head"):
        SentimentHead.load(tmp_path / "head.npz")


def test_a_plain_array_file_is_refused(tmp_path: Path) -> None:
    with (tmp_path / "head.npz").open("wb") as file:
        np.save(file, np.zeros(3))
    with pytest.raises(ModelError, match=r"not an \.npz archive"):
        SentimentHead.load(tmp_path / "head.npz")


def test_a_head_of_another_format_is_refused(tmp_path: Path) -> None:
    np.savez(tmp_path / "head.npz", format=np.array(99))
    with pytest.raises(ModelError, match="format 99"):
        SentimentHead.load(tmp_path / "head.npz")


def test_embeddings_of_the_wrong_size_are_refused() -> None:
    with pytest.raises(ModelError, match="3-dimensional"):
        small_head().logits(np.zeros((1, 384), dtype=np.float32), ["text"])
