"""The distillation itself (recipe 1), with PyTorch: kept apart from `distil_intent`, whose
arguments and data every `slm-mesh` start reads without the factory extra."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from slm_mesh.factory.card import CURVES_FILE, ModelCard, Source, write_card
from slm_mesh.factory.distil_intent import RECIPE, distil_data, kept_layers, student_of
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
from slm_mesh.factory.intent_scores import intent_scores
from slm_mesh.factory.measure import Candidate, side_by_side
from slm_mesh.factory.output import default_output, staged_folder
from slm_mesh.factory.plot import plot_curves
from slm_mesh.factory.training import Trainer, seed_everything, split, training_settings
from slm_mesh.services.home.files import demo_home_path
from slm_mesh.services.progress import Progress
from slm_mesh.services.runtime.manifest import build_manifest, write_manifest
from slm_mesh.services.runtime.model_store import file_sha256
from slm_mesh.services.runtime.precision import prepare_model
from slm_mesh.services.settings import Settings

SERVED_MAX_LENGTH = 256
_BATCH = 64


def distil(args: argparse.Namespace, settings: Settings) -> int:
    training = training_settings(args)
    seed_everything(training.seed)
    teacher_dir = (args.teacher or teacher_folder()).expanduser()
    teacher = load_encoder(teacher_dir)
    teacher.eval()
    tokenizer = training_tokenizer(teacher_dir)
    homes = args.train_home or [demo_home_path()]
    data = distil_data(
        homes, args.general_text, max_sentences=args.max_sentences, seed=training.seed
    )
    try:
        train, validation = split(
            data.texts, validation_share=args.validation_share, seed=training.seed
        )
    except ValueError as err:
        raise FactoryError(f"too little data to distil: {err}") from None
    print(
        f"distil-intent: {len(train)} sentences to train on, {len(validation)} held out "
        f"for validation ({args.validation_share:.0%}, seed {training.seed})",
        flush=True,
    )
    targets = _teacher_vectors(teacher, tokenizer, data.texts)
    student = student_of(teacher, args.layers, ffn_share=args.ffn_share)

    def loss_of(texts: Sequence[str]) -> torch.Tensor:
        inputs = encode(tokenizer, list(texts))
        vectors = mean_pool(student(**inputs).last_hidden_state, inputs["attention_mask"])
        wanted = torch.stack([targets[text] for text in texts])
        return distillation_loss(vectors, wanted, similarity_weight=args.similarity_weight)

    def validation_loss() -> float:
        total = 0.0
        for start in range(0, len(validation), _BATCH):
            batch = validation[start : start + _BATCH]
            total += float(loss_of(batch)) * len(batch)
        return total / len(validation)

    run = Trainer(
        student,
        train=train,
        loss_of=loss_of,
        validation_loss=validation_loss,
        settings=training,
        say=lambda line: print(f"distil-intent: {line}", flush=True),
        label="distil-intent",
    ).run()
    target = (args.out or default_output(settings.cache_dir, args.name)).expanduser()
    with staged_folder(target, force=args.force) as folder:
        export_onnx(
            student,
            folder,
            tokenizer=teacher_dir / "tokenizer.json",
            output="last_hidden_state",
            max_length=SERVED_MAX_LENGTH,
        )
        if (teacher_dir / "sentence_bert_config.json").is_file():
            shutil.copyfile(
                teacher_dir / "sentence_bert_config.json", folder / "sentence_bert_config.json"
            )
        write_manifest(
            folder,
            build_manifest(
                folder,
                name=args.name,
                task="encoder",
                licence=TEACHER_LICENCE,
                description=f"{args.layers}-layer student of {teacher_dir.name}, distilled",
            ),
        )
        plot_curves(run.curves, folder / CURVES_FILE, title=f"{args.name}: distillation loss")
        card = ModelCard(
            name=args.name,
            recipe=RECIPE,
            task="encoder",
            summary=(
                f"A {args.layers}-layer sentence encoder (layers "
                f"{kept_layers(teacher.config.num_hidden_layers, args.layers)} of the teacher's "
                f"{teacher.config.num_hidden_layers}"
                + (
                    f", feed-forward width pruned to {args.ffn_share:.0%}"
                    if args.ffn_share < 1
                    else ""
                )
                + f"), distilled from {teacher_dir} on the teacher's mean-pooled sentence vectors."
            ),
            licence=TEACHER_LICENCE,
            sources=_sources(teacher_dir, homes, args.general_text),
            seed=training.seed,
            split={
                "train": len(train),
                "validation": len(validation),
                "rule": f"seeded shuffle, {args.validation_share:.0%} held out",
                "sources": data.sources,
            },
            hyperparameters={
                **training.as_json(),
                "layers": args.layers,
                "ffn_share": args.ffn_share,
                "loss": "1 - cosine + similarity_weight * MSE of the in-batch cosine matrices",
                "similarity_weight": args.similarity_weight,
            },
            curves=run.curves,
            size={
                "parameters": parameter_count(student),
                "teacher_parameters": parameter_count(teacher),
                "model.onnx_bytes": (folder / "model.onnx").stat().st_size,
                "precision": "fp32 file; int8 at load where the CPU runs it faster",
            },
            notes=[run.note],
        )
        if not args.no_latency:
            card.latency = _latency(settings, teacher, teacher_dir, folder, validation)
        if args.eval_cases:
            card.metrics = _accuracy(settings, folder, args)
        write_card(folder, card)
    print(target)
    return 0


def distillation_loss(
    vectors: torch.Tensor, wanted: torch.Tensor, *, similarity_weight: float
) -> torch.Tensor:
    """Each sentence's vector pointing where the teacher's does (1 - cosine), plus the
    batch's sentences as alike to each other as the teacher finds them: the head reads
    the vectors' geometry, not their size."""
    distance = (1 - torch.nn.functional.cosine_similarity(vectors, wanted)).mean()
    if similarity_weight == 0:
        return distance
    mine = torch.nn.functional.normalize(vectors, dim=1)
    theirs = torch.nn.functional.normalize(wanted, dim=1)
    similarities = torch.nn.functional.mse_loss(mine @ mine.T, theirs @ theirs.T)
    return distance + similarity_weight * similarities


def _teacher_vectors(teacher: Any, tokenizer: Any, texts: list[str]) -> dict[str, torch.Tensor]:
    """The teacher's sentence vector of every text, computed once."""
    by_length = sorted(texts, key=len)
    vectors: dict[str, torch.Tensor] = {}
    starts = range(0, len(by_length), _BATCH)
    with (
        Progress("distil-intent: the teacher's sentence vectors", total=len(starts)) as bar,
        torch.no_grad(),
    ):
        for start in starts:
            batch = by_length[start : start + _BATCH]
            inputs = encode(tokenizer, batch)
            pooled = mean_pool(teacher(**inputs).last_hidden_state, inputs["attention_mask"])
            vectors.update(zip(batch, pooled, strict=True))
            bar.advance()
    return vectors


def _sources(teacher_dir: Path, homes: list[Path], general: list[Path]) -> list[Source]:
    sources = [Source.of("teacher weights", teacher_dir / WEIGHTS, licence=TEACHER_LICENCE)]
    sources += [Source.of("home", path, licence="this project's data") for path in homes]
    sources += [Source.of("general text", path, licence="see its SOURCE") for path in general]
    return sources


def _latency(
    settings: Settings, teacher: Any, teacher_dir: Path, student_dir: Path, texts: list[str]
) -> dict[str, Any]:
    """Raw ONNX Runtime p50 and batched rate of teacher and student, fp32 and int8, in one run."""
    teacher_onnx = _teacher_export(settings, teacher, teacher_dir)
    student_onnx = student_dir / "model.onnx"
    tokenizer = teacher_dir / "tokenizer.json"
    candidates = []
    for precision in ("fp32", "int8"):
        for role, model in (("teacher", teacher_onnx), ("student", student_onnx)):
            path = prepare_model(model, precision=precision, cache_dir=settings.cache_dir)
            candidates.append(Candidate(f"{role} {precision}", path, tokenizer))
    with Progress("distil-intent: timing teacher and student side by side"):
        timings = side_by_side(candidates, texts)
    result: dict[str, Any] = {name: t.as_json() for name, t in timings.items()}
    for precision in ("fp32", "int8"):
        teacher_t, student_t = timings[f"teacher {precision}"], timings[f"student {precision}"]
        result[f"p50 ratio student/teacher {precision}"] = round(
            student_t.p50_ms / teacher_t.p50_ms, 3
        )
        result[f"batched rate ratio student/teacher {precision}"] = round(
            student_t.per_second / teacher_t.per_second, 3
        )
    result["int8 student bytes"] = candidates[3].model.stat().st_size
    return result


def _teacher_export(settings: Settings, teacher: Any, teacher_dir: Path) -> Path:
    """The teacher's own fp32 ONNX export, made once per teacher (the baseline timed)."""
    folder = settings.cache_dir / "factory" / f".teacher-{file_sha256(teacher_dir / WEIGHTS)[:16]}"
    model = folder / "model.onnx"
    if not model.is_file():
        export_onnx(
            teacher,
            folder,
            tokenizer=teacher_dir / "tokenizer.json",
            output="last_hidden_state",
            max_length=SERVED_MAX_LENGTH,
        )
    return model


def _accuracy(settings: Settings, student_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The evaluation sets scored with the teacher (the service's minilm) and the student."""
    home = args.eval_home or demo_home_path()
    with Progress("distil-intent: scoring the teacher and the student on the evaluation sets"):
        return {
            "teacher (minilm)": intent_scores(
                settings, plugin="minilm", home=home, cases=args.eval_cases
            ),
            "student": intent_scores(
                settings, plugin=f"path:{student_dir}", home=home, cases=args.eval_cases
            ),
        }
