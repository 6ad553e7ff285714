"""What a wheel ships: every package folder of the source tree is in pyproject's package
list (an editable install finds a missing one anyway; a built image would not)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"services": "slm_mesh.services", "plugins": "slm_mesh.plugins",
           "tools": "slm_mesh.tools", "firmware_bridge": "slm_mesh.firmware_bridge"}  # fmt: skip


def test_every_package_folder_is_in_the_wheel() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = set()
    for folder, package in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((package, *parts)))
    assert found - listed == set(), "add these to [tool.setuptools] packages"
