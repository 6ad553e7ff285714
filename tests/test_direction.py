"""The words decide which way a lock or a cover moves; the classifier may not overrule them."""

from __future__ import annotations

import pytest

from slm_mesh.services.intent.direction import contradicts_words, said_direction


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
    assert said_direction(text) is direction


@pytest.mark.parametrize(
    ("text", "direction"),
    [
        ("open the patio awning", True),
        ("raise the kitchen blinds", True),
        ("close the garage door", False),
        ("shut the gate", False),
        ("lower the lounge blinds", False),
        ("is the garage door open", True),
        ("open the blinds, no, close them", None),
        ("turn on the porch light", None),
    ],
)
def test_the_direction_said_to_a_cover(text: str, direction: bool | None) -> None:
    assert said_direction(text, "cover") is direction


def test_an_unlock_answer_to_lock_words_contradicts_them() -> None:
    assert contradicts_words("lock the front door", "HassTurnOff", {"domain": "lock"})
    assert contradicts_words("unlock the front door", "HassTurnOn", {"domain": "lock"})


def test_agreeing_answers_and_other_domains_pass() -> None:
    assert not contradicts_words("lock the front door", "HassTurnOn", {"domain": "lock"})
    assert not contradicts_words("lock the front door", "HassGetState", {"domain": "lock"})
    assert not contradicts_words("turn off the lock screen", "HassTurnOff", {"domain": "light"})
    assert not contradicts_words("open the awning", "HassTurnOn", {"domain": "cover"})


def test_a_close_answer_to_open_words_contradicts_them() -> None:
    assert contradicts_words("open the patio awning", "HassTurnOff", {"domain": "cover"})
    assert contradicts_words("shut the garage door", "HassTurnOn", {"domain": "cover"})
