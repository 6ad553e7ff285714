"""The loss curves as a PNG: both curves, the best point and the over-fitting point marked."""

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
        best, overfitting = curves.best, curves.overfitting
        if best is not None:
            axes.axvline(best.epoch, color="green", linestyle="--", linewidth=1)
            axes.annotate(
                f"best: {best.validation:.4f}\n(weights kept)",
                (best.epoch, best.validation),
                textcoords="offset points",
                xytext=(8, 12),
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
