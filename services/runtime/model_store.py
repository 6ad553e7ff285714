"""Find a model's files on disk and check that they are the files we pinned.

Accepts the layouts people already download (Hugging Face / Optimum ONNX exports,
transformers.js repositories, or a bare `.onnx` file with `tokenizer.json` beside it), so a
user's own export works without renaming anything. Nothing here fetches from a hub.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import structlog

from slm_mesh.services.errors import ModelError

_QUANTIZED = ("model_quantized.onnx", "onnx/model_quantized.onnx")
_FULL = ("model.onnx", "onnx/model.onnx")
log = structlog.get_logger(__name__)
_CACHE_FILE = "verified-sha256.json"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelFiles:
    """The files one model needs at run time."""

    model: Path
    """The ONNX graph."""
    tokenizer: Path
    """The `tokenizers` file (`tokenizer.json`)."""
    config: Path | None
    """The Hugging Face `config.json`, when the export has one."""


def resolve_model_dir(path: Path, *, prefer_quantized: bool = True) -> ModelFiles:
    """The model files in `path`: an export folder or a direct path to a `.onnx` file."""
    path = Path(path).expanduser()
    if path.is_file():
        if path.suffix != ".onnx":
            raise ModelError(f"{path} is not an ONNX file; give a `.onnx` file or an export folder")
        return _with_tokenizer(path, _model_roots(path))
    if not path.is_dir():
        raise ModelError(f"model path {path} does not exist; give an ONNX export folder")
    names = _QUANTIZED + _FULL if prefer_quantized else _FULL + _QUANTIZED
    for name in names:
        if (path / name).is_file():
            return _with_tokenizer(path / name, (path,))
    found = sorted(str(p.relative_to(path)) for p in path.rglob("*.onnx"))
    raise ModelError(
        f"no ONNX model in {path}: looked for {', '.join(names)}"
        + (f"; found {', '.join(found)} — give that file's path directly" if found else "")
        + "; export one with `optimum-cli export onnx --model <id> <folder>`"
    )


def _model_roots(model: Path) -> tuple[Path, ...]:
    """Folders that may hold the tokenizer of `model`: beside it, and above an `onnx/` folder."""
    folder = model.parent
    return (folder, folder.parent) if folder.name == "onnx" else (folder,)


def _with_tokenizer(model: Path, roots: tuple[Path, ...]) -> ModelFiles:
    tokenizer = _first_file(roots, "tokenizer.json")
    if tokenizer is None:
        raise ModelError(
            f"no tokenizer.json beside {model} (looked in {', '.join(map(str, roots))}); "
            "copy the tokenizer.json of the same model there"
        )
    return ModelFiles(model=model, tokenizer=tokenizer, config=_first_file(roots, "config.json"))


def _first_file(roots: tuple[Path, ...], name: str) -> Path | None:
    return next((root / name for root in roots if (root / name).is_file()), None)


def verify_sha256(path: Path, expected: str, *, cache_dir: Path | None = None) -> None:
    """Raise ModelError unless the file's sha256 is `expected`.

    With `cache_dir`, a file already verified with the same size and mtime is not hashed again,
    so a restart does not reread every model.
    """
    try:
        stat = path.stat()
    except OSError as err:
        raise ModelError(f"model file {path} is missing ({err}); reinstall the package") from err
    key = str(path.resolve())
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": expected.lower()}
    cache = _read_cache(cache_dir) if cache_dir is not None else {}
    if cache.get(key) == stamp:
        return
    actual = file_sha256(path)
    if actual != expected.lower():
        raise ModelError(
            f"{path} has sha256 {actual}, expected {expected}: the file was altered or is "
            "another version; reinstall the package that ships it"
        )
    if cache_dir is not None:
        _write_cache(cache_dir, {**cache, key: stamp})


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file, read in chunks so large models need little memory."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _read_cache(cache_dir: Path) -> dict[str, object]:
    try:
        data = json.loads((cache_dir / _CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no cache yet, or a broken one: hash again
    return data if isinstance(data, dict) else {}


def _write_cache(cache_dir: Path, data: dict[str, object]) -> None:
    # Written to a temporary file and renamed, so a crash never leaves half a cache.
    # A read-only cache dir only costs a rehash at the next start, so it is not an error.
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_dir / f"{_CACHE_FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(cache_dir / _CACHE_FILE)
    except OSError as err:
        log.warning("cannot write the sha256 cache; the model is hashed again next start",
                    cache_dir=str(cache_dir), error=str(err))  # fmt: skip
