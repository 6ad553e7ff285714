"""Devices named without the word for their kind: "the front door opens" names the Front
Door Contact, "lock the terrace door" the Terrace Door Lock. Pure.

The intent finder's loose pass needs every distinctive word of a name, and "contact" or
"lock" is one; people leave it out, and the verb says which device of the name they mean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from slm_mesh.services.home.model import Entity, Home
from slm_mesh.services.language.mentions import Mention, tokens

#: Words that say what kind of device a name is, which a request may leave out.
KIND_ENDINGS = frozenset({
    "contact", "sensor", "lock", "switch", "plug", "motion", "detector", "valve", "speaker",
    "thermostat", "button", "relay", "socket", "trv", "radiator",
})  # fmt: skip


def bare_mentions(
    words: Sequence[str],
    home: Home,
    domains_of: Callable[[int, int], frozenset[str] | None],
) -> list[Mention]:
    """The devices `words` name without their kind word, each once: where a name's other
    words (two or more) are said together; of several devices so named, the one of the
    domain its verb acts on (`domains_of(start, end)`), else none."""
    spans: dict[tuple[int, int], list[tuple[Entity, str]]] = {}
    for entity in home.entities:
        for name in (entity.name, *entity.aliases):
            said = tokens(name)
            bare = [w for w in said if w not in KIND_ENDINGS]
            if len(bare) < 2 or len(bare) == len(said):
                continue
            for start in range(len(words) - len(bare) + 1):
                if list(words[start : start + len(bare)]) == bare:
                    spans.setdefault((start, start + len(bare)), []).append((entity, name))
    found = []
    for (start, end), named in spans.items():
        kinds = {e.id: (e, n) for e, n in named}
        if len(kinds) > 1:
            domains = domains_of(start, end)
            kinds = {i: en for i, en in kinds.items() if domains and en[0].domain in domains}
        if len(kinds) == 1:
            entity, name = next(iter(kinds.values()))
            bare_name = " ".join(w for w in tokens(name) if w not in KIND_ENDINGS)
            found.append(Mention(entity, start, end, 0.5, bare_name))
    return found
