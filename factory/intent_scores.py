"""Intent accuracy of an encoder plugin on labelled sets, as `slm-mesh eval intent` scores
it: the head trained for the set's home over that encoder, then every case recognised."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from slm_mesh.services.home.model import load_home
from slm_mesh.services.intent.evaluate import load_cases, score
from slm_mesh.services.intent.service import build_recognizer
from slm_mesh.services.settings import Settings


def intent_scores(
    settings: Settings, *, plugin: str, home: Path, cases: Sequence[Path]
) -> dict[str, dict[str, Any]]:
    """Per cases file (by its name): intent and slot accuracy, out-of-scope recall (%)."""
    recognizer, _ = build_recognizer(settings.updated(plugin=plugin), home=load_home(home))
    scores = {}
    for path in cases:
        result = score(plugin, load_cases(path), recognizer.recognize_batch).as_json()
        scores[path.name] = {
            key: result[key] for key in ("cases", "intent_accuracy", "slot_accuracy", "oos_recall")
        }
    return scores
