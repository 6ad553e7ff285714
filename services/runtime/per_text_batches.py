"""One ONNX Runtime call for a batch of texts, each computed exactly as if it ran alone.

Dynamic int8 quantization takes one activation scale per tensor, so in an ordinary padded
batch every text's vector depends on its neighbours (and on the padding): the same words
could get another answer under load. Running one text per call keeps answers stable but
costs a Python round trip, and a turn of the GIL, per text.

This wraps the model's graph, unchanged, in an ONNX `Loop` over the batch: each iteration
cuts one text to its own length and runs the original graph on it alone, then pools its
tokens, so the output is [batch, dim] and row i is bitwise the same whatever else shares the
batch. The weights stay outside the loop, shared by every iteration.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Literal

from slm_mesh.services.errors import ModelError

#: Bump when the wrapping changes, so that cached wrapped models are not reused.
WRAPPER_VERSION = 1
_TEXT_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_PREFIX = "per_text."


def _own(name: str) -> str:
    """A name the wrapper adds, in a namespace of its own so as not to meet the model's."""
    return _PREFIX + name


def per_text_model_path(model: Path, cache_dir: Path) -> Path:
    """Where the wrapped form of `model` is cached: named after the file's path, size and
    time, so two exports both called model_quantized.onnx, or one changed, never share it."""
    stat = model.stat()
    identity = f"{model.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return cache_dir / "models" / f"{model.stem}-{digest}-per-text-{WRAPPER_VERSION}.onnx"


def write_per_text_model(model: Path, target: Path, *, pooling: Literal["mean", "cls"]) -> None:
    """Write `model` wrapped in a per-text Loop to `target` (atomically)."""
    import onnx  # only needed here, when a model is first prepared
    from onnx import TensorProto, helper

    source = onnx.load(str(model))
    graph = source.graph
    inputs = [i.name for i in graph.input]
    unknown = [name for name in inputs if name not in _TEXT_INPUTS]
    if unknown or "input_ids" not in inputs or "attention_mask" not in inputs:
        raise ModelError(
            f"{model} has inputs {inputs}; a per-text batch needs input_ids and "
            f"attention_mask, and no inputs but {_TEXT_INPUTS}"
        )
    opset = next((o.version for o in source.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < 13:
        raise ModelError(f"{model} uses ONNX opset {opset}; export it with opset 13 or later")
    output = graph.output[0]
    token_vectors = len(output.type.tensor_type.shape.dim) == 3
    dim = output.type.tensor_type.shape.dim[-1]

    body = [
        helper.make_node("Unsqueeze", [_own("iteration"), _own("axis_0")], [_own("row")]),
        helper.make_node("Gather", [_own("lengths"), _own("row")], [_own("length")]),
    ]
    for name in inputs:  # this text alone, without padding: [1, length]
        body += [
            helper.make_node("Gather", [name, _own("row")], [_own(f"{name}.padded")], axis=0),
            helper.make_node(
                "Slice",
                [_own(f"{name}.padded"), _own("zero"), _own("length"), _own("axis_1")],
                [_own(name)],
            ),
        ]
    for node in graph.node:
        renamed = copy.deepcopy(node)
        renamed.input[:] = [_own(x) if x in inputs else x for x in node.input]
        body.append(renamed)
    if not token_vectors:  # the export pools already: [1, dim]
        pooled = output.name
    elif pooling == "cls":
        pooled = _own("pooled")
        body.append(
            helper.make_node("Gather", [output.name, _own("zero_scalar")], [pooled], axis=1)
        )
    else:
        pooled = _own("pooled")
        body.append(  # opset 18 moved ReduceMean's axes from an attribute to an input
            helper.make_node("ReduceMean", [output.name, _own("axis_1")], [pooled], keepdims=0)
            if opset >= 18
            else helper.make_node("ReduceMean", [output.name], [pooled], axes=[1], keepdims=0)
        )
    body += [
        helper.make_node("Squeeze", [pooled, _own("axis_0")], [_own("vector")]),
        helper.make_node("Identity", [_own("go_on")], [_own("go_on_after")]),
    ]
    loop_body = helper.make_graph(
        body,
        "one_text",
        [
            helper.make_tensor_value_info(_own("iteration"), TensorProto.INT64, []),
            helper.make_tensor_value_info(_own("go_on"), TensorProto.BOOL, []),
        ],
        [
            helper.make_tensor_value_info(_own("go_on_after"), TensorProto.BOOL, []),
            helper.make_tensor_value_info(_own("vector"), TensorProto.FLOAT, None),
        ],
    )
    constants = [
        helper.make_tensor(_own("axis_0"), TensorProto.INT64, [1], [0]),
        helper.make_tensor(_own("axis_1"), TensorProto.INT64, [1], [1]),
        helper.make_tensor(_own("zero"), TensorProto.INT64, [1], [0]),
        helper.make_tensor(_own("zero_scalar"), TensorProto.INT64, [], [0]),
        helper.make_tensor(_own("true"), TensorProto.BOOL, [], [True]),
    ]
    outer = helper.make_graph(
        [
            helper.make_node(
                "ReduceSum", ["attention_mask", _own("axis_1")], [_own("lengths")], keepdims=0
            ),
            helper.make_node("Shape", ["input_ids"], [_own("shape")]),
            helper.make_node("Gather", [_own("shape"), _own("zero_scalar")], [_own("texts")]),
            helper.make_node(
                "Loop", [_own("texts"), _own("true")], [_own("vectors")], body=loop_body
            ),
        ],
        "per_text_batch",
        list(graph.input),
        [
            helper.make_tensor_value_info(
                _own("vectors"), TensorProto.FLOAT, ["batch", dim.dim_value or "dim"]
            )
        ],
        initializer=[*graph.initializer, *constants],
    )
    wrapped = helper.make_model(
        outer, opset_imports=source.opset_import, ir_version=source.ir_version
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    try:
        onnx.save(wrapped, str(partial))
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
