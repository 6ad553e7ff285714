"""`slm-mesh factory RECIPE`: the command line of each recipe, and the report.

Each recipe module has `add_arguments(parser)` and `run(args, settings) -> exit code`; this
module only names them, so importing it (every `slm-mesh` start) loads no recipe and no
PyTorch.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Protocol, cast

from slm_mesh.services.settings import Settings

#: command: (module under slm_mesh.factory, one line of help)
RECIPES = {
    "distil-intent": (
        "distil_intent",
        "distil (and int8) a smaller intent encoder from all-MiniLM-L6-v2",
    ),
    "finetune-sentiment": (
        "finetune_sentiment",
        "fine-tune an encoder end to end on labelled sentiment sentences",
    ),
    "domain-tune": (
        "domain_tune",
        "domain-tune SmolLM2 to emit the home's intent JSON, then int4",
    ),
    "learn": (
        "learn",
        "retrain the intent head with the fallback's validated answers (and corrections)",
    ),
    "report": (
        "report",
        "one table of the variants built, measured side by side in one run",
    ),
}


class RecipeModule(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace, settings: Settings) -> int: ...


def recipe_module(command: str) -> RecipeModule:
    module_name, _ = RECIPES[command]
    return cast(RecipeModule, importlib.import_module(f"slm_mesh.factory.{module_name}"))


def add_factory_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    factory = commands.add_parser(
        "factory",
        help="make the mesh's models: distil, fine-tune, quantize (the factory extra)",
    )
    recipes = factory.add_subparsers(dest="recipe", required=True)
    for command, (_, help_line) in RECIPES.items():
        parser = recipes.add_parser(command, help=help_line, description=help_line)
        parser.add_argument("--cache-dir", type=Path, help="where models and heads are kept")
        recipe_module(command).add_arguments(parser)


def run_factory(args: argparse.Namespace, settings: Settings) -> int:
    return recipe_module(args.recipe).run(args, settings)
