"""Random expansions of hassil templates with the home's own names.

hassil's own sampler walks every alternative in order, which explodes on long templates
and favours the first choices; training wants a few varied sentences per template, drawn
at random but reproducibly.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence

from hassil import parse_sentence
from hassil.expression import (
    Alternative,
    Expression,
    Group,
    ListReference,
    Permutation,
    TextChunk,
)

from slm_mesh.services.home.model import Home

#: Values for the lists that are not names in the home.
VALUE_LISTS: Mapping[str, Sequence[str]] = {
    "brightness": ("10", "20", "25", "30", "40", "50", "60", "75", "80", "90", "100"),
    "position": ("10", "20", "25", "30", "40", "60", "70", "75", "80"),
    "volume": ("5", "10", "20", "25", "30", "40", "50", "60", "70", "80"),
    "temperature": ("16", "18", "19", "20", "21", "22", "23", "24", "25", "68", "70", "72"),
    "minutes": ("1", "2", "3", "5", "7", "10", "12", "15", "20", "25", "30", "45"),
    "seconds": ("10", "15", "20", "30", "45", "90"),
    "hours": ("1", "2", "3"),
    "color": ("red", "blue", "green", "purple", "orange", "pink", "yellow", "white", "warm white"),
    "item": (
        "bread",
        "milk",
        "eggs",
        "coffee",
        "toilet paper",
        "apples",
        "oat milk",
        "cheese",
        "dish soap",
        "bananas",
        "rice",
        "olive oil",
    ),
    "message": (
        "dinner is ready",
        "the taxi is here",
        "time for bed",
        "we're leaving in five",
        "come downstairs",
        "the film is starting",
    ),
}
_LOCK_WORD = re.compile(r"\block\b", re.IGNORECASE)
DOMAIN_LISTS = ("light", "cover", "switch", "fan", "lock", "media_player", "vacuum", "climate",
                "scene")  # fmt: skip


def home_lists(home: Home) -> dict[str, list[str]]:
    """The lists a template may use, filled from `home` (empty when the home lacks them)."""
    lists: dict[str, list[str]] = {name: list(values) for name, values in VALUE_LISTS.items()}
    lists["name"] = [n for e in home.entities for n in e.names]
    for domain in DOMAIN_LISTS:
        lists[domain] = [n for e in home.entities if e.domain == domain for n in e.names]
    # People name a lock by its door: "lock the front door" for a lock named "Front Lock".
    lists["lock_door"] = [_LOCK_WORD.sub("door", n) for n in lists["lock"] if _LOCK_WORD.search(n)]
    lists["area"] = [n for a in home.areas for n in (a.name, *a.aliases)]
    lists["floor"] = [n for f in home.floors for n in (f.name, *f.aliases)]
    return lists


def expand(
    template: str, lists: Mapping[str, Sequence[str]], *, count: int, rng: random.Random
) -> list[str]:
    """Up to `count` distinct sentences from `template`; none if it names an empty list."""
    expression = parse_sentence(template).expression
    if any(not lists.get(name) for name in _list_names(expression)):
        return []
    found: dict[str, None] = {}
    for _ in range(count * 3):
        text = " ".join(_walk(expression, lists, rng).split()).casefold()
        found[text] = None
        if len(found) >= count:
            break
    return list(found)


def _walk(expression: Expression, lists: Mapping[str, Sequence[str]], rng: random.Random) -> str:
    if isinstance(expression, TextChunk):
        return expression.text
    if isinstance(expression, ListReference):
        return f" {rng.choice(lists[expression.list_name])} "
    if isinstance(expression, Alternative):
        return _walk(rng.choice(expression.items), lists, rng)
    if isinstance(expression, Permutation):
        items = list(expression.items)
        rng.shuffle(items)
        return " ".join(_walk(item, lists, rng) for item in items)
    if isinstance(expression, Group):
        return "".join(_walk(item, lists, rng) for item in expression.items)
    raise ValueError(f"template uses {type(expression).__name__}, which training cannot expand")


def _list_names(expression: Expression) -> set[str]:
    if isinstance(expression, ListReference):
        return {expression.list_name}
    if isinstance(expression, Group):
        return set().union(*(_list_names(item) for item in expression.items))
    return set()
