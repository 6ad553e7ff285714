"""Compound commands split into parts the intent service can answer one by one."""

from __future__ import annotations

import pytest

from slm_mesh.services.contracts.intent import IntentResult, SlotValue
from slm_mesh.services.router.compound import MAX_PARTS, is_compound, split_command


def test_two_commands_joined_by_and_are_two_parts() -> None:
    assert split_command("turn off the kitchen lights and lock the front door") == [
        "turn off the kitchen lights",
        "lock the front door",
    ]


def test_verbs_outside_the_leading_list_still_split() -> None:
    assert split_command("kill the lights and boil the kettle") == [
        "kill the lights",
        "boil the kettle",
    ]


def test_a_part_without_a_verb_borrows_the_first_verb() -> None:
    assert split_command("turn off the kitchen lights and the fan") == [
        "turn off the kitchen lights",
        "turn off the fan",
    ]


def test_a_polite_verb_is_borrowed_whole() -> None:
    assert split_command("please switch on the porch light and the kettle") == [
        "please switch on the porch light",
        "please switch on the kettle",
    ]


def test_a_part_with_its_own_verb_keeps_it() -> None:
    assert split_command("open the blinds and play some jazz") == [
        "open the blinds",
        "play some jazz",
    ]


def test_without_a_leading_verb_nothing_is_borrowed() -> None:
    assert split_command("kitchen lights and the fan") == ["kitchen lights", "the fan"]


@pytest.mark.parametrize(
    "text",
    [
        "turn off the lights, then lock the door",
        "turn off the lights and then lock the door",
        "turn off the lights; lock the door",
        "turn off the lights then lock the door",
        "Turn off the lights AND lock the door",
    ],
)
def test_commas_semicolons_and_then_separate_parts(text: str) -> None:
    assert [part.lower() for part in split_command(text) or []] == [
        "turn off the lights",
        "lock the door",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "turn off the kitchen lights",
        "turn off the lights and",
        "and",
        "",
        "turn on the sandwich maker",  # "and" inside a word is no separator
        "set the brand new lamp to 50 percent",
    ],
)
def test_nothing_to_split_is_none(text: str) -> None:
    assert split_command(text) is None


def test_more_than_the_most_parts_is_not_split() -> None:
    text = " and ".join(f"turn on lamp {n}" for n in range(MAX_PARTS + 1))
    assert split_command(text) is None


def test_exactly_the_most_parts_is_split() -> None:
    text = " and ".join(f"turn on lamp {n}" for n in range(MAX_PARTS))
    assert split_command(text) == [f"turn on lamp {n}" for n in range(MAX_PARTS)]


def _result(
    text: str, intent: str | None, confidence: float = 1.0, **slots: SlotValue
) -> IntentResult:
    return IntentResult(text, intent, dict(slots), confidence, tier="slm")


LIGHTS_OFF = _result("turn off the kitchen lights", "HassTurnOff", area="Kitchen", domain="light")
LOCK = _result("lock the front door", "HassTurnOn", name="Front Lock", domain="lock")


def test_two_sure_commands_joined_by_and_are_a_compound() -> None:
    whole = _result(
        "turn off the kitchen lights and lock the front door",
        "HassTurnOff",
        0.9,
        area="Kitchen",
        domain="light",
    )
    assert is_compound(whole, [LIGHTS_OFF, LOCK])


def test_two_sure_commands_set_apart_by_a_comma_are_a_compound() -> None:
    whole = _result("turn off the kitchen lights, lock the front door", "HassTurnOff", 0.9)
    assert is_compound(whole, [LIGHTS_OFF, LOCK])


def test_a_command_beside_its_reason_is_one_command() -> None:
    whole = _result(
        "drop the living room blinds, the sun's in my eyes",
        "HassTurnOff",
        0.47,
        name="Living Room Blinds",
    )
    blinds = _result("drop the living room blinds", "HassTurnOff", 0.97, name="Living Room Blinds")
    reason = _result("the sun's in my eyes", "HassTurnOn", 0.88, domain="light")
    assert not is_compound(whole, [blinds, reason])


def test_a_part_the_whole_already_says_is_not_a_second_command() -> None:
    whole = _result("hold it and pause the music", "HassMediaPause", 1.0, domain="media_player")
    hold = _result("hold it", "HassMediaPause", 0.82)
    pause = _result("pause the music", "HassMediaPause", 1.0, domain="media_player")
    assert not is_compound(whole, [hold, pause])


def test_never_mind_or_a_part_not_understood_keeps_the_whole() -> None:
    whole = _result("ok and unpause the telly", "HassMediaUnpause", 0.92)
    unpause = _result("unpause the telly", "HassMediaUnpause", 0.97)
    assert not is_compound(whole, [_result("ok", "HassNevermind", 0.84), unpause])
    assert not is_compound(whole, [_result("ok", None, 0.3), unpause])


def test_a_sentence_a_template_matched_whole_is_one_command() -> None:
    whole = IntentResult(
        "turn on the kitchen and lounge lights", "HassTurnOn", {}, 1.0, tier="template"
    )
    assert not is_compound(whole, [LIGHTS_OFF, LOCK])
