"""Which precision a model runs in on this CPU, and the one-off conversion to get it.

Many "int8" ONNX exports (the default model among them) store int8 weights that the graph
casts back to float: ONNX Runtime folds them to fp32 at load, so they run as fp32 and take
fp32 memory (≈160 MB for MiniLM). ONNX Runtime's own dynamic quantization turns such a model
into one whose matrix products run in int8 (MatMulInteger): on x86-64 with AVX2 it measured
faster and took less than half the memory; per-channel scales keep its embeddings within
cosine ≈ 0.99 of the original. On Arm without the dot-product extension (Raspberry Pi 4),
int8 products are reported slower than fp32, so fp32 is chosen there.

The converted model is written once to the cache, keyed by the source's sha256.
"""

from __future__ import annotations

import contextlib
import logging
import platform
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import onnxruntime as ort
import structlog

from slm_mesh.services.errors import ModelError
from slm_mesh.services.progress import Progress
from slm_mesh.services.runtime.model_store import file_sha256

Precision = Literal["auto", "int8", "fp32"]
_INT8_OPS = {"MatMulInteger", "DynamicQuantizeMatMul", "QLinearMatMul", "MatMulIntegerToFloat"}
log = structlog.get_logger(__name__)


def choose_precision(requested: Precision, *, int8_dot_product: str) -> Literal["int8", "fp32"]:
    """`auto`: int8 on x86-64 and on Arm with dot-product instructions, else fp32."""
    if requested != "auto":
        return requested
    machine = platform.machine().lower()
    if machine in ("aarch64", "arm64", "armv7l") and int8_dot_product in ("none", ""):
        return "fp32"
    return "int8"


def has_int8_matmuls(model: Path) -> bool:
    import onnx  # only needed here, when a model is first prepared

    graph = onnx.load(str(model), load_external_data=False).graph
    return any(node.op_type in _INT8_OPS for node in graph.node)


def prepare_model(
    model: Path,
    *,
    precision: Literal["int8", "fp32"],
    cache_dir: Path,
    sha256: str | None = None,
) -> Path:
    """The model file to run at `precision`: the original, or its int8 conversion.

    `sha256`, when the caller has already verified it, saves hashing the file again.
    """
    if precision == "fp32":
        return model
    digest = sha256 or file_sha256(model)
    converted = cache_dir / "models" / f"{digest[:24]}-int8-dynamic.onnx"
    if converted.exists():
        return converted
    if has_int8_matmuls(model):
        return model
    log.info("converting model to int8 matrix products (once)", model=str(model))
    with Progress("converting the model to int8 (once, about 20 s)"):
        quantize_int8(model, converted)
    return converted


def quantize_int8(model: Path, target: Path) -> Path:
    """Write `model` with int8 matrix products (dynamic, per-channel) to `target`, whole or
    not at all; the factory's int8 plugins are made by this same step."""
    target.parent.mkdir(parents=True, exist_ok=True)
    folded = target.with_suffix(".folded.onnx")
    partial = target.with_suffix(".partial.onnx")
    try:
        with _quiet_advice():
            _fold_constants(model, folded)
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(folded, partial, weight_type=QuantType.QInt8, per_channel=True)
        partial.replace(target)
    except Exception as err:  # quantization raises many untyped errors on odd graphs
        raise ModelError(
            f"cannot convert {model} to int8 ({err}); run it with precision fp32"
        ) from err
    finally:
        folded.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return target


_ADVICE = "Please consider to run pre-processing before quantization"


@contextlib.contextmanager
def _quiet_advice() -> Iterator[None]:
    """ONNX Runtime's quantizer advises, on the root logger, a pre-processing step for
    image models; for this encoder it changes nothing, and a first run should not print it."""

    def keep(record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(_ADVICE)

    root = logging.getLogger()
    root.addFilter(keep)
    try:
        yield
    finally:
        root.removeFilter(keep)


def _fold_constants(model: Path, target: Path) -> None:
    """Let ONNX Runtime fold the weights' casts and save the plain fp32 graph."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(target)
    ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
