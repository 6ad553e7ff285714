"""`slm-mesh factory report`: every variant built, measured side by side in one run.

One table: parameters, file size, precision, raw ONNX Runtime p50 and batched throughput
(every encoder at fp32 and at int8, all timed in the same rounds, so the box's noise falls
on all of them alike), and task accuracy on the development sets, measured now rather than
copied from the cards. The card's own figure is shown beside it where the two should agree.
Generators are listed with their size and their card's figures: timing generation is
`slm-mesh bench code`'s job.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from slm_mesh.factory.card import JSON_FILE, read_card
from slm_mesh.services.runtime.manifest import read_manifest
from slm_mesh.services.runtime.plugins import factory_plugins
from slm_mesh.services.settings import Settings

Precision = Literal["fp32", "int8"]


@dataclass
class Variant:
    name: str
    task: str
    folder: Path | None
    """None for the shipped default (minilm)."""
    card: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    """One per precision measured."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--folder",
        type=Path,
        action="append",
        default=[],
        help="a plugin folder to include besides <cache-dir>/factory/* (repeatable)",
    )
    parser.add_argument("--eval-home", type=Path, help="home of the intent --eval-cases")
    parser.add_argument(
        "--eval-cases",
        type=Path,
        action="append",
        default=[],
        help="intent cases scored with every encoder (repeatable)",
    )
    parser.add_argument(
        "--sentiment-cases",
        type=Path,
        action="append",
        default=[],
        help="labelled TSVs scored with every sentiment classifier (repeatable)",
    )
    parser.add_argument("--rounds", type=int, default=200, help="timing rounds per model")
    parser.add_argument("--json", action="store_true", help="print the table as JSON")


def variants(cache_dir: Path, extra: list[Path]) -> list[Variant]:
    """The shipped encoder, then every finished factory folder (and `extra`), by name."""
    found = [Variant(name="minilm", task="encoder", folder=None)]
    folders = {**factory_plugins(cache_dir), **{f.resolve().name: f for f in extra}}
    for name, folder in sorted(folders.items()):
        manifest = read_manifest(folder)
        card = read_card(folder) if (folder / JSON_FILE).is_file() else {}
        task = manifest.task if manifest else card.get("task", "encoder")
        found.append(Variant(name=name, task=task, folder=folder, card=card))
    return found


def run(args: argparse.Namespace, settings: Settings) -> int:
    from slm_mesh.factory.report_measure import measure

    found = variants(settings.cache_dir, args.folder)
    measure(found, settings=settings, args=args)
    if args.json:
        print(json.dumps([_as_json(v) for v in found], indent=2))
    else:
        print(format_table(found))
    return 0


def _as_json(variant: Variant) -> dict[str, Any]:
    return {
        "name": variant.name,
        "task": variant.task,
        "folder": str(variant.folder) if variant.folder else None,
        "rows": variant.rows,
    }


COLUMNS = (
    ("variant", "variant"),
    ("task", "task"),
    ("parameters", "parameters"),
    ("precision", "precision"),
    ("file MB", "file_mb"),
    ("p50 ms", "p50_ms"),
    ("p50 vs minilm", "p50_ratio"),
    ("batched /s", "batched_per_second"),
    ("accuracy (now)", "accuracy"),
    ("accuracy (card)", "card_accuracy"),
)


def format_table(found: list[Variant]) -> str:
    """A Markdown table, one row per variant and precision, and what `auto` picks here."""
    header = [title for title, _ in COLUMNS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    notes: list[str] = []
    for variant in found:
        for row in variant.rows:
            cells = [_cell(row.get(key)) for _, key in COLUMNS]
            lines.append("| " + " | ".join(cells) + " |")
            notes.extend(row.get("notes", []))
    return "\n".join(lines + [""] + [f"- {note}" for note in dict.fromkeys(notes)])


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)
