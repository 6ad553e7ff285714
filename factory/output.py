"""A recipe's plugin folder appears whole or not at all.

The recipe writes into a staging folder beside the target and it is renamed into place
only when the recipe finished, manifest last; a run that is stopped or fails removes its
staging folder, and one killed outright leaves a `.NAME.partial-PID` folder that the next
run of the same recipe removes. A staging folder never loads as a plugin: it is not where
anyone points, and it has no manifest until the very end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import structlog

from slm_mesh.factory.errors import FactoryError
from slm_mesh.tools.models.build import process_running

log = structlog.get_logger(__name__)


def default_output(cache_dir: Path, name: str) -> Path:
    """Where a recipe writes its plugin unless told: `<cache>/factory/<name>`."""
    return cache_dir / "factory" / name


@contextlib.contextmanager
def staged_folder(target: Path, *, force: bool) -> Iterator[Path]:
    """A fresh staging folder; on success it replaces `target` (only with `force` if
    `target` exists)."""
    target = target.expanduser().resolve()
    if target.exists() and not force:
        raise FactoryError(f"{target} exists; pass --force to replace it, or --out elsewhere")
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(target)
    staging = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _remove_leftovers(target: Path) -> None:
    """Staging folders of runs of this recipe that were killed (their process is gone)."""
    for leftover in target.parent.glob(f".{target.name}.partial-*"):
        pid = leftover.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not process_running(int(pid)):
            log.info("removing what an interrupted run left", folder=str(leftover))
            shutil.rmtree(leftover, ignore_errors=True)


def add_output_arguments(parser: argparse.ArgumentParser, *, default_name: str) -> None:
    parser.add_argument("--name", default=default_name, help="the plugin's name")
    parser.add_argument(
        "--out", type=Path, help="the plugin folder (default: <cache-dir>/factory/NAME)"
    )
    parser.add_argument("--force", action="store_true", help="replace the folder if it exists")
