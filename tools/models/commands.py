"""`slm-mesh models build NAME` and `slm-mesh models list`: what the command line calls.

Errors are raised as they are (ModelError, MissingBuildExtra); the command line prints them
and ends with their exit code, as for every other command.
"""

from __future__ import annotations

from pathlib import Path

from slm_mesh.services.errors import ModelError
from slm_mesh.services.runtime.manifest import FILE
from slm_mesh.tools.models.build import RECIPES, build, check_built, megabytes, output_dir


def build_command(name: str, *, cache_dir: Path, source: Path | None, force: bool) -> int:
    """Build the recipe's folder (or find it built), printing progress, then its path."""
    folder = build(
        name,
        cache_dir=cache_dir,
        source=source,
        force=force,
        progress=lambda line: print(f"models build: {line}", flush=True),
    )
    print(folder)
    return 0


def list_command(*, cache_dir: Path) -> int:
    """One line per recipe: its name, whether it is built, its size and precision, where."""
    rows = [("model", "state", "size", "precision", "folder")]
    notes = []
    for name, recipe in sorted(RECIPES.items()):
        folder = output_dir(recipe, cache_dir)
        size = "-"
        if not (folder / FILE).is_file():
            state = f"not built: slm-mesh models build {name}"
        else:
            try:
                size = megabytes(check_built(recipe, folder, cache_dir=cache_dir).size_bytes)
                state = "built"
            except ModelError as err:
                state = f"fails its check: slm-mesh models build {name} --force"
                notes.append(f"{name}: {err}")
        rows.append((name, state, size, recipe.plugin.precision, str(folder)))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[4]]))
    for note in notes:
        print(note)
    return 0
