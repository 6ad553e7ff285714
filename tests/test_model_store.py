"""Finding model files in the layouts people download, and the sha256 check with its cache."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from slm_mesh.services.errors import ModelError
from slm_mesh.services.runtime.model_store import ModelFiles, resolve_model_dir, verify_sha256


def _touch(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")


def test_optimum_export_prefers_the_quantized_model(tmp_path: Path) -> None:
    _touch(tmp_path, "model.onnx", "model_quantized.onnx", "tokenizer.json", "config.json")
    assert resolve_model_dir(tmp_path) == ModelFiles(
        model=tmp_path / "model_quantized.onnx",
        tokenizer=tmp_path / "tokenizer.json",
        config=tmp_path / "config.json",
    )
    assert resolve_model_dir(tmp_path, prefer_quantized=False).model == tmp_path / "model.onnx"


def test_transformers_js_layout_keeps_models_under_onnx(tmp_path: Path) -> None:
    _touch(tmp_path, "onnx/model.onnx", "onnx/model_quantized.onnx", "tokenizer.json")
    files = resolve_model_dir(tmp_path)
    assert files.model == tmp_path / "onnx" / "model_quantized.onnx"
    assert files.tokenizer == tmp_path / "tokenizer.json"
    assert files.config is None


def test_direct_onnx_file_finds_the_tokenizer_beside_it_or_above_onnx(tmp_path: Path) -> None:
    _touch(tmp_path, "custom.onnx", "tokenizer.json", "onnx/other.onnx")
    assert resolve_model_dir(tmp_path / "custom.onnx").tokenizer == tmp_path / "tokenizer.json"
    assert resolve_model_dir(tmp_path / "onnx/other.onnx").tokenizer == tmp_path / "tokenizer.json"


def test_missing_tokenizer_says_where_it_looked(tmp_path: Path) -> None:
    _touch(tmp_path, "model.onnx")
    with pytest.raises(ModelError, match=r"no tokenizer\.json beside .*model\.onnx"):
        resolve_model_dir(tmp_path)


def test_folder_without_known_model_names_lists_what_it_found(tmp_path: Path) -> None:
    _touch(tmp_path, "decoder_model_merged.onnx", "tokenizer.json")
    with pytest.raises(ModelError, match=r"looked for model_quantized\.onnx.*found decoder_model"):
        resolve_model_dir(tmp_path)


def test_missing_path_and_non_onnx_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model_dir(tmp_path / "nowhere")
    _touch(tmp_path, "weights.bin")
    with pytest.raises(ModelError, match="not an ONNX file"):
        resolve_model_dir(tmp_path / "weights.bin")


def _file_with_sha(path: Path, content: bytes) -> str:
    path.write_bytes(content)
    return hashlib.sha256(content).hexdigest()


def test_sha256_accepts_the_pinned_file_and_refuses_an_altered_one(tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    pin = _file_with_sha(model, b"weights")
    verify_sha256(model, pin)
    model.write_bytes(b"WEIGHTS")
    with pytest.raises(ModelError, match=r"altered .* reinstall"):
        verify_sha256(model, pin)


def test_missing_file_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="missing"):
        verify_sha256(tmp_path / "model.onnx", "0" * 64)


def test_cache_skips_rehash_until_size_or_mtime_change(tmp_path: Path) -> None:
    model, cache = tmp_path / "model.onnx", tmp_path / "cache"
    pin = _file_with_sha(model, b"weights")
    verify_sha256(model, pin, cache_dir=cache)
    stat = model.stat()
    # Same size and mtime: trusted from the cache without reading the file.
    model.write_bytes(b"WEIGHTS")
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    verify_sha256(model, pin, cache_dir=cache)
    # A new mtime forces a rehash, which sees the change.
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(ModelError, match="altered"):
        verify_sha256(model, pin, cache_dir=cache)


def test_broken_cache_file_only_costs_a_rehash(tmp_path: Path) -> None:
    model, cache = tmp_path / "model.onnx", tmp_path / "cache"
    cache.mkdir()
    (cache / "verified-sha256.json").write_text("{not json")
    verify_sha256(model, _file_with_sha(model, b"weights"), cache_dir=cache)
