"""A plugin says what it is: its manifest, written by a build step, checked at load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tiny_models import write_classifier

from slm_mesh.services.errors import ModelError
from slm_mesh.services.runtime.manifest import build_manifest, read_manifest, write_manifest
from slm_mesh.services.runtime.plugins import load_plugin


def test_a_classifier_export_gets_a_manifest_of_its_files_labels_and_limit(
    tmp_path: Path,
) -> None:
    folder = write_classifier(tmp_path / "sst2")
    manifest = build_manifest(folder, licence="Apache-2.0", description="tiny SST-2")
    assert (manifest.task, manifest.labels, manifest.max_length) == (
        "classifier",
        ("negative", "positive"),
        512,
    )
    assert set(manifest.files) == {"model.onnx", "tokenizer.json", "config.json"}
    assert all(len(sha) == 64 for sha in manifest.files.values())
    write_manifest(folder, manifest)
    assert read_manifest(folder) == manifest


def test_a_folder_plugin_is_what_its_manifest_says(tmp_path: Path) -> None:
    folder = write_classifier(tmp_path / "sst2")
    write_manifest(folder, build_manifest(folder, name="sst2-tiny", licence="MIT"))
    plugin = load_plugin(f"path:{folder}")
    assert (plugin.name, plugin.task, plugin.labels, plugin.licence) == (
        "sst2-tiny",
        "classifier",
        ("negative", "positive"),
        "MIT",
    )
    assert plugin.model_sha256 is not None and plugin.tokenizer_sha256 is not None


def test_a_file_that_is_not_the_one_listed_is_refused_by_name(tmp_path: Path) -> None:
    folder = write_classifier(tmp_path / "sst2")
    write_manifest(folder, build_manifest(folder))
    (folder / "tokenizer.json").write_text("{}")
    with pytest.raises(ModelError, match=r"tokenizer\.json has sha256"):
        load_plugin(f"path:{folder}")


@pytest.mark.parametrize(
    "manifest",
    [
        "not json",
        json.dumps({"name": "x", "task": "poet", "files": {"model.onnx": "ab"}}),
        json.dumps({"name": "x", "task": "encoder", "files": {}}),
        json.dumps({"task": "encoder", "files": {"model.onnx": "ab"}}),
    ],
)
def test_a_malformed_manifest_is_refused_saying_why(tmp_path: Path, manifest: str) -> None:
    (tmp_path / "manifest.json").write_text(manifest)
    with pytest.raises(ModelError, match="not a usable manifest"):
        read_manifest(tmp_path)
