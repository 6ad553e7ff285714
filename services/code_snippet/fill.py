"""What a request names, read into a snippet's parameters: the home's entities (found as the
intent service finds them, more loosely: `request_mentions`), what it asks done
(`compose`), and the values it spells out (`request_values`). Pure.

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

from slm_mesh.services.code_snippet.actions import action_for, clauses_naming
from slm_mesh.services.code_snippet.compose import (
    ACTIONABLE,
    KIND_WORDS,
    action_targets,
    composed_actions,
    trigger_words,
)
from slm_mesh.services.code_snippet.library import Param
from slm_mesh.services.code_snippet.request_mentions import (
    IRRIGATES,
    SYNONYMS,
    RequestMentions,
    singular,
    watering,
)
from slm_mesh.services.code_snippet.request_values import Spans, Value, read_value, role, said_text
from slm_mesh.services.code_snippet.state_conditions import state_conditions, without_conditions
from slm_mesh.services.home.model import Area, Entity, Floor, Home
from slm_mesh.services.language.mentions import Mentions, tokens


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
        self._reader = RequestMentions(home=home)
        self._vocabulary = self._reader.vocabulary

    def mentions(self, prompt: str) -> Mentions:
        """What the request names (`RequestMentions.find`)."""
        return self._reader.find(prompt)

    def fill(
        self, prompt: str, params: Sequence[Param], *, mentions: Mentions | None = None
    ) -> Filled:
        """`params` read from `prompt`; `mentions`, when the caller has found them already
        (`mentions`), are not looked for again."""
        said = said_text(prompt)
        if mentions is None:
            mentions = self.mentions(prompt)
        said_words = [singular(word) for word in tokens(prompt)]
        said_words += [SYNONYMS[w] for w in said_words if w in SYNONYMS]
        values: dict[str, Value] = {}
        problems: list[str] = []
        notes: list[str] = []
        taken: set[str] = set()
        composes = any(param.kind == "actions" for param in params)
        measured = {c for unit, c in _UNIT_CLASSES if re.search(rf"{_THRESHOLD}{unit}", said)}
        triggering, trigger_words = (
            _triggering(prompt, mentions, said_words) if composes else (mentions, said_words)
        )
        # A device the request puts in a state ("and Maya is away") is a condition, neither
        # what sets it off nor something to do.
        held = {
            e.id for e, _ in state_conditions(prompt, self.home) if not _asked_elsewhere(prompt, e)
        }
        triggering = replace(
            triggering, entities=tuple(m for m in triggering.entities if m.target.id not in held)
        )
        for param in params:
            if param.kind != "entity":
                continue
            entities, why = self._entities(
                param, triggering, taken, trigger_words, measured, devices=mentions
            )
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
                targets = action_targets(prompt, self.home, entities, areas, taken | held)
                targets += self._irrigator(prompt, targets)
                steps = composed_actions(prompt, self.home, targets)
                if not steps:
                    # What sets it off may be what it acts on ("lock the door again 5 min
                    # after it's unlocked").
                    own = [e for e in entities if e.id in taken and e.domain in ACTIONABLE]
                    steps = composed_actions(prompt, self.home, own)
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

    def _irrigator(self, prompt: str, targets: Sequence[Entity]) -> list[Entity]:
        """What waters, for a request that asks for watering and names nothing that does
        ("water the greenhouse for 5 minutes"): the home's one sprinkler or drip valve."""
        if not watering(prompt) or any(IRRIGATES.search(" ".join(e.names)) for e in targets):
            return []
        found = [
            e
            for e in self.home.entities
            if e.domain in ACTIONABLE and IRRIGATES.search(" ".join(e.names))
        ]
        return found if len(found) == 1 else []

    def _entities(
        self,
        param: Param,
        mentions: Mentions,
        taken: set[str],
        words: list[str],
        measured: set[str] | None = None,
        *,
        devices: Mentions | None = None,
    ) -> tuple[list[Entity], str]:
        """The entities for `param` (several when the request names several: "lock the
        front and back doors"), and a note (a guess) or a problem (none fits). A sensor of
        any kind is looked for among those that `measured` what the request's threshold is
        in ("over 2.5 kW": power), and among the readings of the `devices` the whole
        request names ("its power", beside the Gaggia)."""
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
        if domains == {"sensor"} and param.device_classes and measured and not measured & classes:
            # "over 20 kWh" is no power reading, whatever power sensors the home has.
            return [], f"the request's threshold is not in the unit of a {what}"
        people = [e for e in fitting if e.domain == "person"]
        if people and _EVERYONE.intersection(words):
            return people, ""
        kinds = {singular(word) for word in _ALL_OF.findall(" ".join(words))}
        if fitting and any(domains & _KINDS.get(kind, set()) for kind in kinds):
            return fitting, ""
        # "the upstairs lights": each one on the floor the request names.
        floors = {m.target.id for m in mentions.floors if isinstance(m.target, Floor)}
        if floors and not mentions.areas and any(domains & _KINDS.get(w, set()) for w in words):
            on_floor = {a.id for a in self.home.areas if a.floor_id in floors}
            upstairs = [e for e in fitting if e.area_id in on_floor]
            if upstairs:
                return upstairs, ""
        if watering(" ".join(words)):
            # What waters is a sprinkler or an irrigation valve, whatever else the area has.
            fitting = [e for e in fitting if IRRIGATES.search(" ".join(e.names))] or fitting
        by_words, distinct = _by_words(fitting, set(words))
        if by_words and (distinct or len(by_words) == 1):
            return by_words, ""
        if by_words:
            picked, count = by_words[0], len(by_words)
            return [picked], f"{param.name}: picked {picked.id} of {count} {what} it may mean"
        # A reading of a device the request names ("its power" beside the Gaggia): the
        # sensor whose name holds that device's own.
        everything = (devices or mentions).entities
        owned = _readings_of(
            fitting, [m.target for m in everything if isinstance(m.target, Entity)]
        )
        if len(owned) == 1:
            return owned, ""
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
        # No area named apart from its devices: the one where the devices it names are
        # ("the extractor in the loft bathroom ... when the humidity goes over 70%").
        beside = {m.target.area_id for m in named if isinstance(m.target, Entity)}
        near = [e for e in fitting if e.area_id is not None and e.area_id in beside]
        if not areas and len(near) == 1:
            return near, ""
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


def _asked_elsewhere(prompt: str, entity: Entity) -> bool:
    """Whether a clause asks something of a device the request also puts in a state ("while
    the AC is on -> turn the AC off")."""
    clauses = clauses_naming(prompt, entity.names)
    return any(action_for(entity.id, without_conditions(c)) is not None for c in clauses)


def _readings_of(pool: Sequence[Entity], devices: Sequence[Entity]) -> list[Entity]:
    """The sensors of `pool` whose name begins with the name of one of `devices` of another
    domain ("Coffee Machine Power" of the Coffee Machine)."""
    names = [tokens(d.name) for d in devices]
    return [
        e
        for e in pool
        if e.domain in ("sensor", "binary_sensor")
        and any(n and tokens(e.name)[: len(n)] == n and len(tokens(e.name)) > len(n) for n in names)
    ]


def _triggering(prompt: str, mentions: Mentions, words: list[str]) -> tuple[Mentions, list[str]]:
    """The mentions and words a snippet's trigger may take when the request composes its
    actions: those that say what sets it off (`trigger_words`: "when the tv turns off"),
    so that what it is to do ("turn on the hall light") is left to the actions."""
    span = trigger_words(prompt)
    if span is None:
        return mentions, words
    inside = tuple(m for m in mentions.entities if span[0] <= m.start < span[1])
    said = [singular(word) for word in tokens(prompt)[span[0] : span[1]]]
    return replace(mentions, entities=inside), said + [SYNONYMS[w] for w in said if w in SYNONYMS]


def _by_words(pool: Sequence[Entity], said: set[str]) -> tuple[list[Entity], bool]:
    """The entities of `pool` that the request names best by a word that tells them apart
    from the rest of the pool ("front" of Front Door Lock among the locks), and whether each
    is matched by a word of its own ("the front and back doors": both are meant) rather
    than all by the same ("kitchen" of two kitchen lights: one is)."""
    if not pool:
        return [], False
    spelled = {e.id: {singular(w) for n in e.names for w in tokens(n)} for e in pool}
    # Words such as "tv" or "heater" tell devices apart too ("the TV strip" among the
    # lights); words for a kind of device ("light") do not.
    own = {i: words - KIND_WORDS - _ARTICLES for i, words in spelled.items()}
    shared = set.intersection(*own.values()) if len(own) > 1 else set()
    hits = {e.id: {w for w in own[e.id] - shared if _said(w, said)} for e in pool}
    best = max(len(found) for found in hits.values())
    if best == 0:
        return [], False
    top = [e for e in pool if len(hits[e.id]) == best]
    others = {e.id: set().union(*(hits[o.id] for o in top if o is not e)) for e in top}
    return top, all(hits[e.id] - others[e.id] for e in top)


#: Words a name may begin with ("the Gaggia") that tell no device from another.
_ARTICLES = frozenset({"the", "a", "an", "my", "our", "of", "in", "on", "and"})
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


def _what(param: Param) -> str:
    """How a problem names what the parameter needs: "motion sensor", "light"."""
    domains = " or ".join(d.replace("_", " ") for d in param.domains)
    if not param.device_classes:
        return domains
    kind = " or ".join(c.replace("_", " ") for c in param.device_classes)
    sensor = all(d in ("binary_sensor", "sensor") for d in param.domains)
    return f"{kind} {'sensor' if sensor else domains}"
