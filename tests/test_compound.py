"""Compound commands split into parts the intent service can answer one by one."""

from __future__ import annotations

import pytest

from slm_mesh.services.router.compound import MAX_PARTS, split_command


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
