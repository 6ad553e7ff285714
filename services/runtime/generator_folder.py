"""A generative model's folder in onnxruntime-genai's layout, checked before it is loaded.

    genai_config.json         what onnxruntime-genai reads first: the decoder's file, the
                              context length, the end-of-sequence tokens
    model.onnx                the decoder (`model.decoder.filename`)
    model.onnx.data           its weights, when the graph keeps them outside (external data)
    tokenizer.json            the `tokenizers` file
    tokenizer_config.json     special tokens and the chat template
    manifest.json             optional: each file's sha256 (`manifest.py`)

onnxruntime-genai's own errors for a broken folder name a C++ step, not the file; these
checks name the file and what was expected, so a user can fix the folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slm_mesh.services.errors import ModelError
from slm_mesh.services.runtime.manifest import Manifest, read_manifest
from slm_mesh.services.runtime.model_store import verify_sha256

CONFIG = "genai_config.json"
TOKENIZER = "tokenizer.json"
TOKENIZER_CONFIG = "tokenizer_config.json"
#: Where transformers and onnxruntime-genai also look for a chat template.
_TEMPLATE_FILES = ("chat_template.jinja", "chat_template.json")
#: A graph larger than this is read for its external-data references only by ONNX Runtime
#: itself: a graph that big holds its weights, and parsing it twice would double the memory.
_SCAN_LIMIT = 64 << 20
_HOW = (
    "rebuild the folder with onnxruntime-genai's model builder (onnxruntime_genai.models.builder)"
)


@dataclass(frozen=True, kw_only=True)
class GenaiFolder:
    """A checked model folder: its files and what genai_config.json says."""

    path: Path
    decoder: Path
    """The decoder's ONNX graph."""
    external_data: tuple[Path, ...]
    """The files the graph keeps its weights in, when it keeps them outside."""
    tokenizer: Path
    tokenizer_config: Path
    model_type: str
    """`model.type`: llama, phi3, gemma2, …"""
    max_length: int
    """The most tokens a sequence may hold, prompt and answer together."""
    eos_token_ids: tuple[int, ...]
    min_cache_length: int
    """The fewest tokens a generation's KV cache may hold: a sliding-window attention layer
    (Gemma 2 and 3) needs room for its whole window, however short the generation."""
    has_chat_template: bool
    manifest: Manifest | None
    """What the folder says of itself, when it has a manifest.json (already verified)."""


def check_genai_folder(
    path: Path, *, verify: bool = True, cache_dir: Path | None = None
) -> GenaiFolder:
    """The folder's files, or ModelError naming the first one missing or malformed and what
    was expected. With `verify` and a manifest.json, every file it lists must have its
    sha256 (hashed once per size and mtime when `cache_dir` is given)."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ModelError(f"model folder {folder} does not exist; give a folder with {CONFIG}")
    config = _json_object(folder / CONFIG, what="onnxruntime-genai's model configuration")
    model = config.get("model")
    decoder_section = model.get("decoder") if isinstance(model, dict) else None
    filename = decoder_section.get("filename") if isinstance(decoder_section, dict) else None
    if not isinstance(model, dict) or not isinstance(filename, str) or not filename:
        raise ModelError(
            f"{folder / CONFIG} names no decoder: expected a string at model.decoder.filename "
            f'(e.g. "model.onnx"); {_HOW}'
        )
    decoder = folder / filename
    if not decoder.is_file():
        raise ModelError(
            f"{decoder} is missing: {CONFIG} names it as the decoder (model.decoder.filename); "
            "copy the whole model folder again"
        )
    external = _external_data(decoder)
    for data in external:
        if not data.is_file():
            raise ModelError(
                f"{data} is missing: {decoder.name} keeps its weights in it (ONNX external "
                "data); copy it from the same model folder"
            )
    tokenizer = folder / TOKENIZER
    if not tokenizer.is_file():
        raise ModelError(f"{tokenizer} is missing: the model's tokenizer; {_HOW}")
    tokenizer_config = _json_object(
        folder / TOKENIZER_CONFIG, what="the tokenizer's special tokens and chat template"
    )
    manifest = read_manifest(folder) if verify else None
    if manifest is not None:
        if manifest.task != "generator":
            raise ModelError(
                f"{folder / 'manifest.json'} says task {manifest.task!r}; a generative model's "
                'manifest says "generator"'
            )
        for name, sha256 in manifest.files.items():
            verify_sha256(folder / name, sha256, cache_dir=cache_dir)
    return GenaiFolder(
        path=folder,
        decoder=decoder,
        external_data=external,
        tokenizer=tokenizer,
        tokenizer_config=folder / TOKENIZER_CONFIG,
        model_type=str(model.get("type", "unknown")),
        max_length=_max_length(config, folder / CONFIG),
        eos_token_ids=_eos_ids(model.get("eos_token_id")),
        min_cache_length=_window(decoder_section),
        has_chat_template=bool(tokenizer_config.get("chat_template"))
        or any((folder / name).is_file() for name in _TEMPLATE_FILES),
        manifest=manifest,
    )


def _json_object(path: Path, *, what: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError(f"{path} is missing: {what}; {_HOW}") from None
    except OSError as err:
        raise ModelError(f"cannot read {path}: {err}") from None
    try:
        data = json.loads(text)
    except ValueError as err:
        raise ModelError(f"{path} is not JSON ({err}): expected {what}") from None
    if not isinstance(data, dict):
        raise ModelError(f"{path} is not a JSON object: expected {what}")
    return data


def _external_data(decoder: Path) -> tuple[Path, ...]:
    """The files the graph's initializers point to, read without loading any weights."""
    if decoder.stat().st_size > _SCAN_LIMIT:
        return ()
    import onnx  # only here: the check reads the graph's structure, never its weights

    try:
        graph = onnx.load(str(decoder), load_external_data=False).graph
    except Exception as err:  # protobuf's DecodeError and friends: not an ONNX file
        raise ModelError(f"{decoder} is not an ONNX graph ({err}); copy it again") from None
    locations: dict[str, None] = {}
    for tensor in graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            for entry in tensor.external_data:
                if entry.key == "location":
                    locations[entry.value] = None
    return tuple(decoder.parent / location for location in locations)


def _max_length(config: dict[str, Any], path: Path) -> int:
    """The smaller of the model's context length and the search's max_length (either may be
    absent); ModelError when neither is a positive integer."""
    model = config.get("model", {})
    search = config.get("search", {})
    limits = [
        value
        for value in (
            model.get("context_length") if isinstance(model, dict) else None,
            search.get("max_length") if isinstance(search, dict) else None,
        )
        if isinstance(value, int) and not isinstance(value, bool) and value > 0
    ]
    if not limits:
        raise ModelError(
            f"{path} gives no token limit: expected a positive integer at model.context_length "
            "or search.max_length"
        )
    return min(limits)


def _window(decoder: object) -> int:
    window = decoder.get("sliding_window") if isinstance(decoder, dict) else None
    size = window.get("window_size") if isinstance(window, dict) else None
    return size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else 0


def _eos_ids(value: object) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, int))
    return ()
