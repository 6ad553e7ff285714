"""A plugin's manifest: what the plugin is and what it is made of, as `manifest.json` in
its folder.

    {"name": "distilbert-sst2", "task": "classifier", "labels": ["negative", "positive"],
     "files": {"onnx/model_quantized.onnx": "<sha256>", "tokenizer.json": "<sha256>"},
     "precision": "int8", "max_length": 512, "licence": "Apache-2.0",
     "description": "DistilBERT fine-tuned on SST-2"}

`slm-mesh plugin manifest DIR` writes one for an export folder (a build step: what the
factory makes gets one the same way); a folder plugin with a manifest is checked against it
at load, each file by its sha256, and `Describe` reports what it says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from slm_mesh.services.errors import ModelError
from slm_mesh.services.runtime.model_store import file_sha256, resolve_model_dir, verify_sha256
from slm_mesh.services.runtime.precision import has_int8_matmuls

PluginTask = Literal["encoder", "classifier", "generator"]
TASKS: tuple[str, ...] = get_args(PluginTask)
FILE = "manifest.json"
#: What a manifest lists besides the model: the files a runtime reads.
_COMPANIONS = ("tokenizer.json", "config.json", "tokenizer_config.json", "genai_config.json")


@dataclass(frozen=True)
class Manifest:
    name: str
    task: PluginTask
    files: dict[str, str]
    """Each file the plugin needs (relative to its folder) and its sha256."""
    labels: tuple[str, ...] = ()
    precision: str = "fp32"
    max_length: int = 0
    licence: str = "unknown"
    description: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "task": self.task,
            "labels": list(self.labels),
            "files": dict(sorted(self.files.items())),
            "precision": self.precision,
            "max_length": self.max_length,
            "licence": self.licence,
            "description": self.description,
        }

    def verify(self, folder: Path) -> None:
        """ModelError naming the first file that is missing or not the one listed."""
        for name, sha256 in self.files.items():
            verify_sha256(folder / name, sha256)


def read_manifest(folder: Path) -> Manifest | None:
    """The folder's manifest, or None when it has none; ModelError if it is malformed."""
    path = folder / FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        task = data["task"]
        if task not in TASKS:
            raise ValueError(f"task {task!r} is not one of {', '.join(TASKS)}")
        files = data["files"]
        if not isinstance(files, dict) or not files:
            raise ValueError("`files` must name the plugin's files and their sha256")
        return Manifest(
            name=str(data["name"]),
            task=task,
            files={str(k): str(v) for k, v in files.items()},
            labels=tuple(str(label) for label in data.get("labels", ())),
            precision=str(data.get("precision", "fp32")),
            max_length=int(data.get("max_length", 0)),
            licence=str(data.get("licence", "unknown")),
            description=str(data.get("description", "")),
        )
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelError(f"{path} is not a usable manifest: {err}") from None


def build_manifest(
    folder: Path,
    *,
    name: str | None = None,
    task: PluginTask | None = None,
    licence: str = "unknown",
    description: str = "",
) -> Manifest:
    """A manifest for an export folder: its files hashed, the rest read from the files
    (labels from config.json's id2label, the token limit, int8 or not from the graph)."""
    files = resolve_model_dir(folder)
    config = _json(files.config) if files.config else {}
    labels = _labels(config)
    if task is None:
        task = (
            "generator"
            if (folder / "genai_config.json").is_file()
            else ("classifier" if labels else "encoder")
        )
    listed = [files.model, *(folder / n for n in _COMPANIONS if (folder / n).is_file())]
    limit = config.get("max_position_embeddings")
    return Manifest(
        name=name or folder.resolve().name,
        task=task,
        files={str(p.relative_to(folder)): file_sha256(p) for p in listed},
        labels=labels,
        precision="int8" if has_int8_matmuls(files.model) else "fp32",
        max_length=limit if isinstance(limit, int) else 0,
        licence=licence,
        description=description,
    )


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    path = folder / FILE
    path.write_text(json.dumps(manifest.as_json(), indent=2) + "\n", encoding="utf-8")
    return path


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _labels(config: dict[str, Any]) -> tuple[str, ...]:
    id2label = config.get("id2label")
    if not isinstance(id2label, dict):
        return ()
    try:
        return tuple(str(id2label[k]).lower() for k in sorted(id2label, key=int))
    except ValueError:
        return ()
