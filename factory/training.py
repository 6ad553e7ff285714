"""The training loop every recipe shares: seeded shuffles, AdamW with linear warm-up and
decay, evaluation on the validation split, early stopping, the best weights kept, or on
request the average of the weights evaluated late in the run instead (stochastic weight
averaging: the flat middle of the minimum the run circles, which often generalises better
than any one point on the path; its validation loss is reported beside the best point's).

PyTorch is imported where training starts, so recipes can declare their arguments
(`TrainingSettings`) without the factory extra installed.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from slm_mesh.factory.curves import AveragedWeights, Curves, EarlyStopping, LossPoint
from slm_mesh.factory.errors import FactoryError
from slm_mesh.services.progress import Progress

if TYPE_CHECKING:
    import torch

Example = TypeVar("Example")
Say = Callable[[str], None]


@dataclass(frozen=True)
class TrainingSettings:
    epochs: int = 4
    batch_size: int = 32
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_share: float = 0.1
    patience: int = 2
    """Evaluations without a better validation loss before the run stops."""
    evaluations_per_epoch: int = 1
    seed: int = 0
    average_from: float | None = None
    """Epoch from which the weights at each evaluation are averaged; None: no averaging."""

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "patience", "evaluations_per_epoch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        if self.average_from is not None and not 0 <= self.average_from < self.epochs:
            raise ValueError(
                f"average_from must be an epoch from 0 to below {self.epochs}, "
                f"got {self.average_from}"
            )

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainingRun:
    curves: Curves
    steps: int
    stopped_early: bool
    seconds: float

    @property
    def note(self) -> str:
        """One line for the model card."""
        early = " (stopped early)" if self.stopped_early else ""
        line = f"trained {self.steps} steps in {self.seconds:.0f} s{early}"
        averaged = self.curves.averaged
        if averaged is not None:
            line += (
                f"; kept the average of the {averaged.evaluations} weights evaluated after "
                f"epoch {averaged.after_epoch:g}, validation loss {averaged.validation:.4f}"
            )
        return line


def seed_everything(seed: int) -> None:
    """The same seed, the same run: Python's, NumPy's and PyTorch's generators, and
    PyTorch's deterministic kernels."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


class Trainer(Generic[Example]):
    """Train `model` on `train` examples, batched by `collate` and scored by `loss_of`."""

    def __init__(
        self,
        model: torch.nn.Module,
        *,
        train: Sequence[Example],
        loss_of: Callable[[Sequence[Example]], torch.Tensor],
        validation_loss: Callable[[], float],
        settings: TrainingSettings,
        say: Say,
        label: str,
    ) -> None:
        if not train:
            raise ValueError("no training examples")
        self.model = model
        self.train = train
        self.loss_of = loss_of
        self.validation_loss = validation_loss
        self.settings = settings
        self.say = say
        self.label = label

    def run(self) -> TrainingRun:
        """Train; the model ends with the weights of the best validation loss."""
        import torch

        settings = self.settings
        started = time.perf_counter()
        parameters = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(
            parameters, lr=settings.learning_rate, weight_decay=settings.weight_decay
        )
        per_epoch = math.ceil(len(self.train) / settings.batch_size)
        schedule = _linear_schedule(
            optimizer, total=per_epoch * settings.epochs, warmup_share=settings.warmup_share
        )
        evaluate_at = _evaluation_steps(per_epoch, settings.evaluations_per_epoch)
        curves, stopping = Curves(), EarlyStopping(settings.patience)
        best_state = _copy_state(self.model)
        average = _RunningAverage()
        order = torch.Generator().manual_seed(settings.seed)
        step, losses = 0, []
        for epoch in range(settings.epochs):
            shuffled = torch.randperm(len(self.train), generator=order).tolist()
            batches = [
                shuffled[i : i + settings.batch_size]
                for i in range(0, len(shuffled), settings.batch_size)
            ]
            label = f"{self.label}: epoch {epoch + 1}/{settings.epochs}"
            with Progress(label, total=per_epoch) as bar:
                for number, indices in enumerate(batches, start=1):
                    losses.append(self._step(indices, optimizer, parameters))
                    schedule.step()
                    step += 1
                    bar.advance()
                    if number not in evaluate_at:
                        continue
                    point = self._evaluate(step, epoch + number / per_epoch, losses)
                    losses = []
                    curves.add(point)
                    if stopping.improved(point.validation):
                        best_state = _copy_state(self.model)
                    if settings.average_from is not None and point.epoch > settings.average_from:
                        average.add(self.model)
                    self.say(curves.describe(point))
                    if stopping.should_stop:
                        break
            if stopping.should_stop:
                self.say(
                    f"stopped early: no lower validation loss in {settings.patience} evaluations"
                )
                break
        if average.count:
            curves.averaged = self._average(average, curves)
        else:
            self.model.load_state_dict(best_state)
        self.model.eval()
        return TrainingRun(
            curves=curves,
            steps=step,
            stopped_early=stopping.should_stop,
            seconds=time.perf_counter() - started,
        )

    def _average(self, average: _RunningAverage, curves: Curves) -> AveragedWeights:
        """Load the averaged weights and score them (the validation callback's last call)."""
        import torch

        average.load_into(self.model)
        self.model.eval()
        with torch.no_grad():
            validation = self.validation_loss()
        best = f" (best single evaluation {curves.best.validation:.4f})" if curves.best else ""
        self.say(
            f"the average of {average.count} evaluated weights, kept: validation loss "
            f"{validation:.4f}{best}"
        )
        return AveragedWeights(
            evaluations=average.count,
            after_epoch=self.settings.average_from or 0.0,
            validation=validation,
        )

    def _step(
        self, indices: list[int], optimizer: torch.optim.Optimizer, parameters: list[Any]
    ) -> float:
        """One optimizer step on the examples at `indices`; its loss."""
        import torch

        self.model.train()
        loss = self.loss_of([self.train[i] for i in indices])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        return float(loss.detach())

    def _evaluate(self, step: int, epoch: float, losses: list[float]) -> LossPoint:
        import torch

        self.model.eval()
        with torch.no_grad():
            validation = self.validation_loss()
        return LossPoint(
            step=step, epoch=round(epoch, 4), train=float(np.mean(losses)), validation=validation
        )


def _linear_schedule(
    optimizer: torch.optim.Optimizer, *, total: int, warmup_share: float
) -> torch.optim.lr_scheduler.LambdaLR:
    """The learning rate rises over the first steps, then falls linearly to zero."""
    import torch

    warmup = max(1, int(total * warmup_share))
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: min((step + 1) / warmup, max(0.0, (total - step) / (total - warmup + 1))),
    )


def _evaluation_steps(per_epoch: int, evaluations: int) -> set[int]:
    """Batch numbers (1-based) within an epoch after which the validation set is scored."""
    return {max(1, round(per_epoch * (k + 1) / evaluations)) for k in range(evaluations)}


def _copy_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


class _RunningAverage:
    """The uniform mean of a model's floating-point weights over the times it was added."""

    def __init__(self) -> None:
        self.count = 0
        self._mean: dict[str, torch.Tensor] = {}

    def add(self, model: torch.nn.Module) -> None:
        self.count += 1
        for name, value in model.state_dict().items():
            if name not in self._mean:
                self._mean[name] = value.detach().clone()
            elif value.is_floating_point():
                self._mean[name] += (value.detach() - self._mean[name]) / self.count

    def load_into(self, model: torch.nn.Module) -> None:
        model.load_state_dict(self._mean)


def split(
    items: Sequence[Example], *, validation_share: float, seed: int, minimum: int = 20
) -> tuple[list[Example], list[Example]]:
    """A seeded shuffle into (train, validation); too few items for both is an error the
    caller words for its data."""
    if not 0 < validation_share < 1:
        raise ValueError(f"validation_share must be between 0 and 1, got {validation_share}")
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    size = round(len(shuffled) * validation_share)
    if size < minimum // 4 or len(shuffled) - size < minimum:
        raise ValueError(
            f"{len(shuffled)} examples are too few to hold {validation_share:.0%} out for "
            f"validation and still train (need at least {minimum} to train on and "
            f"{minimum // 4} to validate on)"
        )
    return shuffled[size:], shuffled[:size]


def add_training_arguments(parser: argparse.ArgumentParser, defaults: TrainingSettings) -> None:
    """The options every recipe's training takes, with the recipe's own defaults."""
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument(
        "--patience",
        type=int,
        default=defaults.patience,
        help="evaluations without a better validation loss before the run stops",
    )
    parser.add_argument("--evaluations-per-epoch", type=int, default=defaults.evaluations_per_epoch)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--average-from",
        type=float,
        default=defaults.average_from,
        metavar="EPOCH",
        help="end with the average of the weights evaluated after this epoch (stochastic "
        "weight averaging) instead of the best single evaluation's",
    )


def training_settings(args: argparse.Namespace) -> TrainingSettings:
    """What `add_training_arguments` read; FactoryError for values no run can use."""
    try:
        return TrainingSettings(
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            patience=args.patience,
            evaluations_per_epoch=args.evaluations_per_epoch,
            seed=args.seed,
            average_from=args.average_from,
        )
    except ValueError as err:
        raise FactoryError(str(err)) from None
