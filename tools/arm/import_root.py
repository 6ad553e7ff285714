"""A folder that makes this checkout importable as `slm_mesh` by another Python (the
emulated aarch64 one of tools/arm/setup.sh), with nothing installed there:

    .venv/bin/python tools/arm/import_root.py /tmp/slm-mesh-root
    PYTHONPATH=/tmp/slm-mesh-root arm64py --cpu pi5 -m slm_mesh.services.cli serve intent

setuptools maps the checkout's folders to `slm_mesh.*` at install time
(`[tool.setuptools.package-dir]` in pyproject.toml); the editable install's finder lives in
.venv's site-packages, which another interpreter must not read (its wheels are x86). The
folder holds the same map as directory links (`slm_mesh/services -> services`, ...), read
from pyproject.toml, and the project's metadata (`slm_mesh-<version>.dist-info`: its entry
points, which find the model plugins and the services, and its version). Links, so an
edit in the checkout is seen at once; the metadata is written again on each call.
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from importlib import metadata
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
DISTRIBUTION = "slm-mesh"


def package_dirs(checkout: Path = CHECKOUT) -> dict[str, Path]:
    """`slm_mesh.services` -> <checkout>/services, ..., as pyproject.toml maps them."""
    with (checkout / "pyproject.toml").open("rb") as file:
        config = tomllib.load(file)
    mapping: dict[str, str] = config["tool"]["setuptools"]["package-dir"]
    return {package: checkout / folder for package, folder in mapping.items()}


def make_import_root(target: Path, checkout: Path = CHECKOUT) -> Path:
    """Fill `target` (made if missing) so that `PYTHONPATH=target` imports the checkout as
    `slm_mesh`, entry points included; returns `target`."""
    package = target / "slm_mesh"
    package.mkdir(parents=True, exist_ok=True)
    for name, folder in package_dirs(checkout).items():
        root, _, sub = name.partition(".")
        if root != "slm_mesh" or not sub or "." in sub:
            raise ValueError(f"{name}: only slm_mesh.<name> folders can be linked")
        link = package / sub
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(folder, target_is_directory=True)
    dist = metadata.distribution(DISTRIBUTION)
    for old in target.glob("slm_mesh-*.dist-info"):
        shutil.rmtree(old)
    info = target / f"slm_mesh-{dist.version}.dist-info"
    info.mkdir()
    for name in ("METADATA", "entry_points.txt"):
        text = dist.read_text(name)
        if text is None:
            raise FileNotFoundError(f"the installed {DISTRIBUTION} has no {name}: ./run.sh")
        (info / name).write_text(text, encoding="utf-8")
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} TARGET_DIR")
    print(make_import_root(Path(sys.argv[1])))
