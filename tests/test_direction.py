"""The words decide which way a lock or a cover moves; the classifier may not overrule them."""

from __future__ import annotations

import pytest

from slm_mesh.services.intent.direction import intent_the_words_say, said_direction


@pytest.mark.parametrize(
    ("text", "direction"),
    [
        ("lock the front door", True),
        ("we're heading out, lock up the back", True),
        ("secure the side gate", True),
        ("Unlock the front door", False),
        ("let me in through the front door", False),
        ("unbolt the gate", False),
        ("is the front door locked", None),
        ("lock the front door, no wait, unlock it", None),
        ("turn off the porch light", None),
    ],
)
def test_the_direction_said(text: str, direction: bool | None) -> None:
    assert said_direction(text, "lock") is direction


@pytest.mark.parametrize(
    ("text", "direction"),
    [
        ("open the patio awning", True),
        ("raise the kitchen blinds", True),
        ("close the garage door", False),
        ("shut the gate", False),
        ("roll out the patio awning, the sun's brutal", True),
        ("bring the awning in, it's getting windy", False),
        ("retract the awning", False),
        ("lower the lounge blinds", False),
        ("is the garage door open", True),
        ("open the blinds, no, close them", None),
        ("turn on the porch light", None),
    ],
)
def test_the_direction_said_to_a_cover(text: str, direction: bool | None) -> None:
    assert said_direction(text, "cover") is direction


def test_a_script_kicked_off_runs_and_one_stopped_stops() -> None:
    assert said_direction("kick off my morning routine", "script") is True
    assert said_direction("stop the bedtime script", "script") is False
    assert said_direction("turn off the morning routine", "script") is None


def test_a_turn_against_the_words_becomes_the_turn_they_say() -> None:
    assert intent_the_words_say("lock the front door", "HassTurnOff", {"domain": "lock"}) == (
        "HassTurnOn"
    )
    assert intent_the_words_say("unlock the front door", "HassTurnOn", {"domain": "lock"}) == (
        "HassTurnOff"
    )
    assert intent_the_words_say("open the patio awning", "HassTurnOff", {"domain": "cover"}) == (
        "HassTurnOn"
    )
    assert intent_the_words_say("shut the garage door", "HassTurnOn", {"domain": "cover"}) == (
        "HassTurnOff"
    )


@pytest.mark.parametrize(
    ("text", "intent", "domain"),
    [
        ("lock the front door", "HassTurnOn", "lock"),
        ("lock the front door", "HassGetState", "lock"),
        ("turn off the lock screen", "HassTurnOff", "light"),
        ("open the awning", "HassTurnOn", "cover"),
        ("is the front door locked", "HassTurnOff", "lock"),
    ],
)
def test_agreeing_answers_other_intents_and_other_domains_stay(
    text: str, intent: str, domain: str
) -> None:
    assert intent_the_words_say(text, intent, {"domain": domain}) == intent
