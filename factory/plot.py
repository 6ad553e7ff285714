"""The loss curves as a PNG: both curves, the best point and the over-fitting point marked,
and the averaged weights' validation loss where a run kept those instead."""

from __future__ import annotations

from pathlib import Path

from slm_mesh.factory.curves import Curves


def plot_curves(curves: Curves, path: Path, *, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display: the PNG is the output
    import matplotlib.pyplot as plt

    epochs = [p.epoch for p in curves.points]
    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=110)
    try:
        axes.plot(epochs, [p.train for p in curves.points], "o-", label="training loss")
        axes.plot(epochs, [p.validation for p in curves.points], "s-", label="validation loss")
        best, overfitting, averaged = curves.best, curves.overfitting, curves.averaged
        if averaged is not None and epochs:
            # Scored at the run's end: one point, named in the legend.
            axes.plot(
                [epochs[-1]],
                [averaged.validation],
                "*",
                markersize=14,
                color="purple",
                label=f"average of the weights after epoch {averaged.after_epoch:g} "
                f"(kept): {averaged.validation:.4f}",
            )
        if best is not None:
            kept = "" if averaged else "\n(weights kept)"
            axes.axvline(best.epoch, color="green", linestyle="--", linewidth=1)
            axes.annotate(
                f"best: {best.validation:.4f}{kept}",
                (best.epoch, best.validation),
                textcoords="offset points",
                xytext=(-8, 12),  # left of its line, clear of the over-fitting note
                horizontalalignment="right",
                color="green",
            )
        if overfitting is not None:
            axes.axvline(overfitting.epoch, color="red", linestyle=":", linewidth=1)
            axes.annotate(
                "validation loss turns up:\nover-fitting",
                (overfitting.epoch, overfitting.validation),
                textcoords="offset points",
                xytext=(8, -28),
                color="red",
            )
        axes.set_xlabel("epoch")
        axes.set_ylabel("loss")
        axes.set_title(title)
        axes.grid(alpha=0.3)
        axes.legend()
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
    finally:
        plt.close(figure)
    return path
