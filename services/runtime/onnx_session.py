"""ONNX Runtime sessions tuned for a small box shared by several services, and the embedder.

One `InferenceSession` is shared by all threads of a service: ORT releases the GIL in `run()`
and a session is thread-safe, so batches from an executor run in parallel. int8 models run
wrapped so that a batch is one call while each text is computed alone (`per_text_batches`).
"""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from tokenizers import Tokenizer

from slm_mesh.services.errors import ModelError
from slm_mesh.services.runtime.model_store import verify_sha256
from slm_mesh.services.runtime.per_text_batches import per_text_model_path, write_per_text_model
from slm_mesh.services.runtime.plugins import ModelPlugin
from slm_mesh.services.runtime.precision import (
    Precision,
    choose_precision,
    has_int8_matmuls,
    prepare_model,
)

_TEXT_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_INT8_FLAGS = ("avx512_vnni", "avx_vnni", "asimddp")
#: A per-text model runs a batch this large split across the pool's threads (training,
#: evaluation). A service's micro-batches are smaller and run as one call on the batcher's
#: thread: its event loop needs the other core.
_SPLIT_FROM = 64


def create_session(model: Path, *, intra_op_threads: int | None = None) -> ort.InferenceSession:
    """A CPU session that shares the box: few threads, no busy-waiting between runs."""
    if intra_op_threads is not None and intra_op_threads < 1:
        raise ValueError(f"intra_op_threads must be at least 1, got {intra_op_threads}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads or min(2, os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Spinning threads keep cores busy after each run, stealing them from the other services.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as err:  # ORT raises its own untyped errors for unreadable graphs
        raise ModelError(f"ONNX Runtime cannot load {model}: {err}") from err


def cpu_int8_support(cpuinfo: str | None = None) -> str:
    """The CPU's int8 dot-product instructions, e.g. "avx512_vnni", or "none" / "unknown".

    int8 weights run faster than float32 only with these (x86 VNNI, Arm `asimddp`); without
    them int8 still saves memory but may be slower. Reads /proc/cpuinfo unless given its text.
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return f"unknown ({platform.machine() or 'cpu'} without /proc/cpuinfo)"
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in {"flags", "features"}:
            flags.update(value.split())
    found = [flag for flag in _INT8_FLAGS if flag in flags]
    return ",".join(found) if found else "none"


class Embedder:
    """Texts in, one vector per text out, for an embedding plugin."""

    def __init__(
        self,
        *,
        plugin: ModelPlugin,
        intra_op_threads: int | None = None,
        verify: bool = True,
        cache_dir: Path | None = None,
        precision: Precision = "auto",
    ) -> None:
        files = plugin.model_files()
        if verify:
            pins = ((files.model, plugin.model_sha256), (files.tokenizer, plugin.tokenizer_sha256))
            for path, pin in pins:
                if pin is not None:
                    verify_sha256(path, pin, cache_dir=cache_dir)
        self._plugin = plugin
        self._precision = choose_precision(precision, int8_dot_product=cpu_int8_support())
        # Dynamic int8 quantizes activations with one scale per run, so in a padded batch a
        # text's vector would depend on its neighbours. Such models run wrapped so that each
        # text is computed alone within one call (per_text_batches), on one intra-op thread
        # (a short text runs fastest on one); large batches are split across the pool.
        self._per_text = self._precision == "int8" or has_int8_matmuls(files.model)
        if self._per_text and cache_dir is None:
            raise ValueError("int8 models are prepared in a cache_dir; pass one")
        model = (
            prepare_model(
                files.model,
                precision=self._precision,
                cache_dir=cache_dir,
                sha256=plugin.model_sha256 if verify else None,
            )
            if cache_dir is not None
            else files.model
        )
        self._model_path = model
        threads = intra_op_threads or min(2, os.cpu_count() or 1)
        if self._per_text:
            assert cache_dir is not None  # refused above
            run = per_text_model_path(model, cache_dir)
            if not run.exists():
                write_per_text_model(model, run, pooling=plugin.pooling)
            self._session = create_session(run, intra_op_threads=1)
        else:
            self._session = create_session(model, intra_op_threads=threads)
        self._pool = ThreadPoolExecutor(threads, "embed") if self._per_text else None
        self._threads = threads
        self._inputs = [i.name for i in self._session.get_inputs()]
        unknown = [name for name in self._inputs if name not in _TEXT_INPUTS]
        if unknown:
            raise ModelError(
                f"{files.model} needs inputs {unknown}; an embedder feeds only {_TEXT_INPUTS}"
            )
        self._tokenizer = load_tokenizer(files.tokenizer, max_length=plugin.max_length)
        self._dim = int(self.embed(["warm-up"]).shape[1])

    @property
    def plugin(self) -> ModelPlugin:
        return self._plugin

    @property
    def precision(self) -> str:
        """The precision the matrix products run in, as chosen for this CPU."""
        return self._precision

    @property
    def session(self) -> ort.InferenceSession:
        """The shared ONNX Runtime session (an int8 model's runs the per-text wrapper)."""
        return self._session

    @property
    def tokenizer(self) -> Tokenizer:
        """The tokenizer, already set to truncate and to pad to the longest text."""
        return self._tokenizer

    @property
    def dim(self) -> int:
        """Length of each vector."""
        return self._dim

    @property
    def model_path(self) -> Path:
        """The model after any precision conversion: the session runs it, or (int8) its
        per-text wrapper; the benchmark's raw baseline runs it plainly."""
        return self._model_path

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """float32 [len(texts), dim]; unit length when the plugin normalises."""
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        if self._pool is None or len(texts) < _SPLIT_FROM:
            return self._run(texts)
        size = -(-len(texts) // self._threads)
        parts = [texts[i : i + size] for i in range(0, len(texts), size)]
        return np.concatenate(list(self._pool.map(self._run, parts)))

    def _run(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        encodings = self._tokenizer.encode_batch(list(texts))
        arrays = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        outputs = self._session.run(None, {name: arrays[name] for name in self._inputs})
        return pool(
            np.asarray(outputs[0], dtype=np.float32),
            arrays["attention_mask"],
            pooling=self._plugin.pooling,
            normalize=self._plugin.normalize,
        )


def pool(
    hidden: npt.NDArray[np.float32],
    mask: npt.NDArray[np.int64],
    *,
    pooling: str,
    normalize: bool,
) -> npt.NDArray[np.float32]:
    """One vector per text from token vectors [n, seq, dim]; padding tokens never count."""
    if hidden.ndim == 2:  # the export already pooled (a `sentence_embedding` output)
        vectors = hidden
    elif pooling == "cls":
        vectors = hidden[:, 0, :]
    else:
        weights = mask[:, :, None].astype(np.float32)
        vectors = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    if normalize:
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors.astype(np.float32, copy=False)


def load_tokenizer(path: Path, *, max_length: int) -> Tokenizer:
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as err:  # tokenizers raises a bare Exception for malformed files
        raise ModelError(f"cannot read tokenizer {path}: {err}") from err
    # tokenizer.json files often pad to a fixed length; padding to the longest text in the
    # batch keeps short requests cheap. Keep the file's pad token when it names one.
    padding = tokenizer.padding or {}
    tokenizer.enable_padding(
        pad_id=int(padding.get("pad_id", 0)),
        pad_type_id=int(padding.get("pad_type_id", 0)),
        pad_token=str(padding.get("pad_token", "[PAD]")),
    )
    tokenizer.enable_truncation(max_length)
    return tokenizer
