"""Scoring rules of `slm-mesh eval`: listed slots only, numbers by value, case-insensitive."""

from collections.abc import Sequence

from slm_mesh.services.contracts.intent import IntentRequest, IntentResult
from slm_mesh.services.intent.evaluate import Case, format_scores, score, slot_matches

CASES = [
    Case("turn on the pendant", "HassTurnOn", {"name": "Pendant"}),
    Case("dim the desk lamp to 40", "HassLightSet", {"name": "desk lamp", "brightness": 40}),
    Case("banana bread", None),
    Case("tell me a joke", None),
]
ANSWERS = {
    "turn on the pendant": IntentResult("", "HassTurnOn", {"name": "Pendant", "domain": "light"}),
    "dim the desk lamp to 40": IntentResult(
        "", "HassLightSet", {"name": "Desk Lamp", "brightness": 40.0}
    ),
    "banana bread": IntentResult("", None),
    "tell me a joke": IntentResult("", "HassGetWeather"),
}


def answer(requests: Sequence[IntentRequest]) -> list[IntentResult]:
    return [ANSWERS[r.text] for r in requests]


def test_listed_slots_must_match_and_extra_slots_are_free() -> None:
    result = score("x", CASES, answer)
    assert result.intent_accuracy == 0.75
    assert result.slot_accuracy == 1.0
    assert (result.oos_precision, result.oos_recall, result.in_scope_lost) == (1.0, 0.5, 0.0)
    assert result.confusion == {("-", "HassGetWeather"): 1}


def test_numbers_compare_by_value_and_text_without_case() -> None:
    assert slot_matches(40, "40.0") and slot_matches("Desk Lamp", " desk lamp ")
    assert slot_matches(["Lounge", "Kitchen"], "kitchen")
    assert not slot_matches(40, "forty")


def test_a_measure_with_no_cases_reads_not_applicable() -> None:
    only_in_scope = score("x", CASES[:2], answer)
    assert "n/a" in format_scores([only_in_scope])
    assert only_in_scope.as_json()["oos_recall"] is None
