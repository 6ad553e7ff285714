"""Tiny models in the layouts people download, built in milliseconds instead of fetched.

The classifier reads like a sentiment model: token vectors averaged over the real tokens
(the attention mask), then one matrix product to two logits. "good" pushes class 1
(POSITIVE), "bad" class 0 (NEGATIVE); the padding token's vector is large, so a run that
let padding count would change its answer.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

VOCAB = ("[PAD]", "[UNK]", "good", "bad", "the", "movie", "was", "very", "plot", "acting")
SST2_LABELS = {"0": "NEGATIVE", "1": "POSITIVE"}
_DIM = 4
_OPSET = 17  # ReduceSum takes its axes as an input (13+); the per-text wrapper needs 13+


def _embeddings() -> np.ndarray:
    table = np.random.default_rng(0).uniform(-0.2, 0.2, (len(VOCAB), _DIM))
    table[VOCAB.index("[PAD]")] = [5.0, -5.0, 5.0, -5.0]
    table[VOCAB.index("good")] = [0.0, 1.5, 0.1, -0.1]
    table[VOCAB.index("bad")] = [1.5, 0.0, -0.1, 0.1]
    return table.astype(np.float32)


def _weights(num_labels: int) -> np.ndarray:
    weights = np.zeros((_DIM, num_labels), dtype=np.float32)
    weights[:, :2] = [[2.0, -2.0], [-2.0, 2.0], [0.5, 0.3], [0.3, 0.5]]
    return weights


def classifier_graph(
    *,
    token_type_ids: bool = True,
    num_labels: int = 2,
    extra_input: str | None = None,
    output: str = "logits",
) -> onnx.ModelProto:
    """A graph with the inputs and `logits` output of an Optimum text-classification export."""
    inputs = ["input_ids", "attention_mask"]
    inputs += ["token_type_ids"] if token_type_ids else []
    inputs += [extra_input] if extra_input else []
    nodes = [
        helper.make_node("Gather", ["embeddings", "input_ids"], ["tokens"]),
        helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask", "axis_2"], ["mask_3d"]),
        helper.make_node("Mul", ["tokens", "mask_3d"], ["real_tokens"]),
        helper.make_node("ReduceSum", ["real_tokens", "axis_1"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["mask_3d", "axis_1"], ["count"], keepdims=0),
        helper.make_node("Max", ["count", "one"], ["count_at_least_1"]),
        helper.make_node("Div", ["summed", "count_at_least_1"], ["mean"]),
        helper.make_node("MatMul", ["mean", "weights"], ["scores"]),
        helper.make_node("Add", ["scores", "bias"], [output]),
    ]
    if token_type_ids:  # BERT adds a segment vector per token; one segment, so all zeros
        nodes[0:1] = [
            helper.make_node("Gather", ["embeddings", "input_ids"], ["words"]),
            helper.make_node("Gather", ["segments", "token_type_ids"], ["segment"]),
            helper.make_node("Add", ["words", "segment"], ["tokens"]),
        ]
    initializers = [
        onnx.numpy_helper.from_array(_embeddings(), "embeddings"),
        onnx.numpy_helper.from_array(np.zeros((2, _DIM), dtype=np.float32), "segments"),
        onnx.numpy_helper.from_array(_weights(num_labels), "weights"),
        onnx.numpy_helper.from_array(np.zeros(num_labels, dtype=np.float32), "bias"),
        helper.make_tensor("axis_1", TensorProto.INT64, [1], [1]),
        helper.make_tensor("axis_2", TensorProto.INT64, [1], [2]),
        helper.make_tensor("one", TensorProto.FLOAT, [], [1.0]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_sequence_classifier",
        [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"]) for n in inputs],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["batch", num_labels])],
        initializer=initializers if token_type_ids else initializers[:1] + initializers[2:],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET)])
    model.ir_version = 8  # what ONNX Runtime releases back to 1.14 read
    onnx.checker.check_model(model)
    return model


def write_tokenizer(path: Path) -> None:
    """A WordLevel `tokenizer.json`: lower-cased words split on whitespace, padding on."""
    tokenizer = Tokenizer(
        models.WordLevel({word: i for i, word in enumerate(VOCAB)}, unk_token="[UNK]")
    )
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(path))


def write_config(path: Path, **fields: object) -> None:
    """A Hugging Face `config.json` with the given fields."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fields, indent=2), encoding="utf-8")


def write_classifier(
    folder: Path,
    *,
    model_name: str = "model.onnx",
    token_type_ids: bool = True,
    num_labels: int = 2,
) -> Path:
    """An SST-2-like export folder: the graph at `model_name`, `tokenizer.json`, `config.json`.

    `model.onnx` is the Optimum layout; `onnx/model_quantized.onnx` the transformers.js one.
    """
    model = classifier_graph(token_type_ids=token_type_ids, num_labels=num_labels)
    (folder / model_name).parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / model_name))
    write_tokenizer(folder / "tokenizer.json")
    write_config(
        folder / "config.json",
        architectures=["DistilBertForSequenceClassification"],
        model_type="distilbert",
        id2label=SST2_LABELS,
        label2id={name: int(i) for i, name in SST2_LABELS.items()},
        max_position_embeddings=512,
    )
    return folder
