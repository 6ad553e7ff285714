"""The words decide which way a lock moves; the classifier may not overrule them."""

from __future__ import annotations

import pytest

from slm_mesh.services.intent.lock_direction import contradicts_words, said_direction


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


def test_an_unlock_answer_to_lock_words_contradicts_them() -> None:
    assert contradicts_words("lock the front door", "HassTurnOff", {"domain": "lock"})
    assert contradicts_words("unlock the front door", "HassTurnOn", {"domain": "lock"})


def test_agreeing_answers_and_other_domains_pass() -> None:
    assert not contradicts_words("lock the front door", "HassTurnOn", {"domain": "lock"})
    assert not contradicts_words("lock the front door", "HassGetState", {"domain": "lock"})
    assert not contradicts_words("turn off the lock screen", "HassTurnOff", {"domain": "light"})
