"""The measuring half of `factory report`: sizes, timings and accuracies of every variant."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from slm_mesh.factory.intent_scores import intent_scores
from slm_mesh.factory.measure import Candidate, side_by_side
from slm_mesh.factory.report import Precision, Variant
from slm_mesh.plugins.minilm import PLUGIN as MINILM
from slm_mesh.services.home.files import demo_home_path
from slm_mesh.services.intent.evaluate import load_cases as load_intent_cases
from slm_mesh.services.progress import Progress
from slm_mesh.services.runtime.classifier import SequenceClassifier
from slm_mesh.services.runtime.model_store import ModelFiles, resolve_model_dir
from slm_mesh.services.runtime.onnx_session import cpu_int8_support
from slm_mesh.services.runtime.precision import choose_precision, prepare_model
from slm_mesh.services.sentiment.cases import load_cases as load_sentiment_cases
from slm_mesh.services.sentiment.evaluate import Classifier, ExportedClassifier, score
from slm_mesh.services.sentiment.service import from_export
from slm_mesh.services.settings import Settings

PRECISIONS: tuple[Precision, ...] = ("fp32", "int8")
#: Timed when no evaluation set is given: what a home's devices send.
_SENTENCES = (
    "turn on the kitchen lights",
    "set the living room to 21 degrees",
    "is the front door locked",
    "dim the bedroom lamp to thirty percent please",
    "what's the weather like tomorrow",
    "close the garage door",
    "that was exactly what I wanted, thanks",
    "start a ten minute timer for the pasta",
)


def measure(found: Sequence[Variant], *, settings: Settings, args: argparse.Namespace) -> None:
    """Fill every variant's rows: files, then one timing run for all, then accuracy."""
    served = choose_precision(settings.precision, int8_dot_product=cpu_int8_support())
    candidates: list[Candidate] = []
    for variant in found:
        if variant.task == "generator":
            variant.rows.append(_generator_row(variant))
            continue
        files = _files(variant)
        parameters = _parameters(files.model)
        for precision in PRECISIONS:
            model = _model_at(variant, files, precision, settings.cache_dir)
            row: dict[str, Any] = {
                "variant": variant.name,
                "task": variant.task,
                "precision": precision + (" (auto here)" if precision == served else ""),
                "file_mb": round(model.stat().st_size / 1e6, 1),
                "parameters": parameters,
            }
            variant.rows.append(row)
            candidates.append(Candidate(f"{variant.name} {precision}", model, files.tokenizer))
    texts = _texts(args)
    with Progress(f"factory report: timing {len(candidates)} models side by side"):
        timings = side_by_side(candidates, texts, rounds=args.rounds)
    for variant in found:
        for row in variant.rows:
            timing = timings.get(f"{variant.name} {row['precision'].split()[0]}")
            if timing is None:
                continue
            baseline = timings[f"minilm {row['precision'].split()[0]}"]
            row.update(
                p50_ms=round(timing.p50_ms, 3),
                p50_ratio=round(timing.p50_ms / baseline.p50_ms, 3),
                batched_per_second=round(timing.per_second, 1),
            )
    for variant in found:
        _accuracy(variant, settings=settings, args=args)


def _files(variant: Variant) -> ModelFiles:
    if variant.folder is None:
        return MINILM.model_files()
    return resolve_model_dir(variant.folder, prefer_quantized=False)


def _model_at(variant: Variant, files: ModelFiles, precision: Precision, cache_dir: Path) -> Path:
    """The model file that runs at `precision`: a classifier's own int8 file, or the one
    the services convert to (the same conversion, cached)."""
    if variant.task == "classifier" and variant.folder is not None:
        quantized = variant.folder / "model_quantized.onnx"
        return quantized if precision == "int8" and quantized.is_file() else files.model
    return prepare_model(files.model, precision=precision, cache_dir=cache_dir)


def _parameters(model: Path) -> int:
    """Weights in the graph: every initializer's elements (int8 or float alike)."""
    import math

    import onnx

    graph = onnx.load(str(model), load_external_data=False).graph
    return sum(math.prod(init.dims) for init in graph.initializer if len(init.dims) >= 1)


def _texts(args: argparse.Namespace) -> list[str]:
    texts = [case.text for path in args.eval_cases for case in load_intent_cases(path)]
    texts += [case.text for path in args.sentiment_cases for case in load_sentiment_cases(path)]
    return texts or list(_SENTENCES)


def _accuracy(variant: Variant, *, settings: Settings, args: argparse.Namespace) -> None:
    """Task accuracy per precision on the development sets, and the card's figure beside it."""
    for row in variant.rows:
        precision = row["precision"].split()[0]
        if variant.task == "encoder" and args.eval_cases:
            plugin = "minilm" if variant.folder is None else f"path:{variant.folder}"
            with Progress(f"factory report: {variant.name} ({precision}) on the intent sets"):
                scores = intent_scores(
                    settings.updated(precision=precision),
                    plugin=plugin,
                    home=args.eval_home or demo_home_path(),
                    cases=args.eval_cases,
                )
            row["accuracy"] = _joined({name: s["intent_accuracy"] for name, s in scores.items()})
            student = variant.card.get("metrics", {}).get("student", {})
            row["card_accuracy"] = _joined(
                {name: s.get("intent_accuracy") for name, s in student.items()}
            )
        elif variant.task == "classifier" and variant.folder is not None and args.sentiment_cases:
            row["accuracy"] = _joined(_sentiment_scores(variant.folder, precision, settings, args))
            metrics = variant.card.get("metrics", {})
            row["card_accuracy"] = _joined(
                {
                    path.name: metrics.get(f"{path.name} accuracy (int8 plugin)")
                    for path in args.sentiment_cases
                }
            )


def _sentiment_scores(
    folder: Path, precision: str, settings: Settings, args: argparse.Namespace
) -> dict[str, float]:
    classifier: Classifier
    if precision == "int8":
        classify, _ = from_export(folder, cache_dir=settings.cache_dir)
        classifier = ExportedClassifier(classify)
    else:
        classifier = _Fp32Classifier(folder, settings.cache_dir)
    return {
        path.name: round(100 * score(classifier, load_sentiment_cases(path)).accuracy, 2)
        for path in args.sentiment_cases
    }


class _Fp32Classifier:
    """A classifier folder's fp32 `model.onnx`, which the services never pick over int8."""

    def __init__(self, folder: Path, cache_dir: Path) -> None:
        self._model = SequenceClassifier(
            resolve_model_dir(folder, prefer_quantized=False), cache_dir=cache_dir
        )

    def classify(self, texts: Sequence[str]) -> list[Any]:
        from slm_mesh.services.contracts.sentiment import SentimentResult

        labels = self._model.labels
        return [
            SentimentResult(
                text=text,
                label=labels[int(row.argmax())],
                scores={label: float(p) for label, p in zip(labels, row, strict=True)},
            )
            for text, row in zip(texts, self._model.classify(texts), strict=True)
        ]


def _generator_row(variant: Variant) -> dict[str, Any]:
    assert variant.folder is not None  # the shipped default is an encoder
    size = sum(p.stat().st_size for p in variant.folder.rglob("*") if p.is_file())
    card = variant.card
    flat = {
        f"{group} {name}": value
        for group, values in card.get("metrics", {}).items()
        if isinstance(values, dict)
        for name, value in values.items()
    }
    accuracy = {
        name: value
        for name, value in flat.items()
        if name.startswith("guided ") and name.endswith(("intent_accuracy", "oos_acceptance"))
    }
    return {
        "variant": variant.name,
        "task": "generator",
        "precision": card.get("size", {}).get("precision", "int4"),
        "file_mb": round(size / 1e6, 1),
        "parameters": card.get("size", {}).get("parameters"),
        "card_accuracy": _joined(accuracy),
        "notes": [f"{variant.name}: a generator, timed by `slm-mesh bench code`, not here"],
    }


def _joined(values: dict[str, Any]) -> str | None:
    shown = [f"{name} {value}" for name, value in values.items() if value is not None]
    return "; ".join(shown) or None
