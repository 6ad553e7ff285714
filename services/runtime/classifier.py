"""Hugging Face sequence classifiers exported to ONNX: texts in, class probabilities out.

Reads the layouts people already download, so a sentiment service runs DistilBERT SST-2 and
its kin as they come: an Optimum export (`optimum-cli export onnx --task text-classification`,
`model.onnx`) or a transformers.js repository (`onnx/model_quantized.onnx`), with
`tokenizer.json` and a `config.json` whose `id2label` names the classes.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from slm_mesh.services.errors import ModelError
from slm_mesh.services.runtime.model_store import ModelFiles, resolve_model_dir
from slm_mesh.services.runtime.onnx_session import create_session, load_tokenizer
from slm_mesh.services.runtime.per_text_batches import per_text_model_path, write_per_text_model
from slm_mesh.services.runtime.precision import has_int8_matmuls

DEFAULT_MAX_LENGTH = 512
"""Tokens kept per text when the export declares no limit (BERT-family models take 512)."""
_FEEDS = ("input_ids", "attention_mask", "token_type_ids")
_ID_TYPES: dict[str, type[np.integer]] = {"tensor(int64)": np.int64, "tensor(int32)": np.int32}
#: tokenizer_config.json says 1e30 for "no limit"; anything this large is not a model's limit.
_NO_LIMIT = 1_000_000
_EXPORT_HINT = "export it with `optimum-cli export onnx --task text-classification --model <id>`"


class SequenceClassifier:
    """Texts in, one probability per class per text out, each batch in one run."""

    def __init__(
        self,
        files: ModelFiles,
        *,
        cache_dir: Path | None = None,
        intra_op_threads: int | None = None,
    ) -> None:
        config = _read_config(files)
        self._labels = _labels(config, files.config)
        self._model_path = files.model
        self._tokenizer = load_tokenizer(files.tokenizer, max_length=_max_length(files, config))
        self._session = _open_session(
            files.model, cache_dir=cache_dir, intra_op_threads=intra_op_threads
        )
        self._feeds = _feeds(self._session, files.model)
        outputs = [o.name for o in self._session.get_outputs()]
        self._output = "logits" if "logits" in outputs else outputs[0]
        logits = self._logits(["warm-up"])
        if logits.ndim != 2 or logits.shape[1] != len(self._labels):
            raise ModelError(
                f"{files.model} gives {self._output!r} of shape {logits.shape} for one text; "
                f"expected logits [batch, {len(self._labels)}], one per class in "
                f"{files.config}'s id2label; {_EXPORT_HINT}"
            )

    @classmethod
    def from_folder(
        cls,
        path: Path,
        *,
        cache_dir: Path | None = None,
        intra_op_threads: int | None = None,
    ) -> SequenceClassifier:
        """The classifier in an export folder, or at a direct path to its `.onnx` file.

        A folder with both prefers the quantized model, as `resolve_model_dir` does.
        `cache_dir` keeps the one-off wrapping of an int8 model across restarts.
        """
        return cls(
            resolve_model_dir(Path(path)),
            cache_dir=cache_dir,
            intra_op_threads=intra_op_threads,
        )

    @property
    def labels(self) -> tuple[str, ...]:
        """Class names in index order, lower-cased: ("negative", "positive") for SST-2."""
        return self._labels

    @property
    def model_path(self) -> Path:
        """The ONNX file that was chosen, for `Describe` answers and logs."""
        return self._model_path

    def classify(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Probabilities [len(texts), len(labels)]; each row sums to 1.

        A text's row is the same alone or in any batch: padding is masked, and an int8
        model computes each text by itself (see per_text_batches).
        """
        if not texts:
            return np.zeros((0, len(self._labels)), dtype=np.float32)
        return softmax(self._logits(texts))

    def _logits(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        encodings = self._tokenizer.encode_batch(list(texts))
        columns = {
            "input_ids": [e.ids for e in encodings],
            "attention_mask": [e.attention_mask for e in encodings],
            "token_type_ids": [e.type_ids for e in encodings],
        }
        feeds = {name: np.array(columns[name], dtype=dtype) for name, dtype in self._feeds}
        (logits,) = self._session.run([self._output], feeds)
        return np.asarray(logits, dtype=np.float32)


def softmax(logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Row-wise softmax; the row's largest logit is subtracted first so exp never overflows."""
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities: npt.NDArray[np.float32] = (exp / exp.sum(axis=1, keepdims=True)).astype(
        np.float32, copy=False
    )
    return probabilities


def _read_config(files: ModelFiles) -> dict[str, object]:
    if files.config is None:
        raise ModelError(
            f"no config.json beside {files.model}; a classifier needs its export's "
            "config.json, whose id2label names the classes"
        )
    try:
        config = json.loads(files.config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ModelError(f"cannot read {files.config} as JSON ({err}); {_EXPORT_HINT}") from err
    if not isinstance(config, dict):
        raise ModelError(f"{files.config} holds no JSON object; {_EXPORT_HINT}")
    return config


def _labels(config: dict[str, object], path: Path | None) -> tuple[str, ...]:
    """The class names of `id2label` in index order, lower-cased."""
    problem = config.get("problem_type")
    if problem in ("multi_label_classification", "regression"):
        raise ModelError(
            f"{path} declares problem_type {problem!r}; this runtime gives each text one "
            "class (single_label_classification), so use a model trained for that"
        )
    id2label = config.get("id2label")
    if not isinstance(id2label, dict) or not id2label:
        raise ModelError(
            f'{path} has no id2label; add the class names, e.g. "id2label": '
            '{"0": "NEGATIVE", "1": "POSITIVE"}'
        )
    expected = [str(i) for i in range(len(id2label))]
    if set(id2label) != set(expected):
        raise ModelError(
            f"{path}: id2label keys are {sorted(id2label)}; expected {expected}, "
            "one per class counting from 0"
        )
    names = [id2label[key] for key in expected]
    if not all(isinstance(name, str) and name.strip() for name in names):
        raise ModelError(f"{path}: id2label names must be non-empty strings, got {names}")
    labels = tuple(name.strip().lower() for name in names)
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ModelError(
            f"{path}: id2label names {list(labels)}; a classifier needs two or more "
            "classes with different names"
        )
    return labels


def _max_length(files: ModelFiles, config: dict[str, object]) -> int:
    """The smallest token limit the export declares, else DEFAULT_MAX_LENGTH.

    The model's own limit (`max_position_embeddings`) is a hard one; tokenizer_config.json's
    `model_max_length` is smaller where positions are offset (RoBERTa: 514 and 512).
    """
    tokenizer_json = _read_json(files.tokenizer)
    truncation = tokenizer_json.get("truncation")
    tokenizer_config = _read_json(files.tokenizer.parent / "tokenizer_config.json")
    declared = (
        truncation.get("max_length") if isinstance(truncation, dict) else None,
        tokenizer_config.get("model_max_length"),
        config.get("max_position_embeddings"),
    )
    limits = [v for v in declared if isinstance(v, int) and 0 < v < _NO_LIMIT]
    return min(limits, default=DEFAULT_MAX_LENGTH)


def _read_json(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # optional hints: without them the next limit applies
    return data if isinstance(data, dict) else {}


def _open_session(
    model: Path, *, cache_dir: Path | None, intra_op_threads: int | None
) -> ort.InferenceSession:
    """A session for `model`; an int8 one runs wrapped so each text is computed alone.

    Dynamic int8 takes one activation scale per batch, so a padded batch would let a text's
    neighbours move its probabilities. Without `cache_dir` the wrapper is rebuilt per start.
    """
    try:
        int8 = has_int8_matmuls(model)
    except Exception as err:  # onnx raises protobuf's and its own untyped errors
        raise ModelError(f"ONNX Runtime cannot load {model}: not an ONNX graph ({err})") from err
    if not int8:
        return create_session(model, intra_op_threads=intra_op_threads)
    if cache_dir is not None:
        wrapped = per_text_model_path(model, cache_dir)
        if not wrapped.exists():
            write_per_text_model(model, wrapped, pooling="mean")  # logits need no pooling
        return create_session(wrapped, intra_op_threads=intra_op_threads)
    with tempfile.TemporaryDirectory(prefix="slm-mesh-") as folder:
        wrapped = Path(folder) / model.name
        write_per_text_model(model, wrapped, pooling="mean")
        return create_session(wrapped, intra_op_threads=intra_op_threads)  # read in full here


def _feeds(session: ort.InferenceSession, model: Path) -> list[tuple[str, type[np.integer]]]:
    """The graph's inputs with their integer types; refuses any this runtime cannot fill."""
    inputs = session.get_inputs()
    names = [i.name for i in inputs]
    unknown = [name for name in names if name not in _FEEDS]
    if unknown or "input_ids" not in names:
        raise ModelError(
            f"{model} takes inputs {names}; a sequence classifier feeds input_ids and "
            f"optionally {', '.join(_FEEDS[1:])}; {_EXPORT_HINT}"
        )
    odd = [f"{i.name}: {i.type}" for i in inputs if i.type not in _ID_TYPES]
    if odd:
        raise ModelError(f"{model} takes {', '.join(odd)}; token inputs must be int64 or int32")
    return [(i.name, _ID_TYPES[i.type]) for i in inputs]
