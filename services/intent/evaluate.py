"""Scoring intent recognition on labelled cases (the shape of dev_examples.yaml).

Scoring follows the cases file: the intent must match; every listed slot must match
(case-insensitive, numbers by value); extra slots are not penalised. Out-of-scope cases
have `intent: null`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from slm_mesh.services.contracts.intent import IntentRequest, IntentResult
from slm_mesh.services.errors import SlmMeshError


@dataclass(frozen=True)
class Case:
    text: str
    intent: str | None
    slots: dict[str, Any] = field(default_factory=dict)
    area: str | None = None


@dataclass(frozen=True)
class Score:
    name: str
    cases: int
    intent_accuracy: float
    slot_accuracy: float
    """In-scope cases whose listed slots are all right."""
    oos_precision: float
    oos_recall: float
    in_scope_lost: float
    """In-scope cases that got no intent at all."""
    confusion: dict[tuple[str, str], int]
    """(expected, got) -> count, mistakes only; "-" stands for no intent."""
    by_tier: dict[str, int]
    mistakes: list[tuple[Case, IntentResult]]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cases": self.cases,
            "intent_accuracy": _rounded(self.intent_accuracy),
            "slot_accuracy": _rounded(self.slot_accuracy),
            "oos_precision": _rounded(self.oos_precision),
            "oos_recall": _rounded(self.oos_recall),
            "in_scope_lost": _rounded(self.in_scope_lost),
            "by_tier": self.by_tier,
            "confusion": [
                {"expected": e, "got": g, "count": n} for (e, g), n in self.confusion.items()
            ],
        }


def _rounded(value: float) -> float | None:
    return None if value != value else round(value, 4)


def load_cases(path: Path) -> list[Case]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise SlmMeshError(f"{path}: cannot read cases ({err})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise SlmMeshError(f"{path}: expected a mapping with a `cases` list")
    cases = []
    for index, item in enumerate(data["cases"]):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise SlmMeshError(f"{path}: case {index + 1} needs a `text`")
        context = item.get("context") or {}
        cases.append(
            Case(
                text=item["text"],
                intent=item.get("intent"),
                slots=dict(item.get("slots") or {}),
                area=context.get("area"),
            )
        )
    return cases


def slot_matches(expected: Any, got: Any) -> bool:
    if isinstance(expected, list):
        return any(slot_matches(option, got) for option in expected)
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        try:
            return float(got) == float(expected)
        except (TypeError, ValueError):
            return False
    return str(expected).strip().casefold() == str(got).strip().casefold()


def case_slots_right(case: Case, result: IntentResult) -> bool:
    return all(
        name in result.slots and slot_matches(value, result.slots[name])
        for name, value in case.slots.items()
    )


def score(
    name: str,
    cases: Sequence[Case],
    recognize: Callable[[Sequence[IntentRequest]], list[IntentResult]],
) -> Score:
    results = recognize([IntentRequest(text=case.text, area=case.area) for case in cases])
    in_scope = [(c, r) for c, r in zip(cases, results, strict=True) if c.intent is not None]
    out_scope = [(c, r) for c, r in zip(cases, results, strict=True) if c.intent is None]
    right = [c.intent == r.intent for c, r in zip(cases, results, strict=True)]
    true_oos = sum(r.intent is None for _, r in out_scope)
    predicted_oos = sum(r.intent is None for r in results)
    confusion: Counter[tuple[str, str]] = Counter(
        (c.intent or "-", r.intent or "-")
        for c, r in zip(cases, results, strict=True)
        if c.intent != r.intent
    )
    return Score(
        name=name,
        cases=len(cases),
        intent_accuracy=_ratio(sum(right), len(cases)),
        slot_accuracy=_ratio(
            sum(c.intent == r.intent and case_slots_right(c, r) for c, r in in_scope),
            len(in_scope),
        ),
        oos_precision=_ratio(true_oos, predicted_oos),
        oos_recall=_ratio(true_oos, len(out_scope)),
        in_scope_lost=_ratio(sum(r.intent is None for _, r in in_scope), len(in_scope)),
        confusion=dict(confusion.most_common()),
        by_tier=dict(Counter(r.tier + (":fuzzy" if "fuzzy" in r.reason else "") for r in results)),
        mistakes=[
            (c, r)
            for c, r in zip(cases, results, strict=True)
            if c.intent != r.intent or (c.intent is not None and not case_slots_right(c, r))
        ],
    )


def _ratio(part: int, whole: int) -> float:
    """NaN when there is nothing to measure, shown as "n/a"."""
    return part / whole if whole else float("nan")


def _percent(value: float) -> str:
    return "n/a" if value != value else f"{value:.1%}"


def format_scores(scores: Sequence[Score], *, show_mistakes: int = 0) -> str:
    rows = [
        ("", *(s.name for s in scores)),
        ("cases", *(str(s.cases) for s in scores)),
        ("intent accuracy", *(_percent(s.intent_accuracy) for s in scores)),
        ("slots right (in scope)", *(_percent(s.slot_accuracy) for s in scores)),
        ("out-of-scope precision", *(_percent(s.oos_precision) for s in scores)),
        ("out-of-scope recall", *(_percent(s.oos_recall) for s in scores)),
        ("in-scope given no intent", *(_percent(s.in_scope_lost) for s in scores)),
        ("answered by tier", *(_tiers(s) for s in scores)),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    for s in scores:
        if s.confusion:
            lines.append(f"\nconfusion ({s.name}): expected -> got")
            lines += [f"  {e} -> {g}: {n}" for (e, g), n in list(s.confusion.items())[:15]]
        for case, result in s.mistakes[:show_mistakes]:
            lines.append(
                f"  ✗ {case.text!r}: expected {case.intent} {case.slots}, "
                f"got {result.intent} {result.slots} ({result.tier}, {result.reason})"
            )
    return "\n".join(lines)


def _tiers(score: Score) -> str:
    return " ".join(f"{tier}={n}" for tier, n in sorted(score.by_tier.items()))
