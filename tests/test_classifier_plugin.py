"""Sequence classifiers in the Optimum and transformers.js layouts, on a tiny SST-2-like model."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from tiny_models import classifier_graph, write_classifier, write_config

from slm_mesh.services.errors import ModelError
from slm_mesh.services.runtime.classifier import SequenceClassifier, softmax

TEXTS = ["the movie was good", "bad", "very bad acting and a dull plot", "good good plot"]


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> SequenceClassifier:
    return SequenceClassifier.from_folder(write_classifier(tmp_path_factory.mktemp("optimum")))


def test_good_is_positive_and_bad_is_negative(classifier: SequenceClassifier) -> None:
    probabilities = classifier.classify(["the movie was good", "the movie was bad"])
    assert probabilities.shape == (2, 2) and probabilities.dtype == np.float32
    assert [classifier.labels[i] for i in probabilities.argmax(axis=1)] == ["positive", "negative"]
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    assert probabilities[0, 1] > 0.7 and probabilities[1, 0] > 0.7


def test_a_batch_gives_each_text_what_it_gets_alone(classifier: SequenceClassifier) -> None:
    alone = np.vstack([classifier.classify([text]) for text in TEXTS])
    np.testing.assert_allclose(classifier.classify(TEXTS), alone, rtol=1e-6, atol=1e-7)


def test_no_texts_give_an_empty_array(classifier: SequenceClassifier) -> None:
    assert classifier.classify([]).shape == (0, 2)


def test_the_transformers_js_layout_loads_onnx_model_quantized(
    tmp_path: Path, classifier: SequenceClassifier
) -> None:
    folder = write_classifier(tmp_path, model_name="onnx/model_quantized.onnx")
    js = SequenceClassifier.from_folder(folder)
    assert js.model_path == folder / "onnx" / "model_quantized.onnx"
    assert classifier.model_path.name == "model.onnx"
    np.testing.assert_array_equal(js.classify(TEXTS), classifier.classify(TEXTS))


def test_label_names_are_lower_cased_in_index_order(tmp_path: Path) -> None:
    folder = write_classifier(tmp_path)
    write_config(folder / "config.json", id2label={"1": "LABEL_1", "0": "Label_0"})
    assert SequenceClassifier.from_folder(folder).labels == ("label_0", "label_1")


def test_a_graph_without_token_type_ids_works(
    tmp_path: Path, classifier: SequenceClassifier
) -> None:
    distilbert = SequenceClassifier.from_folder(write_classifier(tmp_path, token_type_ids=False))
    np.testing.assert_allclose(distilbert.classify(TEXTS), classifier.classify(TEXTS), rtol=1e-6)


def test_texts_past_the_models_limit_are_truncated(tmp_path: Path) -> None:
    folder = write_classifier(tmp_path)
    write_config(folder / "config.json", id2label={"0": "N", "1": "P"}, max_position_embeddings=2)
    short = SequenceClassifier.from_folder(folder)
    np.testing.assert_array_equal(
        short.classify(["good plot bad bad bad"]), short.classify(["good plot"])
    )


def test_softmax_stays_finite_for_huge_logits() -> None:
    logits = np.array([[1000.0, 0.0], [-1000.0, -1000.0]], dtype=np.float32)
    np.testing.assert_allclose(softmax(logits), [[1.0, 0.0], [0.5, 0.5]])


def _config(**fields: object) -> Callable[[Path], object]:
    return lambda folder: write_config(folder / "config.json", **fields)


def _write(name: str, content: str) -> Callable[[Path], object]:
    return lambda folder: (folder / name).write_text(content, encoding="utf-8")


def _graph_taking(extra_input: str) -> Callable[[Path], object]:
    graph = classifier_graph(extra_input=extra_input)
    return lambda folder: onnx.save(graph, str(folder / "model.onnx"))


MALFORMED: dict[str, tuple[Callable[[Path], object], str]] = {
    "no config": (lambda f: (f / "config.json").unlink(), r"no config\.json beside .*model\.onnx"),
    "config not json": (_write("config.json", "{"), r"cannot read .*config\.json as JSON"),
    "no id2label": (_config(model_type="distilbert"), r"config\.json has no id2label"),
    "keys not 0..n-1": (
        _config(id2label={"0": "NEGATIVE", "2": "POSITIVE"}),
        r"id2label keys are \['0', '2'\]; expected \['0', '1'\]",
    ),
    "one label twice": (
        _config(id2label={"0": "POSITIVE", "1": "positive"}),
        r"two or more classes with different names",
    ),
    "multi-label": (
        _config(id2label={"0": "a", "1": "b"}, problem_type="multi_label_classification"),
        r"problem_type 'multi_label_classification'",
    ),
    "width not len(labels)": (
        _config(id2label={"0": "negative", "1": "neutral", "2": "positive"}),
        r"model\.onnx gives 'logits' of shape \(1, 2\).*expected logits \[batch, 3\]",
    ),
    "no tokenizer": (lambda f: (f / "tokenizer.json").unlink(), r"no tokenizer\.json beside"),
    "broken tokenizer": (_write("tokenizer.json", "{}"), r"cannot read tokenizer .*tokenizer"),
    "not onnx": (_write("model.onnx", "not an onnx graph"), r"cannot load .*model\.onnx"),
    "unknown input": (
        _graph_taking("position_ids"),
        r"model\.onnx takes inputs \[.*'position_ids'\]; a sequence classifier feeds input_ids",
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_folder_is_refused_naming_what_is_wrong(tmp_path: Path, case: str) -> None:
    break_folder, message = MALFORMED[case]
    folder = write_classifier(tmp_path)
    break_folder(folder)
    with pytest.raises(ModelError, match=message):
        SequenceClassifier.from_folder(folder)


def test_an_int8_quantized_model_agrees_and_ignores_its_batch(
    tmp_path: Path, classifier: SequenceClassifier
) -> None:
    quantization = pytest.importorskip("onnxruntime.quantization")
    folder = write_classifier(tmp_path, model_name="onnx/model.onnx")
    quantized = folder / "onnx" / "model_quantized.onnx"
    quantization.quantize_dynamic(
        folder / "onnx" / "model.onnx", quantized, weight_type=quantization.QuantType.QInt8
    )
    if "MatMulInteger" not in {node.op_type for node in onnx.load(str(quantized)).graph.node}:
        pytest.skip("quantize_dynamic left the matrix product in float: nothing to compare")
    cache = tmp_path / "cache"
    int8 = SequenceClassifier.from_folder(folder, cache_dir=cache)
    assert int8.model_path == quantized and list((cache / "models").glob("*per-text*.onnx"))
    batch = int8.classify(TEXTS)
    np.testing.assert_allclose(batch, classifier.classify(TEXTS), atol=0.02)
    # One activation scale per run would let neighbours move a text; each runs alone.
    np.testing.assert_array_equal(batch, np.vstack([int8.classify([t]) for t in TEXTS]))
    shutil.rmtree(cache)
    np.testing.assert_array_equal(SequenceClassifier.from_folder(folder).classify(TEXTS), batch)
