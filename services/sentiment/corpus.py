"""The training sentences, movie reviews and our feedback, and the folds they are dealt into."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import yaml

from slm_mesh.services.errors import SlmMeshError
from slm_mesh.services.sentiment.cases import Case
from slm_mesh.services.sentiment.labels import LABELS

FEEDBACK_PATH = Path(__file__).with_name("data") / "feedback_train.yaml"


def load_feedback(path: Path) -> list[Case]:
    """The sentences of a YAML file with a list per label (`positive:`, `negative:`)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise SlmMeshError(f"{path}: cannot read feedback sentences ({err})") from None
    if not isinstance(data, dict) or set(data) != set(LABELS):
        raise SlmMeshError(f"{path}: expected a mapping with exactly the keys {LABELS}")
    cases: list[Case] = []
    for label in LABELS:
        texts = data[label]
        if not isinstance(texts, list) or not all(isinstance(t, str) and t for t in texts):
            raise SlmMeshError(f"{path}: `{label}` must be a list of sentences")
        cases.extend(Case(text=text, label=label) for text in texts)
    return cases


def fold_numbers(cases: Sequence[Case], folds: int, seed: int) -> np.ndarray:
    """int [n]: the fold (0 to folds - 1) of each case; each label is dealt out evenly."""
    if folds < 2:
        raise ValueError(f"folds must be at least 2 (one to fit, one to validate), got {folds}")
    rng = random.Random(seed)
    numbers = np.zeros(len(cases), dtype=np.int64)
    for label in LABELS:
        members = [i for i, case in enumerate(cases) if case.label == label]
        rng.shuffle(members)
        numbers[members] = np.arange(len(members)) % folds
    return numbers
