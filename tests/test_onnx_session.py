"""The embedder on the real default model, and the CPU feature probe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from slm_mesh.services.runtime.onnx_session import Embedder, cpu_int8_support, pool


@pytest.mark.slow
def test_default_model_gives_a_unit_vector(embedder: Embedder) -> None:
    vectors = embedder.embed(["turn on the light"])
    assert vectors.shape == (1, 384) and vectors.dtype == np.float32
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.slow
def test_a_texts_vector_is_the_same_alone_or_in_any_batch(embedder: Embedder) -> None:
    texts = [
        "hi",
        "turn on the light",
        "set the kitchen lights to fifty percent and close the living room blinds",
    ]
    batch = embedder.embed(texts)
    alone = np.vstack([embedder.embed([text]) for text in texts])
    np.testing.assert_array_equal(batch, alone)  # int8: dynamic quantization, per text
    np.testing.assert_array_equal(embedder.embed(texts * 40)[-3:], batch)  # split up


@pytest.mark.slow
def test_fp32_and_int8_runs_of_the_default_model_agree(embedder: Embedder, cache_dir: Path) -> None:
    fp32 = Embedder(plugin=embedder.plugin, cache_dir=cache_dir, precision="fp32")
    texts = ["turn on the light", "what's a good recipe for banana bread"]
    assert (embedder.precision, fp32.precision) == ("int8", "fp32")
    assert np.all((embedder.embed(texts) * fp32.embed(texts)).sum(axis=1) > 0.98)


@pytest.mark.slow
def test_similar_commands_are_closer_than_unrelated_text(embedder: Embedder) -> None:
    light, lamp, weather = embedder.embed(
        ["turn on the light", "switch the lamp on", "what is the weather tomorrow"]
    )
    assert float(light @ lamp) > float(light @ weather)


@pytest.mark.slow
def test_empty_input_and_exposed_session(embedder: Embedder) -> None:
    assert embedder.embed([]).shape == (0, 384)
    names = {i.name for i in embedder.session.get_inputs()}
    assert names == {"input_ids", "attention_mask", "token_type_ids"}
    assert embedder.tokenizer.padding is not None and embedder.tokenizer.padding["length"] is None


def test_mean_pooling_ignores_padding() -> None:
    hidden = np.array([[[1.0, 0.0], [3.0, 0.0], [100.0, 100.0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0]], dtype=np.int64)
    assert pool(hidden, mask, pooling="mean", normalize=False).tolist() == [[2.0, 0.0]]
    assert pool(hidden, mask, pooling="cls", normalize=True).tolist() == [[1.0, 0.0]]


def test_int8_probe_reads_x86_and_arm_flags() -> None:
    assert cpu_int8_support("flags\t: fpu sse avx512_vnni avx2\n") == "avx512_vnni"
    assert cpu_int8_support("Features\t: fp asimd asimddp crc32\n") == "asimddp"
    assert cpu_int8_support("Features\t: fp asimd crc32\n") == "none"
    assert isinstance(cpu_int8_support(), str)
