"""A plugin's model card: where it came from, how it was trained, what it measured.

Written as `model_card.json` (what `factory report` and tests read) and `MODEL_CARD.md`
(what a person reads), beside the loss curves' PNG, in the plugin folder.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from slm_mesh.factory.curves import Curves
from slm_mesh.factory.errors import FactoryError
from slm_mesh.services.runtime.model_store import file_sha256

JSON_FILE = "model_card.json"
MARKDOWN_FILE = "MODEL_CARD.md"
CURVES_FILE = "loss_curves.png"
_TOOLS = ("torch", "transformers", "onnxruntime", "onnxruntime-genai", "peft", "slm-mesh")


@dataclass(frozen=True)
class Source:
    """A file the model was made from."""

    name: str
    path: str
    sha256: str
    licence: str

    @classmethod
    def of(cls, name: str, path: Path, *, licence: str) -> Source:
        return cls(name=name, path=str(path), sha256=file_sha256(path), licence=licence)


@dataclass
class ModelCard:
    name: str
    recipe: str
    task: str
    summary: str
    licence: str
    sources: list[Source]
    seed: int
    split: dict[str, Any]
    """How the data was divided: sizes and the rule."""
    hyperparameters: dict[str, Any]
    curves: Curves
    metrics: dict[str, Any] = field(default_factory=dict)
    """Task figures measured when it was made (accuracy on named sets, and the teacher's)."""
    size: dict[str, Any] = field(default_factory=dict)
    """Parameters, file bytes, precision."""
    latency: dict[str, Any] = field(default_factory=dict)
    """Raw ONNX Runtime timings, the plugin beside its baseline in one run."""
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "recipe": self.recipe,
            "task": self.task,
            "summary": self.summary,
            "licence": self.licence,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "tools": _tool_versions(),
            "sources": [vars(s) for s in self.sources],
            "seed": self.seed,
            "split": self.split,
            "hyperparameters": self.hyperparameters,
            "curves": self.curves.as_json(),
            "metrics": self.metrics,
            "size": self.size,
            "latency": self.latency,
            "notes": self.notes,
        }


def write_card(folder: Path, card: ModelCard) -> None:
    data = card.as_json()
    (folder / JSON_FILE).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    (folder / MARKDOWN_FILE).write_text(_markdown(data), encoding="utf-8")


def read_card(folder: Path) -> dict[str, Any]:
    path = folder / JSON_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise FactoryError(f"{path} is not a readable model card ({err})") from err
    if not isinstance(data, dict):
        raise FactoryError(f"{path} holds no JSON object")
    return data


def _tool_versions() -> dict[str, str]:
    found = {}
    for name in _TOOLS:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def _markdown(data: dict[str, Any]) -> str:
    lines = [
        f"# {data['name']}",
        "",
        data["summary"],
        "",
        f"- recipe: `slm-mesh factory {data['recipe']}`; task: {data['task']}",
        f"- licence: {data['licence']}",
        f"- made {data['created']} on {data['machine']}, seed {data['seed']}",
        f"- tools: {', '.join(f'{k} {v}' for k, v in data['tools'].items())}",
        "",
        "## Sources",
        "",
        *(
            f"- {s['name']} ({s['licence']}): `{s['path']}`, sha256 `{s['sha256']}`"
            for s in data["sources"]
        ),
        "",
        "## Data split",
        "",
        *_items(data["split"]),
        "",
        "## Hyperparameters",
        "",
        *_items(data["hyperparameters"]),
        "",
        "## Training and validation loss",
        "",
        f"![loss curves]({CURVES_FILE})",
        "",
        "| epoch | step | training loss | validation loss |",
        "|---|---|---|---|",
    ]
    curves = data["curves"]
    for point in curves["points"]:
        mark = ""
        if point["step"] == curves["best_step"]:
            mark = " (best)" if curves.get("averaged") else " (best: kept)"
        elif point["step"] == curves["overfitting_step"]:
            mark = " (over-fitting from here)"
        lines.append(
            f"| {point['epoch']:.2f} | {point['step']} | {point['train']:.4f} | "
            f"{point['validation']:.4f}{mark} |"
        )
    if averaged := curves.get("averaged"):
        lines += [
            "",
            f"Kept: the average of the {averaged['evaluations']} weights evaluated after epoch "
            f"{averaged['after_epoch']:g}, validation loss {averaged['validation']:.4f}.",
        ]
    for title, key in (("Metrics", "metrics"), ("Size", "size"), ("Latency", "latency")):
        lines += ["", f"## {title}", "", *_items(data[key])]
    if data["notes"]:
        lines += ["", "## Notes", "", *(f"- {note}" for note in data["notes"])]
    return "\n".join(lines) + "\n"


def _items(values: dict[str, Any]) -> list[str]:
    return [f"- {key}: {value}" for key, value in values.items()] or ["- (none)"]
