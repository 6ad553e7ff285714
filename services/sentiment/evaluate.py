"""Scoring a sentiment classifier on labelled sentences (a TSV with `text` and `label`).

python -m slm_mesh.services.sentiment.evaluate --cases FILE.tsv [--mistakes 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from slm_mesh.services.contracts.sentiment import SentimentResult
from slm_mesh.services.errors import SlmMeshError
from slm_mesh.services.sentiment.calibration import expected_calibration_error
from slm_mesh.services.sentiment.cases import Case, load_cases
from slm_mesh.services.sentiment.labels import LABELS, Label


class Classifier(Protocol):
    def classify(self, texts: Sequence[str]) -> list[SentimentResult]: ...


@dataclass(frozen=True)
class LabelScore:
    cases: int
    """Cases that carry this label."""
    correct: int


@dataclass(frozen=True)
class Score:
    cases: int
    accuracy: float
    by_label: dict[Label, LabelScore]
    calibration_error: float
    """Expected calibration error: how far confidence is from accuracy (0 is perfect)."""
    mistakes: list[tuple[Case, SentimentResult]]

    def as_json(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "accuracy": round(self.accuracy, 4),
            "by_label": {
                label: {"cases": s.cases, "correct": s.correct}
                for label, s in self.by_label.items()
            },
            "calibration_error": round(self.calibration_error, 4),
            "mistakes": [
                {"text": case.text, "expected": case.label, "scores": dict(result.scores)}
                for case, result in self.mistakes
            ],
        }


def score(classifier: Classifier, cases: Sequence[Case], *, batch_size: int = 64) -> Score:
    """Classify every case, in batches as the service would, and count what came out right."""
    results: list[SentimentResult] = []
    for start in range(0, len(cases), batch_size):
        results.extend(
            classifier.classify([case.text for case in cases[start : start + batch_size]])
        )
    right = [result.label == case.label for case, result in zip(cases, results, strict=True)]
    by_label = {
        label: LabelScore(
            cases=sum(case.label == label for case in cases),
            correct=sum(ok for case, ok in zip(cases, right, strict=True) if case.label == label),
        )
        for label in LABELS
    }
    positive = np.array([result.scores["positive"] for result in results])
    truth = np.array([case.label == "positive" for case in cases])
    return Score(
        cases=len(cases),
        accuracy=sum(right) / len(cases) if cases else float("nan"),
        by_label=by_label,
        calibration_error=expected_calibration_error(positive, truth) if cases else float("nan"),
        mistakes=[(c, r) for c, r, ok in zip(cases, results, right, strict=True) if not ok],
    )


def format_score(result: Score, *, show_mistakes: int = 0) -> str:
    lines = [
        f"{result.cases} cases: accuracy {100 * result.accuracy:.1f}%, "
        f"calibration error {result.calibration_error:.3f}"
    ]
    for label, part in result.by_label.items():
        lines.append(f"  {label}: {part.correct} of {part.cases} right")
    for case, got in result.mistakes[:show_mistakes]:
        lines.append(
            f"  expected {case.label}, got {got.label} ({got.scores[got.label]:.2f}): {case.text}"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class ExportedClassifier:
    """A classifier export's function, in the shape `score` takes."""

    classify: Callable[[Sequence[str]], list[SentimentResult]]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m slm_mesh.services.sentiment.evaluate",
        description="score the sentiment classifier on a TSV of `text` and `label`",
    )
    parser.add_argument("--cases", type=Path, required=True, help="TSV: text<TAB>label")
    parser.add_argument("--head", type=Path, default=None, help="default: the shipped head")
    parser.add_argument(
        "--export", type=Path, default=None, help="a classifier export folder instead of a head"
    )
    parser.add_argument("--cache-dir", type=Path, default=None, help="encoder cache")
    parser.add_argument("--mistakes", type=int, default=0, help="list this many mistakes")
    parser.add_argument("--json", action="store_true", help="print the score as JSON")
    args = parser.parse_args(argv)

    # Imported here: loading the encoder is the slow part, and only running needs it.
    from slm_mesh.plugins.minilm import PLUGIN
    from slm_mesh.services.runtime.onnx_session import Embedder
    from slm_mesh.services.sentiment.classifier import SentimentClassifier
    from slm_mesh.services.sentiment.head import SentimentHead, default_head_path
    from slm_mesh.services.sentiment.service import from_export
    from slm_mesh.services.settings import Settings

    cache_dir = args.cache_dir or Settings().cache_dir
    try:
        cases = load_cases(args.cases)
        if args.export is not None:
            classify, _ = from_export(args.export, cache_dir=cache_dir)
            classifier: Classifier = ExportedClassifier(classify)
        else:
            head = SentimentHead.load(args.head or default_head_path())
            embedder = Embedder(plugin=PLUGIN, cache_dir=cache_dir)
            classifier = SentimentClassifier(embed=embedder.embed, head=head)
    except SlmMeshError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    result = score(classifier, cases)
    if args.json:
        print(json.dumps(result.as_json(), indent=2))
    else:
        print(format_score(result, show_mistakes=args.mistakes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
