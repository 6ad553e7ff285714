"""Whether the `factory` extra is installed, checked before a recipe starts its work."""

from __future__ import annotations

import importlib.util

from slm_mesh.factory.errors import EXTRA_INSTALL, MissingFactoryExtra

#: What the recipes import (module: what it is), all from the `factory` extra.
TRAINING_MODULES = {
    "torch": "PyTorch",
    "transformers": "transformers",
    "safetensors": "safetensors",
    "matplotlib": "matplotlib",
}
#: Only the generative recipe needs these (LoRA, the onnxruntime-genai model builder).
GENERATIVE_MODULES = {"peft": "peft", "accelerate": "accelerate", "onnx_ir": "onnx-ir"}


def missing_modules(modules: dict[str, str] = TRAINING_MODULES) -> list[str]:
    """What is not installed, by its distribution's name."""
    return [name for module, name in modules.items() if importlib.util.find_spec(module) is None]


def require_extra(modules: dict[str, str] = TRAINING_MODULES) -> None:
    """MissingFactoryExtra naming what to install, unless all of `modules` are there."""
    missing = missing_modules(modules)
    if missing:
        raise MissingFactoryExtra(
            f"the factory needs {', '.join(missing)}, which are not installed: {EXTRA_INSTALL} "
            "(install PyTorch's CPU build first where pip would fetch its CUDA libraries: "
            "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu)"
        )
