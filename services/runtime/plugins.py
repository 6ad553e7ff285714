"""The model plugin contract, and loading a plugin by name.

Plugins are entry points in the `slm_mesh.plugins` group; the built-in ones are declared the
same way as a user's. `path:/some/dir` loads a user's own ONNX export from disk instead;
when the folder has a `manifest.json` (`manifest.py`), its files are checked against it and
the plugin is what it says (task, labels, token limit, licence).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Literal

from slm_mesh.services.errors import PluginError
from slm_mesh.services.runtime.manifest import FILE as MANIFEST_FILE
from slm_mesh.services.runtime.manifest import Manifest, PluginTask, read_manifest
from slm_mesh.services.runtime.model_store import ModelFiles, resolve_model_dir

GROUP = "slm_mesh.plugins"
PATH_PREFIX = "path:"
DEFAULT_MAX_LENGTH = 256


@dataclass(frozen=True, kw_only=True)
class ModelPlugin:
    """What a service needs to know to run one model."""

    name: str
    """The name the service loads it by."""
    task: PluginTask
    """What the model is: an encoder (sentence vectors), a classifier, a generator."""
    description: str
    """One line for `Describe` answers and logs."""
    model_files: Callable[[], ModelFiles]
    """Where the files are; called at load time so importing a plugin touches no disk."""
    model_sha256: str | None
    """Pin of the ONNX file; None for a user's own export."""
    tokenizer_sha256: str | None
    """Pin of tokenizer.json; None for a user's own export."""
    max_length: int
    """Tokens kept per text; longer texts are truncated."""
    pooling: Literal["mean", "cls"]
    """How token vectors become one vector per text."""
    normalize: bool
    """Whether vectors are scaled to unit length (cosine = dot product)."""
    labels: tuple[str, ...] = ()
    """Class names, for classifiers."""
    licence: str
    attribution: str
    """Model author and source, reported by `Describe`."""
    manifest: Manifest | None = None
    """What the plugin's folder says of itself, when it has a manifest."""


def available_plugins() -> list[str]:
    """Names of the installed plugins, sorted."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def load_plugin(name: str, *, cache_dir: Path | None = None) -> ModelPlugin:
    """The plugin called `name`, or one built from `path:/some/dir`; with `cache_dir`, also
    one the factory made there (`<cache_dir>/factory/NAME`, by its name alone)."""
    if name.startswith(PATH_PREFIX):
        return plugin_from_path(Path(name.removeprefix(PATH_PREFIX)), name=name)
    matches = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    built = factory_plugins(cache_dir) if cache_dir is not None else {}
    if not matches and name in built:
        return plugin_from_path(built[name], name=name)
    if not matches:
        installed = ", ".join(available_plugins() + sorted(built)) or "none"
        raise PluginError(
            f"no plugin named {name!r}; installed: {installed}; "
            f"or use {PATH_PREFIX}/path/to/onnx-export"
        )
    try:
        plugin = matches[0].load()
    except Exception as err:  # a broken third-party plugin must not look like our bug
        raise PluginError(f"plugin {name!r} ({matches[0].value}) failed to load: {err}") from err
    if not isinstance(plugin, ModelPlugin):
        raise PluginError(
            f"plugin {name!r} ({matches[0].value}) is a {type(plugin).__name__}, not a ModelPlugin"
        )
    return plugin


def factory_plugins(cache_dir: Path) -> dict[str, Path]:
    """The plugin folders `slm-mesh factory` finished in `cache_dir`, by name (a folder
    without its manifest is not finished)."""
    root = cache_dir / "factory"
    if not root.is_dir():
        return {}
    return {
        folder.name: folder
        for folder in sorted(root.iterdir())
        if not folder.name.startswith(".") and (folder / MANIFEST_FILE).is_file()
    }


def plugin_from_path(folder: Path, *, name: str) -> ModelPlugin:
    """A plugin for a user's own ONNX export: an encoder with mean pooling, unless its
    manifest says otherwise; its files pinned by the manifest's sha256, when it has one."""
    files = resolve_model_dir(folder)
    manifest = read_manifest(folder) if folder.is_dir() else None
    if manifest is None:
        return ModelPlugin(
            name=name,
            task="encoder",
            description=f"ONNX export at {folder}",
            model_files=lambda: files,
            model_sha256=None,
            tokenizer_sha256=None,
            max_length=max_length_of(files),
            pooling="mean",
            normalize=True,
            licence="unknown",
            attribution=f"user-supplied model at {folder}",
        )
    manifest.verify(folder)
    return ModelPlugin(
        name=manifest.name,
        task=manifest.task,
        description=manifest.description or f"ONNX export at {folder}",
        model_files=lambda: files,
        model_sha256=manifest.files.get(str(files.model.relative_to(folder))),
        tokenizer_sha256=manifest.files.get(str(files.tokenizer.relative_to(folder))),
        max_length=manifest.max_length or max_length_of(files),
        pooling="mean",
        normalize=True,
        labels=manifest.labels,
        licence=manifest.licence,
        attribution=f"user-supplied model at {folder}",
        manifest=manifest,
    )


def max_length_of(files: ModelFiles) -> int:
    """The token limit an export declares, else DEFAULT_MAX_LENGTH.

    sentence-transformers' own limit comes first, then the tokenizer's truncation, then the
    model's position embeddings.
    """
    folder = files.tokenizer.parent
    candidates = (
        (_read_json(folder / "sentence_bert_config.json"), ("max_seq_length",)),
        (_read_json(files.tokenizer), ("truncation", "max_length")),
        (_read_json(files.config) if files.config else {}, ("max_position_embeddings",)),
    )
    for data, keys in candidates:
        value: object = data
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, int) and value > 0:
            return value
    return DEFAULT_MAX_LENGTH


def _read_json(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
