"""Training the sentiment head: one command, the same head for the same data and seed.

    python -m slm_mesh.services.sentiment.training \\
        --movies ../shared/data/sentiment/movie_review_polarity_train.tsv

Movie-review sentences (Pang & Lee, 2005) teach polarity in general; our feedback sentences
(`data/feedback_train.yaml`) teach what people say to and about their home, which the reviews
never do. First a gate learns to tell the two kinds apart; then the sentences are dealt into
five folds and five heads are fitted, each validated on the fold it did not see and stopped
at its best validation loss. The shipped head is their average (bagging: +0.4 % on held-out
reviews against one head). Every sentence is scored once by the head that did not see it;
those scores set the temperature and give the validation figures that are printed and
written beside the head (`head.json`). On two cores it takes about 15 s, most of it the
encoder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from slm_mesh.services.errors import SlmMeshError
from slm_mesh.services.sentiment.calibration import (
    expected_calibration_error,
    fit_temperature,
    log_loss,
)
from slm_mesh.services.sentiment.cases import Case, load_cases
from slm_mesh.services.sentiment.classifier import Embed
from slm_mesh.services.sentiment.corpus import FEEDBACK_PATH, fold_numbers, load_feedback
from slm_mesh.services.sentiment.features import BUCKETS, TermMatrix, term_matrix
from slm_mesh.services.sentiment.fit import (
    Epoch,
    Examples,
    FitConfig,
    LinearFit,
    average,
    fit_linear,
)
from slm_mesh.services.sentiment.head import FORMAT, SentimentHead, default_head_path, sigmoid


@dataclass(frozen=True)
class TrainingConfig:
    seed: int = 0
    """Deals the sentences into folds; fitting itself has no randomness."""
    folds: int = 5
    feedback_weight: float = 3.0
    """One feedback sentence counts as this many reviews: there are 7 reviews to each."""
    fit: FitConfig = field(default_factory=FitConfig)


@dataclass(frozen=True)
class PartScore:
    """How the heads do on one part of the sentences, each scored by the head that did not
    see it."""

    sentences: int
    accuracy: float
    loss: float
    ece_before: float
    """Expected calibration error at temperature 1."""
    ece: float
    """Expected calibration error at the fitted temperature."""


@dataclass(frozen=True)
class Trained:
    head: SentimentHead
    folds: list[list[Epoch]]
    """Each fold's epochs, the last `patience` of them past its best."""
    gate_accuracy: dict[str, float]
    validation: dict[str, PartScore]
    """"movies", "feedback" and "all"."""
    seconds: float


@dataclass(frozen=True)
class _Sentences:
    """All training sentences as arrays, in one order: the movie reviews, then the feedback."""

    positive: np.ndarray
    dense: np.ndarray
    terms: TermMatrix
    weights: np.ndarray

    def examples(self, rows: np.ndarray) -> Examples:
        return Examples(
            dense=self.dense[rows],
            terms=self.terms.take(rows),
            positive=self.positive[rows],
            weights=self.weights[rows],
        )


def train(
    *,
    movies: Sequence[Case],
    feedback: Sequence[Case],
    embed: Embed,
    config: TrainingConfig = TrainingConfig(),
    say: Callable[[str], None] = print,
) -> Trained:
    """Fit the gate, then one head per fold; average them and calibrate out of fold."""
    started = time.perf_counter()
    cases = [*movies, *feedback]
    texts = [case.text for case in cases]
    home = np.concatenate([np.zeros(len(movies)), np.ones(len(feedback))])
    fold = np.concatenate(
        [fold_numbers(part, config.folds, config.seed) for part in (movies, feedback)]
    )
    say(
        f"sentences: {len(movies)} movie reviews and {len(feedback)} feedback, in "
        f"{config.folds} folds; each fold validates the head fitted on the others"
    )
    embeddings = np.asarray(embed(texts), dtype=np.float64)
    say(f"embedded in {time.perf_counter() - started:.1f} s")
    parts = {"movies": home == 0, "feedback": home == 1}
    gate = _fit_gate(embeddings, home, held=fold == 0, config=config.fit)
    gate_accuracy = {
        name: _accuracy(gate(embeddings[at & (fold == 0)]) - 0.5, home[at & (fold == 0)])
        for name, at in parts.items()
    }
    say("home gate on fold 1: " + "  ".join(f"{k} {_percent(v)}" for k, v in gate_accuracy.items()))
    home_share = gate(embeddings)
    sentences = _Sentences(
        positive=np.array([case.label == "positive" for case in cases], dtype=np.float64),
        dense=np.hstack([embeddings, home_share[:, None] * embeddings]),
        terms=_with_home_copies(term_matrix(texts), home_share),
        weights=1.0 + (config.feedback_weight - 1.0) * home,
    )
    out_of_fold = np.zeros(len(cases))
    fits = []
    histories = []
    for number in range(config.folds):
        name = f"fold {number + 1}/{config.folds}"
        held = np.flatnonzero(fold == number)
        validation = sentences.examples(held)
        fitted, epochs = fit_linear(
            sentences.examples(np.flatnonzero(fold != number)),
            validation,
            config.fit,
            report=_reporter(name, validation, home[held], say),
        )
        out_of_fold[held] = fitted.logits(validation.dense, validation.terms)
        best = min(epochs, key=lambda epoch: epoch.validation_loss)
        say(
            f"{name}: best epoch {best.number} of {len(epochs)}, validation loss "
            f"{best.validation_loss:.4f}, accuracy {_percent(best.validation_accuracy)}"
        )
        fits.append(fitted)
        histories.append(epochs)
    temperature = fit_temperature(out_of_fold, sentences.positive, sentences.weights)
    head = _head(average(fits), gate, dim=embeddings.shape[1], temperature=temperature)
    scores = {
        name: _part_score(out_of_fold[at], sentences.positive[at], temperature)
        for name, at in [*parts.items(), ("all", home >= 0)]
    }
    return Trained(
        head=head,
        folds=histories,
        gate_accuracy=gate_accuracy,
        validation=scores,
        seconds=time.perf_counter() - started,
    )


def _with_home_copies(terms: TermMatrix, gate: np.ndarray) -> TermMatrix:
    """Each term twice: as itself, and in the home buckets (past BUCKETS) at the gate's share.

    The copies learn what a word means said about a home: "smart" praises a film, and only
    names a plug.
    """
    return TermMatrix(
        rows=np.concatenate([terms.rows, terms.rows]),
        buckets=np.concatenate([terms.buckets, terms.buckets + BUCKETS]),
        values=np.concatenate([terms.values, terms.values * gate[terms.rows]]),
        texts=terms.texts,
    )


def _head(fitted: LinearFit, gate: _Gate, *, dim: int, temperature: float) -> SentimentHead:
    """The head that computes `fitted`'s logits from an embedding and a text."""
    home = fitted.term_buckets >= BUCKETS
    return SentimentHead(
        embedding_weights=fitted.dense_weights[:dim].astype(np.float32),
        home_weights=fitted.dense_weights[dim:].astype(np.float32),
        gate_weights=gate.weights.astype(np.float32),
        gate_bias=gate.bias,
        term_buckets=fitted.term_buckets[~home],
        term_weights=fitted.term_weights[~home].astype(np.float32),
        home_term_buckets=fitted.term_buckets[home] - BUCKETS,
        home_term_weights=fitted.term_weights[home].astype(np.float32),
        bias=fitted.bias,
        temperature=temperature,
    )


def _reporter(
    name: str, validation: Examples, home: np.ndarray, say: Callable[[str], None]
) -> Callable[[Epoch, np.ndarray], None]:
    """Prints each epoch's losses and accuracies, the validation's also per kind of sentence."""
    parts = {"movies": home == 0, "feedback": home == 1}

    def report(epoch: Epoch, logits: np.ndarray) -> None:
        by_part = "  ".join(
            f"{part} {_percent(_accuracy(logits[at], validation.positive[at]))}"
            for part, at in parts.items()
        )
        say(
            f"{name} epoch {epoch.number:3d}  train loss {epoch.train_loss:.4f} "
            f"acc {_percent(epoch.train_accuracy)}  |  validation loss "
            f"{epoch.validation_loss:.4f} acc {_percent(epoch.validation_accuracy)}  ({by_part})"
        )

    return report


@dataclass(frozen=True)
class _Gate:
    weights: np.ndarray
    bias: float

    def __call__(self, embeddings: np.ndarray) -> np.ndarray:
        return sigmoid(embeddings @ self.weights + self.bias)


def _fit_gate(
    embeddings: np.ndarray, home: np.ndarray, *, held: np.ndarray, config: FitConfig
) -> _Gate:
    """A logistic unit on the embedding: feedback-like (1) or movie review (0).

    Both kinds weigh the same in total, or the few feedback sentences would hardly count.
    """
    balance = np.where(home == 1, (home == 0).sum() / max((home == 1).sum(), 1), 1.0)
    no_words = term_matrix([""] * len(home))

    def examples(rows: np.ndarray) -> Examples:
        return Examples(
            dense=embeddings[rows],
            terms=no_words.take(rows),
            positive=home[rows],
            weights=balance[rows],
        )

    fitted, _ = fit_linear(examples(np.flatnonzero(~held)), examples(np.flatnonzero(held)), config)
    return _Gate(weights=fitted.dense_weights, bias=fitted.bias)


def _part_score(logits: np.ndarray, positive: np.ndarray, temperature: float) -> PartScore:
    return PartScore(
        sentences=len(logits),
        accuracy=_accuracy(logits, positive),
        loss=log_loss(logits / temperature, positive),
        ece_before=expected_calibration_error(sigmoid(logits), positive),
        ece=expected_calibration_error(sigmoid(logits / temperature), positive),
    )


def _accuracy(logits: np.ndarray, positive: np.ndarray) -> float:
    return float(np.mean((logits >= 0) == (positive >= 0.5)))


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def metadata(
    trained: Trained, *, config: TrainingConfig, sources: dict[str, Path], encoder: dict[str, str]
) -> dict[str, Any]:
    """What `head.json` records: where the head came from and how well it did."""
    return {
        "format": FORMAT,
        "seed": config.seed,
        "sources": {
            name: {"file": path.name, "sha256": _sha256(path)} for name, path in sources.items()
        },
        "encoder": encoder,
        "config": asdict(config),
        "folds": [
            {
                "epochs": len(epochs),
                "best_epoch": min(epochs, key=lambda e: e.validation_loss).number,
                "best_validation_loss": round(min(e.validation_loss for e in epochs), 4),
            }
            for epochs in trained.folds
        ],
        "temperature": round(trained.head.temperature, 4),
        "terms": int(trained.head.term_buckets.size),
        "home_terms": int(trained.head.home_term_buckets.size),
        "gate_accuracy": {k: round(v, 4) for k, v in trained.gate_accuracy.items()},
        "validation": {
            name: {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(s).items()}
            for name, s in trained.validation.items()
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m slm_mesh.services.sentiment.training", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--movies", type=Path, required=True, help="movie_review_polarity_train.tsv"
    )
    parser.add_argument(
        "--feedback", type=Path, default=FEEDBACK_PATH, help="feedback sentences (YAML)"
    )
    parser.add_argument(
        "--out", type=Path, default=default_head_path(), help="head file; its .json beside it"
    )
    parser.add_argument("--seed", type=int, default=0, help="deals the sentences into folds")
    parser.add_argument("--cache-dir", type=Path, default=None, help="encoder cache")
    args = parser.parse_args(argv)

    # Imported here: the encoder (ONNX Runtime) is needed to train, not to import this module.
    from slm_mesh.plugins.minilm import PLUGIN
    from slm_mesh.services.runtime.onnx_session import Embedder
    from slm_mesh.services.settings import Settings

    config = TrainingConfig(seed=args.seed)
    try:
        movies, feedback = load_cases(args.movies), load_feedback(args.feedback)
    except SlmMeshError as err:
        parser.error(str(err))
    embedder = Embedder(plugin=PLUGIN, cache_dir=args.cache_dir or Settings().cache_dir)
    trained = train(movies=movies, feedback=feedback, embed=embedder.embed, config=config)
    for name, score in trained.validation.items():
        print(
            f"out of fold, {name}: {score.sentences} sentences, accuracy "
            f"{_percent(score.accuracy)}, loss {score.loss:.4f}, expected calibration error "
            f"{score.ece_before:.3f} -> {score.ece:.3f} at temperature "
            f"{trained.head.temperature:.2f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    trained.head.save(args.out)
    info = metadata(
        trained,
        config=config,
        sources={"movies": args.movies, "feedback": args.feedback},
        encoder={
            "plugin": PLUGIN.name,
            "model_sha256": PLUGIN.model_sha256 or "",
            "precision": embedder.precision,
        },
    )
    args.out.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    print(
        f"{info['terms']} + {info['home_terms']} home terms; {args.out} "
        f"({args.out.stat().st_size / 1024:.0f} KiB) in {trained.seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
