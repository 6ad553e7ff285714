"""Recipe 1, `slm-mesh factory distil-intent`: a smaller intent encoder, distilled from
all-MiniLM-L6-v2.

The student keeps some of the teacher's transformer layers (evenly spread: 0, 2 and 5 of 6
for three), starting from the teacher's own weights, and learns to give the teacher's
sentence vectors (cosine distance of the mean-pooled vectors) on the home's training
sentences and general text. Layers are where the time goes, so three of six run in about
half the teacher's time. The plugin folder holds the fp32 export; the service's
`precision: auto` makes it int8 where this CPU runs int8 faster, as it does the teacher,
and the card measures both precisions beside the teacher's.
"""

from __future__ import annotations

import argparse
import copy
import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from slm_mesh.factory.errors import FactoryError
from slm_mesh.factory.extra import require_extra
from slm_mesh.factory.output import add_output_arguments
from slm_mesh.factory.training import TrainingSettings, add_training_arguments
from slm_mesh.services.settings import Settings

RECIPE = "distil-intent"
DEFAULTS = TrainingSettings(epochs=6, batch_size=32, learning_rate=1e-4, patience=2)


@dataclass(frozen=True)
class DistilData:
    texts: list[str]
    sources: dict[str, int]
    """How many new sentences each source gave (after removing duplicates)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--layers", type=int, default=3, help="the student's transformer layers")
    parser.add_argument(
        "--teacher", type=Path, help="Hugging Face encoder folder (default: all-MiniLM-L6-v2)"
    )
    parser.add_argument(
        "--train-home",
        type=Path,
        action="append",
        default=[],
        help="a home whose training sentences the student learns (repeatable; default: demo)",
    )
    parser.add_argument(
        "--general-text",
        type=Path,
        action="append",
        default=[],
        help="general sentences: a TSV with a `text` column, or one a line (repeatable)",
    )
    parser.add_argument("--max-sentences", type=int, help="learn from at most this many")
    parser.add_argument("--validation-share", type=float, default=0.1)
    parser.add_argument("--eval-home", type=Path, help="the home of the --eval-cases sets")
    parser.add_argument(
        "--eval-cases",
        type=Path,
        action="append",
        default=[],
        help="intent cases scored with the teacher and the student (repeatable)",
    )
    parser.add_argument(
        "--ffn-share",
        type=float,
        default=1.0,
        help="share of each layer's feed-forward width kept (pruned by weight magnitude)",
    )
    parser.add_argument(
        "--similarity-weight",
        type=float,
        default=1.0,
        help="weight of matching the teacher's similarities between the sentences of a batch",
    )
    parser.add_argument("--no-latency", action="store_true", help="skip the timing")
    add_training_arguments(parser, DEFAULTS)
    add_output_arguments(parser, default_name="minilm-distilled")


def read_general_text(path: Path) -> list[str]:
    """Sentences from a TSV with a `text` column, a YAML list of cases (their `prompt` or
    `text`: the code-request sets are requests a home must not take for commands), or a
    plain file of one sentence a line."""
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise FactoryError(f"{path}: cannot read general text ({err})") from None
    lines = content.splitlines()
    if path.suffix in {".yaml", ".yml"}:
        texts = _case_texts(path, content)
    elif lines and "text" in lines[0].split("\t") and "\t" in lines[0]:
        rows = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
        texts = [(row.get("text") or "").strip() for row in rows]
    else:
        texts = [line.strip() for line in lines]
    texts = [text for text in texts if text]
    if not texts:
        raise FactoryError(f"{path}: no sentences in it")
    return texts


def _case_texts(path: Path, content: str) -> list[str]:
    try:
        cases = yaml.safe_load(content)
    except yaml.YAMLError as err:
        raise FactoryError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(cases, list):
        raise FactoryError(f"{path}: expected a list of cases with a `prompt` or `text`")
    return [
        str(case.get("prompt") or case.get("text") or "").strip()
        for case in cases
        if isinstance(case, dict)
    ]


def distil_data(
    homes: Sequence[Path], general: Sequence[Path], *, max_sentences: int | None, seed: int
) -> DistilData:
    """The homes' training sentences and the general text, deduplicated, in a fixed order."""
    from slm_mesh.services.home.model import load_home
    from slm_mesh.services.intent.training import TrainingConfig, training_sentences

    found: dict[str, None] = {}
    sources: dict[str, int] = {}
    for path in homes:
        before = len(found)
        for sentence in training_sentences(load_home(path), TrainingConfig(seed=seed)):
            found.setdefault(sentence.text, None)
        sources[f"home {path}"] = len(found) - before
    for path in general:
        before = len(found)
        for text in read_general_text(path):
            found.setdefault(text, None)
        sources[f"general text {path}"] = len(found) - before
    texts = list(found)
    if max_sentences is not None and len(texts) > max_sentences:
        texts = random.Random(seed).sample(texts, max_sentences)
    return DistilData(texts=texts, sources=sources)


def kept_layers(total: int, layers: int) -> list[int]:
    """Which of `total` layers a student of `layers` keeps: evenly spread, the last always."""
    if not 1 <= layers < total:
        raise FactoryError(f"--layers must be between 1 and {total - 1} (the teacher has {total})")
    if layers == 1:
        return [total - 1]
    return sorted({round(i * (total - 1) / (layers - 1)) for i in range(layers)})


def student_of(teacher: Any, layers: int, *, ffn_share: float = 1.0) -> Any:
    """A copy of `teacher` with only the kept layers, their weights the teacher's, each
    layer's feed-forward part narrowed to `ffn_share` of its width."""
    import torch

    teacher_layers = getattr(getattr(teacher, "encoder", None), "layer", None)
    if not isinstance(teacher_layers, torch.nn.ModuleList):
        raise FactoryError(
            f"{type(teacher).__name__} has no encoder.layer list to take layers from; "
            "give a BERT-family encoder"
        )
    if not 0 < ffn_share <= 1:
        raise FactoryError(f"--ffn-share must be above 0 and at most 1, got {ffn_share}")
    student = copy.deepcopy(teacher)
    keep = kept_layers(len(teacher_layers), layers)
    student.encoder.layer = torch.nn.ModuleList([student.encoder.layer[i] for i in keep])
    student.config.num_hidden_layers = len(keep)
    if ffn_share < 1:
        width = max(1, round(student.config.intermediate_size * ffn_share))
        for layer in student.encoder.layer:
            _prune_feed_forward(layer, width)
        student.config.intermediate_size = width
    return student


def _prune_feed_forward(layer: Any, width: int) -> None:
    """Keep the `width` feed-forward units that carry most weight in and out of the layer
    (the product of their input and output weight norms): the cheapest part to narrow."""
    import torch

    into, out = layer.intermediate.dense, layer.output.dense
    importance = into.weight.norm(dim=1) * out.weight.norm(dim=0)
    kept = importance.topk(width).indices.sort().values
    narrowed_in = torch.nn.Linear(into.in_features, width)
    narrowed_in.weight.data = into.weight.data[kept].clone()
    narrowed_in.bias.data = into.bias.data[kept].clone()
    narrowed_out = torch.nn.Linear(width, out.out_features)
    narrowed_out.weight.data = out.weight.data[:, kept].clone()
    narrowed_out.bias.data = out.bias.data.clone()
    layer.intermediate.dense, layer.output.dense = narrowed_in, narrowed_out


def run(args: argparse.Namespace, settings: Settings) -> int:
    require_extra()
    from slm_mesh.factory.distil_run import distil

    return distil(args, settings)
