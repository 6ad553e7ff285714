"""Labelled sentences in a TSV file (columns `text` and `label`), for training and scoring."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from slm_mesh.services.errors import SlmMeshError
from slm_mesh.services.sentiment.labels import LABELS, Label


@dataclass(frozen=True)
class Case:
    text: str
    label: Label


def load_cases(path: Path) -> list[Case]:
    """Every row of a UTF-8 TSV with a `text` and a `label` column, in file order.

    Quotes are plain characters (the movie reviews are full of them), so a field may not
    contain a tab or a line break.
    """
    try:
        with path.open(encoding="utf-8", newline="") as file:
            reader = csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE)
            missing = {"text", "label"} - set(reader.fieldnames or ())
            if missing:
                raise SlmMeshError(
                    f"{path}: the first line must name the columns `text` and `label` "
                    f"(tab-separated); missing {sorted(missing)}"
                )
            rows = list(reader)
    except (OSError, UnicodeDecodeError) as err:
        raise SlmMeshError(f"{path}: cannot read cases ({err})") from None
    cases = []
    for line, row in enumerate(rows, start=2):
        text, label = (row["text"] or "").strip(), (row["label"] or "").strip()
        if not text:
            raise SlmMeshError(f"{path}:{line}: empty `text`")
        if label not in LABELS:
            raise SlmMeshError(f"{path}:{line}: `label` must be one of {LABELS}, got {label!r}")
        cases.append(Case(text=text, label=cast(Label, label)))
    if not cases:
        raise SlmMeshError(f"{path}: no cases below the header line")
    return cases
