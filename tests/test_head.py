"""The classifier head: learns separable classes, calibrates, and survives a save/load."""

from pathlib import Path

import numpy as np

from slm_mesh.services.intent.head import IntentHead, train_head


def blobs(seed: int = 0) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    centres = {"on": np.array([2.0, 0, 0, 0]), "off": np.array([-2.0, 0, 0, 0]),
               "oos": np.array([0, 2.0, 0, 0])}  # fmt: skip
    x, y = [], []
    for label, centre in centres.items():
        x.append(rng.normal(centre, 0.5, size=(200, 4)))
        y += [label] * 200
    return np.vstack(x).astype(np.float32), y


def test_the_head_learns_and_its_probabilities_sum_to_one(tmp_path: Path) -> None:
    x, y = blobs()
    head = train_head(x, y, hidden=16, epochs=100)
    probs = head.probabilities(x)
    predicted = [head.labels[i] for i in probs.argmax(axis=1)]
    assert np.mean([p == t for p, t in zip(predicted, y, strict=True)]) > 0.95
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert 0.25 <= head.temperature <= 8.0

    head.save(tmp_path / "head.npz")
    loaded = IntentHead.load(tmp_path / "head.npz")
    assert loaded.labels == head.labels and loaded.temperature == head.temperature
    np.testing.assert_allclose(loaded.probabilities(x), probs, rtol=1e-6)
