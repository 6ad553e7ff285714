"""Training and validation loss as a run goes, and when to stop it.

Pure bookkeeping: the training loop adds a point at each evaluation; the best point is the
lowest validation loss (the weights a recipe keeps, unless it asked for the average of the
late weights instead), and the over-fitting point is the first evaluation after it where
validation loss turned up while training loss kept falling.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class LossPoint:
    step: int
    """Optimizer steps taken so far."""
    epoch: float
    """Epochs completed so far (fractions when evaluated within an epoch)."""
    train: float
    """Mean training loss since the previous point."""
    validation: float


@dataclass(frozen=True)
class AveragedWeights:
    """The average of the weights evaluated after `after_epoch`, kept instead of the best."""

    evaluations: int
    after_epoch: float
    validation: float


@dataclass
class Curves:
    points: list[LossPoint] = field(default_factory=list)
    averaged: AveragedWeights | None = None

    def add(self, point: LossPoint) -> None:
        for name in ("train", "validation"):
            if not math.isfinite(getattr(point, name)):
                raise ValueError(f"{name} loss is {getattr(point, name)} at step {point.step}")
        self.points.append(point)

    @property
    def best(self) -> LossPoint | None:
        """The point with the lowest validation loss (the first, on a tie)."""
        return min(self.points, key=lambda p: p.validation, default=None)

    @property
    def overfitting(self) -> LossPoint | None:
        """The first point after the best where validation loss rose, if the run went on."""
        best = self.best
        if best is None:
            return None
        after = self.points[self.points.index(best) + 1 :]
        return next((p for p in after if p.validation > best.validation), None)

    def as_json(self) -> dict[str, Any]:
        best, overfitting = self.best, self.overfitting
        return {
            "points": [asdict(p) for p in self.points],
            "best_step": best.step if best else None,
            "overfitting_step": overfitting.step if overfitting else None,
            "averaged": asdict(self.averaged) if self.averaged else None,
        }

    def describe(self, point: LossPoint) -> str:
        """One printed line per evaluation."""
        mark = ""
        if point is self.best:
            mark = "  (best so far)"
        elif point is self.overfitting:
            mark = "  (validation loss turned up: over-fitting from here)"
        return (
            f"epoch {point.epoch:.2f}  step {point.step}: train loss {point.train:.4f}, "
            f"validation loss {point.validation:.4f}{mark}"
        )


@dataclass
class EarlyStopping:
    """Stop after `patience` evaluations without a lower validation loss."""

    patience: int
    min_delta: float = 0.0
    _best: float = math.inf
    _waited: int = 0

    def __post_init__(self) -> None:
        if self.patience < 1:
            raise ValueError(f"patience must be at least 1, got {self.patience}")

    def improved(self, validation_loss: float) -> bool:
        """Record one evaluation; True when it is the best so far."""
        if validation_loss < self._best - self.min_delta:
            self._best = validation_loss
            self._waited = 0
            return True
        self._waited += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self._waited >= self.patience
