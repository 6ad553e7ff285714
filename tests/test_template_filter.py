"""The template filter may skip hassil only where hassil would have found nothing."""

from __future__ import annotations

import pytest
from hassil import Intents, recognize_best
from hassil.util import remove_skip_words

from slm_mesh.services.home.model import Home
from slm_mesh.services.intent.hass_lists import NameFilter, hass_slot_lists, load_intents
from slm_mesh.services.intent.template_filter import SkipWords, TemplateFilter
from slm_mesh.services.intent.templates import TemplateMatcher, sample_training_sentences


@pytest.fixture(scope="module")
def template_filter(demo_home: Home) -> TemplateFilter:
    return TemplateFilter(load_intents("en"), hass_slot_lists(demo_home))


def _hassil_matches(text: str, home: Home) -> bool:
    intents = load_intents("en")
    lists = hass_slot_lists(home)
    names = NameFilter(names=lists["name"])(text)
    found = recognize_best(text, intents, slot_lists={**lists, "name": names}, language="en")
    return found is not None


@pytest.mark.slow
def test_every_sentence_hassil_matches_passes_the_filter(
    template_filter: TemplateFilter, demo_home: Home
) -> None:
    sampled = [s.text for s in sample_training_sentences(demo_home, max_per_intent=6, seed=3)]
    spoken = [
        *sampled,
        *(f"please {text}" for text in sampled[::3]),
        *(f"{text.upper()}, thanks." for text in sampled[1::3]),
    ]
    intents = list(load_intents("en").intents)
    passed = [text for text in spoken if _hassil_matches(text, demo_home)]
    assert len(passed) > 0.6 * len(spoken)
    assert [text for text in passed if template_filter.narrowed(text, intents) is None] == []


@pytest.mark.parametrize(
    "text",
    ["it's pitch black in the study", "what's a good recipe for banana bread", "boil the kettle"],
)
def test_sentences_no_template_covers_are_ruled_out_cheaply(
    template_filter: TemplateFilter, demo_home: Home, text: str
) -> None:
    assert not _hassil_matches(text, demo_home)
    assert template_filter.narrowed(text, ["HassTurnOn", "HassTurnOff", "HassGetState"]) is None


def _required_domains(intents: Intents | None) -> set[str]:
    blocks = [
        data for intent in (intents.intents.values() if intents else ()) for data in intent.data
    ]
    return {str(data.requires_context.get("domain")) for data in blocks if data.requires_context}


def test_blocks_needing_a_domain_that_no_named_entity_has_are_dropped(
    template_filter: TemplateFilter,
) -> None:
    text = "is the porch light on"
    unchecked = template_filter.narrowed(text, ["HassGetState"])
    for_a_light = template_filter.narrowed(
        text, ["HassGetState"], entity_contexts=[{"domain": "light"}]
    )
    assert "binary_sensor" in _required_domains(unchecked)
    assert _required_domains(for_a_light) <= {"light"}
    assert for_a_light is not None  # "is [the] <name> {on_off_states}" needs no domain
    sensor = {"domain": "binary_sensor", "device_class": "motion"}
    assert "binary_sensor" in _required_domains(
        template_filter.narrowed(text, ["HassGetState"], entity_contexts=[sensor])
    )


def test_a_filtered_intent_that_the_language_lacks_matches_nothing(
    template_filter: TemplateFilter,
) -> None:
    assert template_filter.narrowed("turn on the pendant", ["NoSuchIntent"]) is None


def test_skip_words_are_tried_both_removed_and_kept() -> None:
    texts = {
        text.casefold()
        for text in SkipWords(load_intents("en").skip_words).texts_to_try(
            "Please, turn on the lights!"
        )
    }
    assert {"please turn on the lights", "turn on the lights"} <= texts


@pytest.mark.parametrize("text", [
    "please turn on the lights please", "can you please please turn it off", "please",
    "could you turn it on for me", "i'd like to i want the lights on",
    "turn on the lights", "would you kindly open the blinds", "  please   ", "",
])  # fmt: skip
@pytest.mark.parametrize(("start", "end"), [(True, True), (True, False), (False, True)])
def test_skip_words_are_removed_exactly_as_hassil_removes_them(
    text: str, start: bool, end: bool
) -> None:
    skip_words = load_intents("en").skip_words
    ours = SkipWords(skip_words).removed(text, start=start, end=end)
    assert ours == remove_skip_words(text, skip_words, False, start=start, end=end)


def test_no_skip_words_leave_the_text_alone() -> None:
    assert SkipWords([]).removed("please turn on the lights") == "please turn on the lights"


@pytest.mark.slow
def test_hassil_given_only_the_narrowed_templates_answers_as_with_all(demo_home: Home) -> None:
    narrowed = TemplateMatcher(home=demo_home)
    alone = TemplateMatcher(home=demo_home, narrow=False)
    lounge = demo_home.find_area("Lounge")
    sampled = [s.text for s in sample_training_sentences(demo_home, max_per_intent=4, seed=5)]
    spoken = [*sampled, "it's pitch black in the study", "please turn on the pendant"]
    for area in (None, lounge):
        assert [narrowed.match(t, area=area) for t in spoken] == [
            alone.match(t, area=area) for t in spoken
        ]
