"""Home Assistant's intents and fuzzy matcher, loaded as it loads them, and the home as
hassil slot lists.

Home Assistant fills the `name`, `area` and `floor` lists from its registries at run time;
here they come from the home file. Values are canonical names, so an alias ("living room")
reads back as the area it names ("Lounge"), and each entity name carries the context
(`domain`, `device_class`) that the templates' `requires_context` checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from hassil import Intents
from hassil.fuzzy import FuzzyNgramMatcher, SlotCombinationInfo
from hassil.intents import SlotList, TextSlotList
from hassil.ngram import Sqlite3NgramModel
from hassil.util import normalize_text, remove_punctuation
from home_assistant_intents import (
    get_fuzzy_config,
    get_fuzzy_language,
    get_intents,
    get_languages,
)

from slm_mesh.services.home.model import Entity, Home

#: Words to put where a template has a wildcard, when sampling training sentences.
WILDCARD_VALUES: Mapping[str, Sequence[str]] = {
    "shopping_list_item": ("bread", "milk", "eggs", "coffee", "apples", "toilet paper", "rice"),
    "todo_list_item": ("call the plumber", "buy stamps", "water the plants", "pay rent"),
    "message": ("dinner is ready", "time for bed", "the taxi is here", "we're leaving now"),
    "search_query": ("jazz", "the beatles", "relaxing music", "bohemian rhapsody", "the news"),
    "timer_name": ("pizza", "laundry", "pasta", "tea"),
    "timer_command": ("turn off the lights", "turn on the fan"),
    "zone": ("home", "work", "the office"),
}
#: Stand-in for a wildcard list that `WILDCARD_VALUES` does not know.
DEFAULT_WILDCARD_VALUES = ("something",)


@cache
def load_intents(language: str) -> Intents:
    """Home Assistant's sentence templates for `language`, parsed once per process.

    Their regular expressions are compiled here too (0.4 s for English), which hassil
    would otherwise do lazily inside the first requests that reach each template.
    """
    data = get_intents(language)
    if not data:
        known = ", ".join(sorted(get_languages()))
        raise ValueError(f"Home Assistant has no intents for language {language!r} ({known})")
    intents = Intents.from_dict(data)
    for intent in intents.intents.values():
        for intent_data in intent.data:
            rules = {**intents.expansion_rules, **intent_data.expansion_rules}
            for sentence in intent_data.sentences:
                sentence.compile(rules)
    return intents


ENTITY_CONTEXT_KEYS = ("domain", "device_class")
"""The keys of `entity_context`: only a matched entity name brings them into a match."""


def entity_context(entity: Entity) -> dict[str, Any]:
    """What hassil checks against `requires_context`, as Home Assistant builds it."""
    context: dict[str, Any] = {"domain": entity.domain}
    if entity.device_class:
        context["device_class"] = entity.device_class
    return context


def hass_slot_lists(home: Home) -> dict[str, TextSlotList]:
    """The `name`, `area` and `floor` lists of `home`, valued by canonical names."""
    names = [
        (text, entity.name, entity_context(entity))
        for entity in home.entities
        for text in entity.names
    ]
    areas = [(text, area.name) for area in home.areas for text in (area.name, *area.aliases)]
    floors = [(text, floor.name) for floor in home.floors for text in (floor.name, *floor.aliases)]
    return {
        "name": TextSlotList.from_tuples(names, allow_template=False, name="name"),
        "area": TextSlotList.from_tuples(areas, allow_template=False, name="area"),
        "floor": TextSlotList.from_tuples(floors, allow_template=False, name="floor"),
    }


def normalized(text: str) -> str:
    """Text as Home Assistant compares it when it narrows the name list."""
    return remove_punctuation(normalize_text(text)).strip().casefold()


class NameFilter:
    """Narrows the `name` list to the names that occur in a sentence.

    Home Assistant does the same before strict matching (a trie of exposed names): a name
    that is not in the text cannot match, and fewer values make hassil faster.
    """

    def __init__(self, *, names: TextSlotList) -> None:
        self._values = [(normalized(_text_of(value.text_in)), value) for value in names.values]

    def __call__(self, text: str) -> TextSlotList:
        wanted = normalized(text)
        return TextSlotList(
            name="name", values=[value for key, value in self._values if key and key in wanted]
        )


def _text_of(expression: Any) -> str:
    return str(getattr(expression, "text", ""))


def fuzzy_matcher(
    intents: Intents, slot_lists: dict[str, SlotList], language: str
) -> FuzzyNgramMatcher | None:
    """Built as Home Assistant's default agent builds it; None where the language has none."""
    info = get_fuzzy_language(language)
    if info is None:
        return None
    config = get_fuzzy_config()
    return FuzzyNgramMatcher(
        intents=intents,
        intent_models={
            intent: Sqlite3NgramModel(
                order=model.order,
                words={word: str(word_id) for word, word_id in model.words.items()},
                database_path=model.database_path,
            )
            for intent, model in info.ngram_models.items()
        },
        intent_slot_list_names=config.slot_list_names,
        slot_combinations={
            intent: {
                combo: SlotCombinationInfo(
                    context_area=combo_info.context_area,
                    name_domains=set(combo_info.name_domains) if combo_info.name_domains else None,
                )
                for combo, combo_info in combos.items()
            }
            for intent, combos in config.slot_combinations.items()
        },
        domain_keywords=info.domain_keywords,
        stop_words=info.stop_words,
        slot_lists=slot_lists,
    )
