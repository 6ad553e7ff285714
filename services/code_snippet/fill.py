"""What a request names, read into a snippet's parameters: the home's entities (found as the
intent service finds them: names, aliases, areas), what it asks done (`compose`), and the
values it spells out (`request_values`). Pure.

An entity parameter takes the entity of its domain (and device class) that the request
names, else the one in the area it names, else the only one the home has; when none fits,
the parameter stays empty and a problem says what the home lacks ("the home has no motion
sensor in Garage"), so an answer never names what the home does not have.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import yaml

from slm_mesh.services.code_snippet.actions import clause_naming
from slm_mesh.services.code_snippet.compose import (
    KIND_WORDS,
    VERB,
    action_targets,
    composed_actions,
    trigger_words,
    verb_domains,
)
from slm_mesh.services.code_snippet.library import Param
from slm_mesh.services.code_snippet.request_values import Spans, Value, read_value, role, said_text
from slm_mesh.services.home.model import Area, Entity, Floor, Home
from slm_mesh.services.language.mentions import Mention, MentionFinder, Mentions, tokens


@dataclass(frozen=True)
class Filled:
    values: dict[str, Value]
    """Parameter -> value read from the request; parameters not read keep their default."""
    problems: tuple[str, ...] = ()
    """What the request needs that the home lacks."""
    notes: tuple[str, ...] = ()
    """Guesses made where the request was not specific."""


class Filler:
    """Built once per home; `fill` is pure."""

    def __init__(self, *, home: Home) -> None:
        self.home = home
        self._mentions = MentionFinder(home=home)
        named: tuple[Floor | Area | Entity, ...] = (*home.floors, *home.areas, *home.entities)
        spelled = [
            s for item in named for s in (item.name, *item.aliases, item.id.replace("_", " "))
        ]
        self._vocabulary = {_stem(word) for text in spelled for word in tokens(text)}
        """Every word the home's names use: a place outside it is one the home lacks."""

    def mentions(self, prompt: str) -> Mentions:
        """What the request names: exactly, then (in what is left) loosely. The intent
        finder tries the loose pass only when nothing is named exactly, as a command names
        one device; a request for an automation names several. A loosely named device is
        the one in the area the request names (`_in_area`), and a name two devices share is
        the one its verb acts on (`_acted_on`)."""
        first = self._mentions.find(prompt)
        words = tokens(prompt)
        for mention in first.entities:
            words[mention.start : mention.end] = ["_"] * (mention.end - mention.start)
        second = self._mentions.find(" ".join(words))
        areas = {m.target.id for m in first.areas}
        loose = [replace(m, target=self._in_area(m.target, areas)) for m in second.entities]
        acted = [replace(m, target=self._acted_on(m, prompt)) for m in (*first.entities, *loose)]
        found = {m.target.id: m for m in acted}
        return Mentions(entities=tuple(found.values()), areas=first.areas, floors=first.floors)

    def _acted_on(self, mention: Mention, prompt: str) -> Entity | Area | Floor:
        """The device a verb that only one domain does means by the name ("unlock the front
        door": Front Door Lock, not the Front Door contact; "the front door opens": the
        contact, not a lock called "front door"), when one name of exactly one device of
        that domain holds every word of the one said."""
        target = mention.target
        said = set(tokens(mention.said))
        clause = clause_naming(prompt, (mention.said,)) or ""
        at = clause.find(mention.said.casefold())
        # The verb just after the name ("the front door is unlocked"), else the last before it.
        after = " ".join(clause[at + len(mention.said) :].split()[:3]) if at >= 0 else ""
        before = clause[: max(at, 0)]
        domains = _verb_domains(after) or _verb_domains(before, last=True)
        if not isinstance(target, Entity) or domains is None or target.domain in domains:
            return target
        kin = [
            e
            for e in self.home.entities
            if e.domain in domains and any(said <= set(tokens(name)) for name in e.names)
        ]
        return kin[0] if len(kin) == 1 else target

    def _in_area(self, target: Entity | Area | Floor, areas: set[str]) -> Entity | Area | Floor:
        """A loosely named entity as the one of its kind in the area the request names
        ("the hall motion sensor" is Hallway Motion, not the only other motion sensor the
        words fit), when that area has exactly one."""
        if not isinstance(target, Entity) or not areas or target.area_id in areas:
            return target
        kin = [
            e
            for e in self.home.entities
            if e.area_id in areas
            and e.domain == target.domain
            and e.device_class == target.device_class
        ]
        return kin[0] if len(kin) == 1 else target

    def fill(
        self, prompt: str, params: Sequence[Param], *, mentions: Mentions | None = None
    ) -> Filled:
        """`params` read from `prompt`; `mentions`, when the caller has found them already
        (`mentions`), are not looked for again."""
        said = said_text(prompt)
        if mentions is None:
            mentions = self.mentions(prompt)
        said_words = [_stem(word) for word in tokens(prompt)]
        said_words += [_SYNONYMS[w] for w in said_words if w in _SYNONYMS]
        values: dict[str, Value] = {}
        problems: list[str] = []
        notes: list[str] = []
        taken: set[str] = set()
        composes = any(param.kind == "actions" for param in params)
        measured = {c for unit, c in _UNIT_CLASSES if re.search(rf"{_THRESHOLD}{unit}", said)}
        triggering, trigger_words = (
            _triggering(prompt, mentions, said_words) if composes else (mentions, said_words)
        )
        for param in params:
            if param.kind != "entity":
                continue
            entities, why = self._entities(param, triggering, taken, trigger_words, measured)
            if not entities:
                problems.append(why)
                continue
            ids = [entity.id for entity in entities]
            values[param.name] = ids[0] if len(ids) == 1 else f"[{', '.join(ids)}]"
            taken.update(ids)
            if why:
                notes.append(why)
        for param in params:
            if param.kind == "actions":
                named = [m.target for m in sorted(mentions.entities, key=lambda m: m.start)]
                areas = {m.target.id for m in mentions.areas}
                entities = [e for e in named if isinstance(e, Entity)]
                targets = action_targets(prompt, self.home, entities, areas, taken)
                steps = composed_actions(prompt, self.home, targets)
                if steps:
                    values[param.name] = yaml.safe_dump(steps, sort_keys=False, width=100)
                else:
                    problems.append("the request asks nothing of the home's devices to be done")
        spans = Spans(said)
        seen: Counter[str] = Counter()
        for param in params:
            kind = f"{param.kind}:{role(param)}" if param.kind == "number" else param.kind
            value = read_value(param, said, prompt, mentions, spans, seen[kind])
            seen[kind] += 1
            if value is not None:
                values[param.name] = value
        return Filled(
            values=values,
            problems=tuple(problems),
            notes=tuple(notes),
        )

    def _entities(
        self,
        param: Param,
        mentions: Mentions,
        taken: set[str],
        words: list[str],
        measured: set[str] | None = None,
    ) -> tuple[list[Entity], str]:
        """The entities for `param` (several when the request names several: "lock the
        front and back doors"), and a note (a guess) or a problem (none fits). A sensor of
        any kind is looked for among those that `measured` what the request's threshold is
        in ("over 2.5 kW": power)."""
        measured = measured or set()
        domains = set(param.domains)
        classes = set(param.device_classes) or (measured if domains == {"sensor"} else set())
        of_domain = [e for e in self.home.entities if e.domain in domains and e.id not in taken]
        fitting = [e for e in of_domain if not classes or e.device_class in classes]
        if not param.device_classes and not fitting:
            classes, fitting = set(), of_domain
        named = sorted(
            (m for m in mentions.entities if isinstance(m.target, Entity)), key=lambda m: m.start
        )
        for pool in (fitting, of_domain if classes else []):
            ids = {e.id for e in pool}
            here = [m.target for m in named if m.target.id in ids and isinstance(m.target, Entity)]
            if here:
                return here, ""
        what = _what(param)
        people = [e for e in fitting if e.domain == "person"]
        if people and _EVERYONE.intersection(words):
            return people, ""
        kinds = {_stem(word) for word in _ALL_OF.findall(" ".join(words))}
        if fitting and any(domains & _KINDS.get(kind, set()) for kind in kinds):
            return fitting, ""
        by_words, distinct = _by_words(fitting, set(words))
        if by_words and (distinct or len(by_words) == 1):
            return by_words, ""
        if by_words:
            picked, count = by_words[0], len(by_words)
            return [picked], f"{param.name}: picked {picked.id} of {count} {what} it may mean"
        areas = [m.target for m in mentions.areas if isinstance(m.target, Area)]
        for area in areas:
            in_area = [e for e in fitting if e.area_id == area.id]
            if in_area:
                note = (
                    ""
                    if len(in_area) == 1
                    else f"{param.name}: picked {in_area[0].id} of {len(in_area)} {what} in "
                    f"{area.name}"
                )
                return in_area[:1], note
        if areas and not fitting:
            return [], f"the home has no {what}"
        if areas:
            names = ", ".join(area.name for area in areas)
            return [], f"the home has no {what} in {names}"
        place = next((w for w in _places(words) if w not in self._vocabulary), None)
        if place is not None:
            return [], f"the home has no {what} in the {place} (no area or device called that)"
        if len(fitting) == 1:
            only = fitting[0].id
            return fitting, f"{param.name}: the request names no {what}; took the only one, {only}"
        if fitting:
            return fitting[:1], f"{param.name}: the request names no {what}; picked {fitting[0].id}"
        return [], f"the home has no {what}"


def _triggering(prompt: str, mentions: Mentions, words: list[str]) -> tuple[Mentions, list[str]]:
    """The mentions and words a snippet's trigger may take when the request composes its
    actions: those that say what sets it off (`trigger_words`: "when the tv turns off"),
    so that what it is to do ("turn on the hall light") is left to the actions."""
    span = trigger_words(prompt)
    if span is None:
        return mentions, words
    inside = tuple(m for m in mentions.entities if span[0] <= m.start < span[1])
    said = [_stem(word) for word in tokens(prompt)[span[0] : span[1]]]
    return replace(mentions, entities=inside), said + [_SYNONYMS[w] for w in said if w in _SYNONYMS]


def _by_words(pool: Sequence[Entity], said: set[str]) -> tuple[list[Entity], bool]:
    """The entities of `pool` that the request names best by a word that tells them apart
    from the rest of the pool ("front" of Front Door Lock among the locks), and whether each
    is matched by a word of its own ("the front and back doors": both are meant) rather
    than all by the same ("kitchen" of two kitchen lights: one is)."""
    if not pool:
        return [], False
    spelled = {e.id: {_stem(w) for n in e.names for w in tokens(n)} for e in pool}
    # Words such as "tv" or "heater" tell devices apart too ("the TV strip" among the
    # lights); words for a kind of device ("light") do not.
    own = {i: words - KIND_WORDS for i, words in spelled.items()}
    shared = set.intersection(*own.values()) if len(own) > 1 else set()
    hits = {e.id: {w for w in own[e.id] - shared if _said(w, said)} for e in pool}
    best = max(len(found) for found in hits.values())
    if best == 0:
        return [], False
    top = [e for e in pool if len(hits[e.id]) == best]
    others = {e.id: set().union(*(hits[o.id] for o in top if o is not e)) for e in top}
    return top, all(hits[e.id] - others[e.id] for e in top)


#: A door or window opening or closing, as a contact sensor sees it.
_OPENS = re.compile(
    r"\b(opens|opened|is open|left open|been open|still open|stays open|closes|is closed|"
    r"gets closed)\b"
)


def _verb_domains(text: str, *, last: bool = False) -> frozenset[str] | None:
    """The domains the (`last`) verb of `text` acts on only: "unlock" a lock, "opens" a
    contact sensor; None for none."""
    found = [(m.end(), verb_domains(m.group(0))) for m in VERB.finditer(text)]
    found += [(m.end(), frozenset({"binary_sensor"})) for m in _OPENS.finditer(text)]
    if not found:
        return None
    return (max(found, key=lambda pair: pair[0]) if last else min(found, key=lambda pair: pair[0]))[
        1
    ]


#: A number compared with a reading ("over 2500", "drops below 5"), before its unit.
_THRESHOLD = (
    r"\b(?:above|over|below|under|than|exceeds?|hits|reaches|drops?|falls?|rises?|draws?)\s+"
    r"(?:below\s+|under\s+|above\s+|over\s+|to\s+)?-?\d+(?:\.\d+)?\s*"
)
#: A threshold's unit, and the device class of a sensor that measures in it.
_UNIT_CLASSES = (
    (r"k?w(?:atts?)?\b", "power"), (r"kwh\b", "energy"), (r"(?:°|degrees?\b)", "temperature"),
    (r"(?:lux|lx)\b", "illuminance"), (r"ppm\b", "carbon_dioxide"), (r"(?:%|percent)", "humidity"),
    (r"(?:%|percent)", "battery"), (r"(?:%|percent)", "moisture"), (r"v(?:olts?)?\b", "voltage"),
)  # fmt: skip

#: Words that mean every person in the home ("when everyone has left").
_EVERYONE = frozenset({
    "everyone", "everybody", "nobody", "noone", "we", "us", "all", "someone", "somebody",
    "anyone", "anybody",
})  # fmt: skip
#: "all the doors", "every light", "both blinds": each one the home has of that kind.
_ALL_OF = re.compile(r"\b(?:all|every|both)(?: of)?(?: the| my| our)? ([a-z]+)")
#: The domains a word for a kind of device names.
_KINDS = {
    "door": {"lock", "cover", "binary_sensor"}, "lock": {"lock"}, "light": {"light"},
    "lamp": {"light"}, "blind": {"cover"}, "curtain": {"cover"}, "shutter": {"cover"},
    "cover": {"cover"}, "window": {"binary_sensor", "cover"}, "fan": {"fan"},
    "switch": {"switch"}, "plug": {"switch"}, "speaker": {"media_player"}, "tv": {"media_player"},
    "radiator": {"climate"}, "thermostat": {"climate"}, "heater": {"climate", "switch"},
}  # fmt: skip

#: Words people use for a place or device that the home's names spell another way.
_SYNONYMS = {
    "outside": "outdoor", "outdoors": "outdoor", "exterior": "outdoor", "inside": "indoor",
    "telly": "tv", "television": "tv", "aircon": "ac", "ac": "aircon",
}  # fmt: skip


def _said(word: str, said: set[str]) -> bool:
    """Whether the request says a name's word, whole or as its start ("drive" of
    Driveway, "garage" of Garages)."""
    return word in said or any(
        len(w) >= 4 and (word.startswith(w) or w.startswith(word)) for w in said if len(word) >= 4
    )


_PLACE = re.compile(r"\b(?:in|on|at|from|into|outside) (?:the|my|our) ([a-z]+)\b")
_NOT_PLACES = frozenset({
    "house", "home", "room", "morning", "evening", "night", "day", "afternoon", "weekend",
    "moment", "dark", "end", "way", "background", "same", "list", "app", "phone", "ha", "hub",
    "yaml", "config", "ui", "dashboard", "mqtt", "broker", "topic", "network", "wifi", "api",
})  # fmt: skip


def _places(words: Sequence[str]) -> list[str]:
    """Words a request uses for a place ("in the attic"), to tell a place the home lacks
    from a request that names none."""
    return [w for w in _PLACE.findall(" ".join(words)) if w not in _NOT_PLACES]


def _stem(word: str) -> str:
    """Plurals as their singular, for matching names: "doors" names a Door."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _what(param: Param) -> str:
    """How a problem names what the parameter needs: "motion sensor", "light"."""
    domains = " or ".join(d.replace("_", " ") for d in param.domains)
    if not param.device_classes:
        return domains
    kind = " or ".join(c.replace("_", " ") for c in param.device_classes)
    sensor = all(d in ("binary_sensor", "sensor") for d in param.domains)
    return f"{kind} {'sensor' if sensor else domains}"
