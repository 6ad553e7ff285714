"""Home Assistant's templates with a home's names: strict tier 0, the baseline, sampling."""

from __future__ import annotations

import pytest
from hassil.intents import TextSlotList

from slm_mesh.services.home.model import Home, parse_home
from slm_mesh.services.intent.hass_lists import hass_slot_lists
from slm_mesh.services.intent.templates import (
    HassilBaseline,
    TemplateMatcher,
    TrainingSentence,
    sample_training_sentences,
)

HOME_YAML = """
floors:
  - {name: Downstairs, id: downstairs, aliases: [ground floor]}
areas:
  - {name: Kitchen, id: kitchen, floor: downstairs}
  - {name: Lounge, id: lounge, floor: downstairs, aliases: [living room]}
entities:
  - {name: Pendant, id: light.pendant, area: kitchen, aliases: [ceiling light]}
  - {name: Floor Lamp, id: light.floor_lamp, area: lounge}
  - {name: Kettle, id: switch.kettle, area: kitchen}
  - {name: Lounge Blinds, id: cover.blinds, area: lounge, attributes: {device_class: blind}}
"""


@pytest.fixture(scope="module")
def home() -> Home:
    return parse_home(HOME_YAML)


@pytest.fixture(scope="module")
def baseline(home: Home) -> HassilBaseline:
    return HassilBaseline(home=home)


@pytest.fixture(scope="module")
def matcher(baseline: HassilBaseline) -> TemplateMatcher:
    return baseline.templates


@pytest.fixture(scope="module")
def sentences(home: Home) -> list[TrainingSentence]:
    drawn: list[TrainingSentence] = sample_training_sentences(home, max_per_intent=60, seed=7)
    return drawn


def _values(slot_list: object) -> list[tuple[str, object, object]]:
    assert isinstance(slot_list, TextSlotList)
    return [(v.text_in.text, v.value_out, v.context) for v in slot_list.values]  # type: ignore[attr-defined]


def test_slot_lists_hold_canonical_names_and_entity_context(home: Home) -> None:
    lists = hass_slot_lists(home)
    names = _values(lists["name"])
    assert ("Pendant", "Pendant", {"domain": "light"}) in names
    assert ("ceiling light", "Pendant", {"domain": "light"}) in names
    assert ("Lounge Blinds", "Lounge Blinds", {"domain": "cover", "device_class": "blind"}) in names
    assert ("living room", "Lounge", None) in _values(lists["area"])
    assert ("ground floor", "Downstairs", None) in _values(lists["floor"])


def test_strict_match_gives_canonical_slots(matcher: TemplateMatcher) -> None:
    result = matcher.match("turn on the ceiling light")
    assert result is not None
    assert (result.intent, result.slots) == ("HassTurnOn", {"name": "Pendant"})
    assert (result.tier, result.confidence, result.reason) == ("template", 1.0, "strict template")

    result = matcher.match("switch off the lights in the living room")
    assert result is not None
    assert (result.intent, result.slots) == ("HassTurnOff", {"area": "Lounge", "domain": "light"})


def test_the_requesting_area_fills_the_area_slot(matcher: TemplateMatcher, home: Home) -> None:
    result = matcher.match("lights off", area=home.find_area("living room"))
    assert result is not None
    assert (result.intent, result.slots) == ("HassTurnOff", {"area": "Lounge", "domain": "light"})


def test_whole_numbers_come_back_as_int(matcher: TemplateMatcher) -> None:
    result = matcher.match("set the floor lamp to 40 percent")
    assert result is not None
    assert result.slots == {"name": "Floor Lamp", "brightness": 40}
    assert isinstance(result.slots["brightness"], int)


def test_a_sentence_no_template_covers_gives_none(matcher: TemplateMatcher) -> None:
    assert matcher.match("boil the kettle") is None
    assert matcher.match("why does my boiler make a banging noise") is None


def test_baseline_fuzzy_stage_catches_what_strict_templates_miss(
    baseline: HassilBaseline,
) -> None:
    result = baseline.match("boil the kettle")
    assert (result.intent, result.slots) == ("HassTurnOn", {"name": "Kettle"})
    assert (result.tier, result.reason) == ("template", "fuzzy n-gram")
    assert baseline.match("turn on the pendant").reason == "strict template"


def test_baseline_answers_none_when_nothing_matches(baseline: HassilBaseline) -> None:
    result = baseline.match("why does my boiler make a banging noise")
    assert (result.intent, result.tier, result.slots) == (None, "none", {})


def test_sampling_is_reproducible_and_capped(home: Home, sentences: list[TrainingSentence]) -> None:
    assert sample_training_sentences(home, max_per_intent=60, seed=7) == sentences
    assert sample_training_sentences(home, max_per_intent=60, seed=8) != sentences
    per_intent: dict[str, int] = {}
    for sentence in sentences:
        per_intent[sentence.intent] = per_intent.get(sentence.intent, 0) + 1
    assert max(per_intent.values()) == 60
    assert {"HassTurnOn", "HassTurnOff", "HassLightSet", "HassStartTimer"} <= set(per_intent)


def test_samples_use_the_homes_names_and_fixed_slots(sentences: list[TrainingSentence]) -> None:
    assert any("living room" in s.text and s.slots.get("area") == "Lounge" for s in sentences)
    assert any("ceiling light" in s.text and s.slots.get("name") == "Pendant" for s in sentences)
    assert any(s.intent == "HassTurnOn" and s.slots.get("domain") == "light" for s in sentences)
    assert any(s.slots.get("device_class") == "blind" for s in sentences)


def test_samples_respect_what_a_template_requires_of_an_entity(
    sentences: list[TrainingSentence],
) -> None:
    light_names = {"Pendant", "Floor Lamp"}
    light_set = [s for s in sentences if s.intent == "HassLightSet" and "name" in s.slots]
    assert light_set
    assert {s.slots["name"] for s in light_set} <= light_names


@pytest.mark.slow
def test_samples_are_read_back_by_the_strict_matcher(
    matcher: TemplateMatcher, home: Home, sentences: list[TrainingSentence]
) -> None:
    lounge = home.find_area("Lounge")
    checked = sentences[::25]
    agree = 0
    for sentence in checked:
        result = matcher.match(sentence.text) or matcher.match(sentence.text, area=lounge)
        if result is not None and result.intent == sentence.intent:
            agree += all(result.slots.get(k) == v for k, v in sentence.slots.items())
    assert agree >= 0.9 * len(checked)


def test_unknown_language_is_refused(home: Home) -> None:
    with pytest.raises(ValueError, match="no intents for language 'xx'"):
        TemplateMatcher(home=home, language="xx")
