"""Recipe 2, `slm-mesh factory finetune-sentiment`: a sentiment classifier fine-tuned end
to end, every encoder weight with it.

The service's default is a head on the frozen shared encoder (cheap, one encoder for every
service); this recipe trains the encoder as well, the step up in accuracy, at the price of
a second model in memory. The head reads the mean of the token vectors, as
all-MiniLM-L6-v2 was trained to be read. The folder is a classifier export
(`model_quantized.onnx` int8, `model.onnx` fp32, `config.json` with `id2label`) that
`serve sentiment --plugin path:DIR` loads.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from slm_mesh.factory.errors import FactoryError
from slm_mesh.factory.extra import require_extra
from slm_mesh.factory.output import add_output_arguments
from slm_mesh.factory.training import TrainingSettings, add_training_arguments
from slm_mesh.services.errors import SlmMeshError
from slm_mesh.services.sentiment.cases import Case, load_cases
from slm_mesh.services.settings import Settings

RECIPE = "finetune-sentiment"
DEFAULTS = TrainingSettings(
    epochs=3, batch_size=32, learning_rate=5e-5, patience=2, evaluations_per_epoch=2
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--train",
        type=Path,
        required=True,
        help="labelled sentences: a TSV with `text` and `label` (positive | negative) columns",
    )
    parser.add_argument(
        "--base", type=Path, help="Hugging Face encoder folder (default: all-MiniLM-L6-v2)"
    )
    parser.add_argument("--validation-share", type=float, default=0.1)
    parser.add_argument(
        "--eval-cases",
        type=Path,
        action="append",
        default=[],
        help="more labelled TSVs scored by the finished plugin (repeatable)",
    )
    parser.add_argument("--max-sentences", type=int, help="train on at most this many")
    parser.add_argument("--no-latency", action="store_true", help="skip the timing")
    add_training_arguments(parser, DEFAULTS)
    add_output_arguments(parser, default_name="minilm-sentiment")


def read_training(path: Path) -> list[Case]:
    """The labelled sentences; FactoryError naming the line of a bad row or label."""
    if not path.is_file():
        raise FactoryError(f"training file {path} does not exist")
    try:
        return load_cases(path)
    except SlmMeshError as err:
        raise FactoryError(str(err)) from None


def run(args: argparse.Namespace, settings: Settings) -> int:
    require_extra()
    from slm_mesh.factory.finetune_run import finetune

    return finetune(args, settings)
