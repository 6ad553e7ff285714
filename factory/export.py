"""A trained PyTorch encoder or classifier as the ONNX export the services load.

The folder gets what an Optimum export has (`model.onnx`, `tokenizer.json`, `config.json`),
so the runtime reads it as it reads any user's export. The export is checked against the
PyTorch model on a padded batch before it is kept: a graph traced with a fixed shape would
otherwise pass for a working one.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import torch
from tokenizers import Encoding, Tokenizer

from slm_mesh.factory.errors import FactoryError
from slm_mesh.services.runtime.onnx_session import create_session, load_tokenizer

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_CHECK_TEXTS = ("turn on the kitchen light", "a longer sentence, so that the first one is padded")
_OPSET = 17


class _Outputs(torch.nn.Module):
    """The model's forward as ONNX sees it: three id tensors in, one tensor out."""

    def __init__(self, model: torch.nn.Module, output: str) -> None:
        super().__init__()
        self.model = model
        self.output = output

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        result = self.model(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        )
        return getattr(result, self.output)  # type: ignore[no-any-return]


def export_onnx(
    model: torch.nn.Module,
    folder: Path,
    *,
    tokenizer: Path,
    output: Literal["last_hidden_state", "logits"],
    max_length: int,
) -> Path:
    """Write `folder/model.onnx`, tokenizer.json and config.json; return the ONNX path."""
    folder.mkdir(parents=True, exist_ok=True)
    model.eval()
    config = getattr(model, "config", None)
    if config is None:
        raise FactoryError(f"{type(model).__name__} has no transformers config to export")
    config.save_pretrained(folder)
    shutil.copyfile(tokenizer, folder / "tokenizer.json")
    encoder = load_tokenizer(folder / "tokenizer.json", max_length=max_length)
    ids = _ids(encoder.encode_batch(list(_CHECK_TEXTS)))
    target = folder / "model.onnx"
    with warnings.catch_warnings():
        # The legacy exporter warns about its own deprecation and about traced Python
        # conditions; the check below is what tells whether the graph is right.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            # eval() on the wrapper too: the exporter leaves every module in the wrapper's
            # mode afterwards, and a new module is in training mode (dropout on).
            _Outputs(model, output).eval(),
            tuple(torch.from_numpy(ids[name]) for name in _INPUTS),
            str(target),
            dynamo=False,
            input_names=list(_INPUTS),
            output_names=[output],
            dynamic_axes={
                **{name: {0: "batch", 1: "sequence"} for name in _INPUTS},
                output: {0: "batch", 1: "sequence"}
                if output == "last_hidden_state"
                else {0: "batch"},
            },
            opset_version=_OPSET,
        )
    _check(model, target, encoder, output)
    return target


def _ids(encodings: list[Encoding]) -> dict[str, npt.NDArray[np.int64]]:
    return {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }


def _check(model: torch.nn.Module, onnx_file: Path, encoder: Tokenizer, output: str) -> None:
    """The export gives PyTorch's outputs on texts of other lengths than the trace's."""
    texts = ["lights off", "dim the lights in the living room to half, please", "hi"]
    ids = _ids(encoder.encode_batch(texts))
    session = create_session(onnx_file, intra_op_threads=1)
    (exported,) = session.run([output], ids)
    with torch.no_grad():
        expected = getattr(model(**{k: torch.from_numpy(v) for k, v in ids.items()}), output)
    expected = expected.numpy()
    if output == "last_hidden_state":  # padding positions are free to differ
        mask = ids["attention_mask"].astype(bool)
        exported, expected = exported[mask], expected[mask]
    if exported.shape != expected.shape or not np.allclose(
        exported, expected, atol=1e-3, rtol=1e-3
    ):
        raise FactoryError(
            f"the ONNX export {onnx_file} does not reproduce the PyTorch model on new "
            f"inputs (largest difference {np.max(np.abs(exported - expected)):.2e}); "
            "this architecture does not export with a dynamic shape"
        )
