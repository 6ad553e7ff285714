"""Slot values read from words: numbers, percentages, durations, colours, items, messages."""

import pytest

from slm_mesh.services.language import values
from slm_mesh.services.language.numbers import normalize, words_to_digits


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("set it to thirty", "set it to 30"),
        ("twenty-one degrees", "21 degrees"),
        ("one hundred percent", "100 percent"),
        ("a hundred and five", "105"),
        ("knock two minutes off", "knock 2 minutes off"),
        ("someone here often", "someone here often"),
    ],
)
def test_number_words_become_digits(text: str, expected: str) -> None:
    assert words_to_digits(text) == expected


def test_normalize_lowercases_and_drops_punctuation_but_keeps_decimals() -> None:
    assert normalize("Set it to 21.5 degrees, please!") == "set it to 21.5 degrees please"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("set the desk lamp to 40 percent", 40),
        ("dim it to 25%", 25),
        ("open the blinds halfway", 50),
        ("full brightness", 100),
        ("brightness here to highest", 100),
        ("the brightness to the lowest", 1),
        ("speaker volume to 25", 25),
        ("set it to 300 percent", None),
    ],
)
def test_percentages(text: str, expected: int | None) -> None:
    assert values.percentage(text) == expected


def test_temperatures_with_and_without_degrees() -> None:
    assert values.temperature("warm the study up to 21 degrees") == 21
    assert values.temperature("set the heat to 68") == 68
    assert values.temperature("make it 20.5°") == 20.5
    assert values.temperature_unit("set temperature to 30° c") == "celsius"
    assert values.temperature_unit("50 degrees fahrenheit") == "fahrenheit"
    assert values.temperature_unit("set it to 21") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("set a timer for 12 minutes", {"minutes": 12}),
        ("2 and a half minutes", {"minutes": 2, "seconds": 30}),
        ("half an hour", {"minutes": 30}),
        ("timer for a quarter of an hour please", {"minutes": 15}),
        ("3 quarters of an hour", {"minutes": 45}),
        ("an hour and a quarter", {"hours": 1, "minutes": 15}),
        ("2 hours and a quarter", {"hours": 2, "minutes": 15}),
        ("an hour and 5 minutes", {"hours": 1, "minutes": 5}),
        ("90 seconds", {"seconds": 90}),
    ],
)
def test_durations(text: str, expected: dict[str, int]) -> None:
    assert values.duration(text) == expected


def test_colours_items_and_messages() -> None:
    assert values.color("make the floor lamp purple") == "purple"
    assert values.color("make the floor lamp warm white") is None
    assert values.color_temperature("make the floor lamp warm white") == 2700
    assert values.color_temperature("set the desk lamp to daylight") == 6500
    assert values.color_temperature("color temperature to 3000 kelvin") == 3000
    assert values.color_temperature("make the lamp purple") is None
    assert values.list_item("add oat milk to the shopping list") == "oat milk"
    assert values.list_item("we're out of coffee") == "coffee"
    assert values.list_item("pop bin bags on the shopping list") == "bin bags"
    assert values.list_item("shopping list avocados") == "avocados"
    assert values.list_item("shopping list is empty") is None
    assert values.checked_item("check off apples from my shopping list") == "apples"
    assert values.checked_item("tick the milk off the shopping list") == "the milk"
    assert values.checked_item("cross eggs off") == "eggs"
    assert values.checked_item("pop bin bags on the shopping list") is None
    assert values.message("Broadcast that Dinner is ready!") == "Dinner is ready"
    assert values.message("shout up to everyone that we're leaving") == "we're leaving"
    assert values.message("call out to the house: dinner's up") == "dinner's up"
    assert values.message("turn on the lights") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("play the news", ("the news", None)),
        ("play jazz album", ("jazz", "album")),
        ("play the track yesterday", ("yesterday", "track")),
        (
            "play the bohemian rhapsody playlist on the kitchen radio",
            ("bohemian rhapsody", "playlist"),
        ),
        ("play songs in the key of life", ("songs in the key of life", None)),
        ("turn on the radio", None),
    ],
)
def test_what_to_play(text: str, expected: tuple[str, str | None] | None) -> None:
    assert values.media_search(text, is_place=lambda words: "radio" in words) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("is the porch light on", "on"),
        ("is the side gate locked or not", "locked"),
        ("is the garage door shut", "closed"),
        ("is the light on the porch on", "on"),
        ("did I remember to lock the front door", None),
    ],
)
def test_the_state_a_question_asks_about(text: str, expected: str | None) -> None:
    assert values.state(text) == expected
