"""Plugins load by name through entry points, or from a user's export folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slm_mesh.plugins.minilm import PLUGIN
from slm_mesh.services.errors import ModelError, PluginError
from slm_mesh.services.runtime.model_store import verify_sha256
from slm_mesh.services.runtime.plugins import available_plugins, load_plugin


def test_builtin_minilm_loads_through_the_entry_point() -> None:
    assert "minilm" in available_plugins()
    plugin = load_plugin("minilm")
    assert plugin is PLUGIN
    assert (plugin.task, plugin.pooling, plugin.normalize) == ("encoder", "mean", True)
    assert plugin.licence == "Apache-2.0"
    assert "Apache-2.0" in plugin.attribution


def test_minilm_files_match_their_pins() -> None:
    files = PLUGIN.model_files()
    assert PLUGIN.model_sha256 and PLUGIN.tokenizer_sha256
    verify_sha256(files.model, PLUGIN.model_sha256)
    verify_sha256(files.tokenizer, PLUGIN.tokenizer_sha256)


def test_unknown_plugin_lists_the_installed_ones() -> None:
    with pytest.raises(PluginError, match=r"no plugin named 'nope'; installed: .*minilm"):
        load_plugin("nope")


def test_path_plugin_reads_an_export_folder(tmp_path: Path) -> None:
    (tmp_path / "onnx").mkdir()
    (tmp_path / "onnx" / "model_quantized.onnx").write_text("x")
    (tmp_path / "tokenizer.json").write_text(json.dumps({"truncation": None}))
    (tmp_path / "config.json").write_text(json.dumps({"max_position_embeddings": 512}))
    plugin = load_plugin(f"path:{tmp_path}")
    assert plugin.model_files().model == tmp_path / "onnx" / "model_quantized.onnx"
    assert plugin.model_sha256 is None and plugin.tokenizer_sha256 is None
    assert (plugin.pooling, plugin.max_length) == ("mean", 512)


def test_path_plugin_prefers_the_sentence_transformers_limit(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_text("x")
    (tmp_path / "tokenizer.json").write_text(json.dumps({"truncation": {"max_length": 128}}))
    (tmp_path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 200}))
    assert load_plugin(f"path:{tmp_path}").max_length == 200
    (tmp_path / "sentence_bert_config.json").unlink()
    assert load_plugin(f"path:{tmp_path}").max_length == 128


def test_path_plugin_without_limits_uses_256(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_text("x")
    (tmp_path / "tokenizer.json").write_text("{}")
    assert load_plugin(f"path:{tmp_path}").max_length == 256


def test_path_plugin_to_an_empty_folder_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no ONNX model"):
        load_plugin(f"path:{tmp_path}")
