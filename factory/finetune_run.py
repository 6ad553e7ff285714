"""The fine-tuning itself (recipe 2), with PyTorch: kept apart from `finetune_sentiment`,
whose arguments every `slm-mesh` start reads without the factory extra."""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from slm_mesh.factory.card import CURVES_FILE, ModelCard, Source, write_card
from slm_mesh.factory.encoders import (
    TEACHER_LICENCE,
    WEIGHTS,
    encode,
    load_encoder,
    mean_pool,
    parameter_count,
    teacher_folder,
    training_tokenizer,
)
from slm_mesh.factory.errors import FactoryError
from slm_mesh.factory.export import export_onnx
from slm_mesh.factory.finetune_sentiment import RECIPE, read_training
from slm_mesh.factory.measure import Candidate, side_by_side
from slm_mesh.factory.output import default_output, staged_folder
from slm_mesh.factory.plot import plot_curves
from slm_mesh.factory.training import Trainer, seed_everything, split, training_settings
from slm_mesh.services.progress import Progress
from slm_mesh.services.runtime.manifest import build_manifest, write_manifest
from slm_mesh.services.runtime.precision import quantize_int8
from slm_mesh.services.sentiment.cases import Case
from slm_mesh.services.sentiment.evaluate import ExportedClassifier, score
from slm_mesh.services.sentiment.service import from_export
from slm_mesh.services.settings import Settings

#: Index order of the logits, as SST-2 classifiers name them.
LABELS = ("negative", "positive")
SERVED_MAX_LENGTH = 256
_BATCH = 64


class MeanPooledClassifier(torch.nn.Module):
    """An encoder, the mean of its token vectors, and a linear layer to the labels."""

    def __init__(self, encoder: Any, labels: Sequence[str]) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = torch.nn.Dropout(0.1)
        self.classifier = torch.nn.Linear(encoder.config.hidden_size, len(labels))
        self.config = encoder.config
        self.config.id2label = dict(enumerate(labels))
        self.config.label2id = {label: i for i, label in enumerate(labels)}

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> SimpleNamespace:
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        return SimpleNamespace(
            logits=self.classifier(self.dropout(mean_pool(hidden, attention_mask)))
        )


def finetune(args: argparse.Namespace, settings: Settings) -> int:
    training = training_settings(args)
    seed_everything(training.seed)
    cases = read_training(args.train)
    if args.max_sentences is not None and len(cases) > args.max_sentences:
        cases = random.Random(training.seed).sample(cases, args.max_sentences)
    try:
        train, validation = split(cases, validation_share=args.validation_share, seed=training.seed)
    except ValueError as err:
        raise FactoryError(f"too little data in {args.train}: {err}") from None
    print(
        f"finetune-sentiment: {len(train)} sentences to train on, {len(validation)} held out "
        f"for validation ({args.validation_share:.0%}, seed {training.seed})",
        flush=True,
    )
    base_dir = (args.base or teacher_folder()).expanduser()
    tokenizer = training_tokenizer(base_dir)
    model = MeanPooledClassifier(load_encoder(base_dir), LABELS)
    target_of = {label: i for i, label in enumerate(LABELS)}
    accuracies: list[float] = []

    def logits_of(batch: Sequence[Case]) -> torch.Tensor:
        inputs = encode(tokenizer, [case.text for case in batch])
        return model(**inputs).logits  # type: ignore[no-any-return]

    def loss_of(batch: Sequence[Case]) -> torch.Tensor:
        wanted = torch.tensor([target_of[case.label] for case in batch])
        return torch.nn.functional.cross_entropy(logits_of(batch), wanted)

    def validation_loss() -> float:
        total, right = 0.0, 0
        for start in range(0, len(validation), _BATCH):
            batch = validation[start : start + _BATCH]
            logits = logits_of(batch)
            wanted = torch.tensor([target_of[case.label] for case in batch])
            total += float(torch.nn.functional.cross_entropy(logits, wanted, reduction="sum"))
            right += int((logits.argmax(dim=1) == wanted).sum())
        accuracies.append(right / len(validation))
        return total / len(validation)

    def say(line: str) -> None:
        print(f"finetune-sentiment: {line}; validation accuracy {accuracies[-1]:.1%}", flush=True)

    run = Trainer(
        model,
        train=train,
        loss_of=loss_of,
        validation_loss=validation_loss,
        settings=training,
        say=say,
        label="finetune-sentiment",
    ).run()
    curves = run.curves
    # The accuracy of the weights kept: the best point's, or the average's (scored last).
    kept = -1 if curves.averaged or not curves.best else curves.points.index(curves.best)
    target = (args.out or default_output(settings.cache_dir, args.name)).expanduser()
    with staged_folder(target, force=args.force) as folder:
        fp32 = export_onnx(
            model,
            folder,
            tokenizer=base_dir / "tokenizer.json",
            output="logits",
            max_length=SERVED_MAX_LENGTH,
        )
        with Progress("finetune-sentiment: int8 conversion"):
            int8 = quantize_int8(fp32, folder / "model_quantized.onnx")
        write_manifest(
            folder,
            build_manifest(
                folder,
                name=args.name,
                task="classifier",
                licence=TEACHER_LICENCE,
                description=f"{base_dir.name} fine-tuned end to end on {args.train.name}",
            ),
        )
        plot_curves(run.curves, folder / CURVES_FILE, title=f"{args.name}: cross-entropy")
        card = ModelCard(
            name=args.name,
            recipe=RECIPE,
            task="classifier",
            summary=(
                f"{base_dir} fine-tuned end to end (every weight) with a mean-pooled linear "
                f"head on {args.train}; int8 by ONNX Runtime's dynamic quantization."
            ),
            licence=TEACHER_LICENCE,
            sources=[
                Source.of("base weights", base_dir / WEIGHTS, licence=TEACHER_LICENCE),
                Source.of("training sentences", args.train, licence="see its SOURCE"),
            ],
            seed=training.seed,
            split={
                "train": len(train),
                "validation": len(validation),
                "rule": f"seeded shuffle, {args.validation_share:.0%} held out",
            },
            hyperparameters={**training.as_json(), "head": "mean pooling, dropout 0.1, linear"},
            curves=run.curves,
            metrics=_metrics(settings, folder, validation, args.eval_cases, accuracies[kept]),
            size={
                "parameters": parameter_count(model),
                "model.onnx_bytes (fp32)": fp32.stat().st_size,
                "model_quantized.onnx_bytes (int8, served)": int8.stat().st_size,
                "precision": "int8",
            },
            notes=[run.note],
        )
        if not args.no_latency:
            texts = [case.text for case in validation]
            tokenizer_file = folder / "tokenizer.json"
            with Progress("finetune-sentiment: timing fp32 and int8 side by side"):
                timings = side_by_side(
                    [
                        Candidate("fp32", fp32, tokenizer_file),
                        Candidate("int8", int8, tokenizer_file),
                    ],
                    texts,
                )
            card.latency = {name: t.as_json() for name, t in timings.items()}
        write_card(folder, card)
    print(target)
    return 0


def _metrics(
    settings: Settings,
    folder: Path,
    validation: Sequence[Case],
    more: Sequence[Path],
    torch_accuracy: float,
) -> dict[str, Any]:
    """Accuracy of the finished int8 plugin, read as the service reads it."""
    from slm_mesh.services.sentiment.cases import load_cases

    classify, _ = from_export(folder, cache_dir=settings.cache_dir)
    classifier = ExportedClassifier(classify)
    metrics: dict[str, Any] = {
        "validation accuracy (PyTorch fp32, the weights kept)": round(100 * torch_accuracy, 2),
        "validation accuracy (int8 plugin)": round(100 * score(classifier, validation).accuracy, 2),
    }
    for path in more:
        result = score(classifier, load_cases(path))
        metrics[f"{path.name} accuracy (int8 plugin)"] = round(100 * result.accuracy, 2)
    metrics["validation positives share"] = round(
        float(np.mean([case.label == "positive" for case in validation])), 3
    )
    return metrics
