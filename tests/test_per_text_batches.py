"""A per-text batch: one ONNX Runtime call, each text computed as if it ran alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from slm_mesh.services.errors import ModelError
from slm_mesh.services.runtime.onnx_session import create_session
from slm_mesh.services.runtime.per_text_batches import per_text_model_path, write_per_text_model


def _quantizing_model(
    path: Path, *, inputs: tuple[str, ...] = ("input_ids", "attention_mask"), opset: int = 17
) -> Path:
    """Token ids as [batch, seq, 1] floats through dynamic uint8 quantization and back: like
    a dynamically quantized model, one scale covers the whole batch."""
    nodes = [
        helper.make_node("Cast", ["input_ids"], ["ids"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["ids", "last"], ["column"]),
        helper.make_node("DynamicQuantizeLinear", ["column"], ["q", "scale", "zero"]),
        helper.make_node("DequantizeLinear", ["q", "scale", "zero"], ["last_hidden_state"]),
    ]
    graph = helper.make_graph(
        nodes,
        "quantizing",
        [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"]) for n in inputs],
        [
            helper.make_tensor_value_info(
                "last_hidden_state", TensorProto.FLOAT, ["batch", "seq", 1]
            )
        ],
        initializer=[helper.make_tensor("last", TensorProto.INT64, [1], [2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def _batch(rows: list[list[int]]) -> dict[str, np.ndarray]:
    width = max(len(row) for row in rows)
    ids = np.array([row + [0] * (width - len(row)) for row in rows], dtype=np.int64)
    mask = np.array([[1] * len(row) + [0] * (width - len(row)) for row in rows], dtype=np.int64)
    return {"input_ids": ids, "attention_mask": mask}


def test_a_texts_vector_does_not_depend_on_its_batch(tmp_path: Path) -> None:
    model = _quantizing_model(tmp_path / "model.onnx")
    wrapped = tmp_path / "wrapped.onnx"
    write_per_text_model(model, wrapped, pooling="mean")
    plain, per_text = create_session(model), create_session(wrapped)
    short, long_ = [1, 2, 3], [1000, 7, 9, 4]

    def plain_first_row(rows: list[list[int]]) -> np.ndarray:
        hidden = plain.run(None, _batch(rows))[0][0, : len(short), 0]
        return np.asarray(hidden)

    # The point of the wrapper: in a plain batch, a neighbour with big values coarsens
    # the quantization of every text.
    assert not np.array_equal(plain_first_row([short]), plain_first_row([short, long_]))
    alone = per_text.run(None, _batch([short]))[0]
    together = per_text.run(None, _batch([short, long_]))[0]
    assert together.shape == (2, 1)
    np.testing.assert_array_equal(together[0], alone[0])
    np.testing.assert_allclose(alone[0], [np.mean(short)], atol=0.02)  # padding never counts
    np.testing.assert_array_equal(together[1], per_text.run(None, _batch([long_]))[0][0])


def test_cls_pooling_takes_the_first_token(tmp_path: Path) -> None:
    model = _quantizing_model(tmp_path / "model.onnx")
    wrapped = tmp_path / "wrapped.onnx"
    write_per_text_model(model, wrapped, pooling="cls")
    vectors = create_session(wrapped).run(None, _batch([[5, 100], [9]]))[0]
    np.testing.assert_allclose(vectors[:, 0], [5, 9], atol=0.5)


def test_opset_18_models_are_wrapped_too(tmp_path: Path) -> None:
    model = _quantizing_model(tmp_path / "model.onnx", opset=18)
    wrapped = tmp_path / "wrapped.onnx"
    write_per_text_model(model, wrapped, pooling="mean")
    vectors = create_session(wrapped).run(None, _batch([[2, 4], [6]]))[0]
    np.testing.assert_allclose(vectors[:, 0], [3, 6], atol=0.05)


def test_an_export_that_pools_already_keeps_its_own_vectors(tmp_path: Path) -> None:
    model = _quantizing_model(tmp_path / "model.onnx")
    pooled = onnx.load(str(model))
    pooled.graph.node.append(
        helper.make_node(
            "ReduceMean", ["last_hidden_state"], ["sentence_embedding"], axes=[1], keepdims=0
        )
    )
    del pooled.graph.output[:]
    pooled.graph.output.append(
        helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", 1])
    )
    onnx.save(pooled, str(model))
    wrapped = tmp_path / "wrapped.onnx"
    write_per_text_model(model, wrapped, pooling="cls")  # its own pooling wins
    vectors = create_session(wrapped).run(None, _batch([[2, 4], [6]]))[0]
    np.testing.assert_allclose(vectors[:, 0], [3, 6], atol=0.05)


def test_models_it_cannot_wrap_are_refused_with_the_reason(tmp_path: Path) -> None:
    odd = _quantizing_model(tmp_path / "odd.onnx", inputs=("input_ids", "pixel_values"))
    with pytest.raises(ModelError, match="pixel_values"):
        write_per_text_model(odd, tmp_path / "out.onnx", pooling="mean")
    old = _quantizing_model(tmp_path / "old.onnx", opset=11)
    with pytest.raises(ModelError, match="opset 11"):
        write_per_text_model(old, tmp_path / "out.onnx", pooling="mean")
    assert not (tmp_path / "out.onnx").exists()


def test_each_model_file_gets_its_own_cached_wrapper(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    first = _quantizing_model(tmp_path / "a" / "model.onnx")
    second = _quantizing_model(tmp_path / "b" / "model.onnx")
    cache = tmp_path / "cache"
    path = per_text_model_path(first, cache)
    assert path.parent == cache / "models" and path.name.startswith("model-")
    assert path == per_text_model_path(first, cache)
    assert path != per_text_model_path(second, cache)
    _quantizing_model(first, opset=18)  # the same file, rewritten
    assert path != per_text_model_path(first, cache)
