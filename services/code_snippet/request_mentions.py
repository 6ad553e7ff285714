"""What an automation request names, read more loosely than a command: exactly, then in
what is left loosely, in the area the request or its other devices are in, by the verb that
acts on it ("the front door opens": the contact, not the lock), a word in another form
("raining": the Rain Sensor), and a name without its kind word (`bare_names`). Pure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from slm_mesh.services.code_snippet.actions import clause_naming
from slm_mesh.services.code_snippet.bare_names import KIND_ENDINGS, bare_mentions
from slm_mesh.services.code_snippet.compose import VERB, verb_domains
from slm_mesh.services.code_snippet.request_values import id_spans
from slm_mesh.services.home.model import Area, Entity, Floor, Home
from slm_mesh.services.language.mentions import Mention, MentionFinder, Mentions, tokens


class RequestMentions:
    """Built once per home; `find` is pure."""

    def __init__(self, *, home: Home) -> None:
        self.home = home
        self._mentions = MentionFinder(home=home)
        named: tuple[Floor | Area | Entity, ...] = (*home.floors, *home.areas, *home.entities)
        spelled = [
            s for item in named for s in (item.name, *item.aliases, item.id.replace("_", " "))
        ]
        self.vocabulary = {singular(word) for text in spelled for word in tokens(text)}
        """Every word the home's names use: a place outside it is one the home lacks."""

    def find(self, prompt: str) -> Mentions:
        """What the request names: exactly, then (in what is left) loosely. The intent
        finder tries the loose pass only when nothing is named exactly, as a command names
        one device; a request for an automation names several. A loosely named device is
        the one in the area the request names (`_in_area`), and a name two devices share is
        the one its verb acts on (`_acted_on`). Words that write a webhook's or a tag's id
        ("the film-night webhook") name no device."""
        first = self._mentions.find(prompt)
        words = tokens(prompt)
        # The finder reads loosely when nothing is named exactly: a vague word read so is
        # no name (said exactly, "Morning" is the Morning scene's).
        kept = tuple(
            m
            for m in first.entities
            if m.score > _EXACT or not set(words[m.start : m.end]) <= _VAGUE
        )
        first = replace(first, entities=kept)
        for mention in first.entities:
            words[mention.start : mention.end] = ["_"] * (mention.end - mention.start)
        if watering(prompt):
            # "water the lawn" names the lawn's sprinkler, not the Water Main or a water pump.
            words = ["_" if w in ("water", "watering") else w for w in words]
        words = [self._word_form(w) for w in words]
        second = self._mentions.find(" ".join(words))
        # The second pass counts the words it was given: those named exactly are gone.
        given = tokens(" ".join(words))
        areas = {m.target.id for m in first.areas}
        # No area named: the loosely named device is the one beside those named exactly
        # ("loft bathroom extractor on when the humidity in there goes over 70%").
        beside = areas or {
            m.target.area_id
            for m in first.entities
            if isinstance(m.target, Entity) and m.target.area_id is not None
        }
        loose = [
            replace(m, target=self._in_area(m.target, beside))
            for m in second.entities
            if not set(given[m.start : m.end]) <= _VAGUE
        ]
        for mention in second.entities:
            words[mention.start : mention.end] = ["_"] * (mention.end - mention.start)
        loose += bare_mentions(words, self.home, lambda s, e: self._verb_near(words, s, e))
        ids = [
            (len(tokens(prompt[:start])), len(tokens(prompt[:end])))
            for start, end in id_spans(prompt)
        ]
        acted = [
            replace(m, target=self._acted_on(m, prompt))
            for m in (*first.entities, *loose)
            if not any(start <= m.start and m.end <= end for start, end in ids)
        ]
        found = {m.target.id: m for m in acted}
        return Mentions(entities=tuple(found.values()), areas=first.areas, floors=first.floors)

    @staticmethod
    def _verb_near(words: Sequence[str], start: int, end: int) -> frozenset[str] | None:
        """The domains the verb just after words [start, end), else the last before them,
        else one a little further on, acts on only ("the front door opens": a contact
        sensor)."""
        after = " ".join(words[end : end + 3])
        before = " ".join(words[max(0, start - 6) : start])
        further = " ".join(words[end : end + 8])  # "the front door or the back door opens"
        return (
            verb_domains_of(after) or verb_domains_of(before, last=True) or verb_domains_of(further)
        )

    def _word_form(self, word: str) -> str:
        """A word the home's names spell in another form, as they spell it ("raining" names
        the Rain Sensor, "leaking" a Leak sensor, "thermometer" a Temperature sensor);
        other words as they are."""
        if word in self.vocabulary:
            return word
        if _READINGS.get(word) in self.vocabulary:
            return _READINGS[word]
        if len(word) < 5:
            return word
        for suffix in ("ing", "ed"):
            stem = word[: -len(suffix)] if word.endswith(suffix) else ""
            for form in (stem, stem[:-1], stem + "e"):
                if len(form) >= 3 and form in self.vocabulary:
                    return form
        return word

    def _acted_on(self, mention: Mention, prompt: str) -> Entity | Area | Floor:
        """The device a verb that only one domain does means by the name ("unlock the front
        door": Front Door Lock, not the Front Door contact; "the front door opens": the
        contact, not a lock called "front door"), when one name of exactly one device of
        that domain holds every word of the one said."""
        target = mention.target
        # Less its kind word: "the front door opens" said of Front Door Lock means a door.
        said = set(tokens(mention.said)) - KIND_ENDINGS or set(tokens(mention.said))
        clause = clause_naming(prompt, (mention.said,)) or ""
        at = clause.find(mention.said.casefold())
        # The verb just after the name ("the front door is unlocked"), else the last before it.
        after = " ".join(clause[at + len(mention.said) :].split()[:4]) if at >= 0 else ""
        before = clause[: max(at, 0)]
        domains = verb_domains_of(after) or verb_domains_of(before, last=True)
        if at < 0:
            # Named loosely ("the front door" of Front Door Lock): the verb near its words.
            domains = self._verb_near(tokens(prompt), mention.start, mention.end)
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


#: The score above which the finder has read a name exactly (1 + its words), not loosely.
_EXACT = 1.0
#: Words that alone name no device, however a name uses them ("heads out" is not the
#: Lights Out scene, "in the morning" not Good Morning, "the apartment" not its door).
_VAGUE = frozenset({
    "out", "in", "on", "off", "up", "down", "over", "back", "home", "away", "morning",
    "evening", "night", "day", "apartment", "house", "flat", "place",
})  # fmt: skip
#: "Water" as a verb: the garden, the lawn, the plants.
_WATERING = re.compile(
    r"\b(?:watering|irrigat\w*|water (?:the|my|our|all|plant|lawn|garden|grass|bed|pot|"
    r"planter|veg|flower|hedge|for \d|every|each|at \d)\w*)\b",
    re.IGNORECASE,
)
#: Names of what waters a garden.
IRRIGATES = re.compile(r"sprinkl|irrigat|drip|watering|soaker|hose|mister", re.IGNORECASE)


def watering(text: str) -> bool:
    """Whether the request asks for watering ("water the lawn for 20 minutes")."""
    return _WATERING.search(text) is not None


#: A door or window opening or closing, as a contact sensor sees it.
_OPENS = re.compile(
    r"\b(opens|opened|is open|left open|been open|still open|stays open|closes|is closed|"
    r"gets closed)\b"
)


def verb_domains_of(text: str, *, last: bool = False) -> frozenset[str] | None:
    """The domains the (`last`) verb of `text` acts on only: "unlock" a lock, "opens" a
    contact sensor; None for none."""
    found = [(m.end(), verb_domains(m.group(0))) for m in VERB.finditer(text)]
    found += [(m.end(), frozenset({"binary_sensor"})) for m in _OPENS.finditer(text)]
    if not found:
        return None
    return (max(found, key=lambda pair: pair[0]) if last else min(found, key=lambda pair: pair[0]))[
        1
    ]


def singular(word: str) -> str:
    """Plurals as their singular, for matching names: "doors" names a Door."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


#: Words people use for a place or device that the home's names spell another way (for
#: telling devices apart by their words, `fill`).
SYNONYMS = {
    "outside": "outdoor", "outdoors": "outdoor", "exterior": "outdoor", "inside": "indoor",
    "telly": "tv", "television": "tv", "aircon": "ac", "ac": "aircon", "temp": "temperature",
    "thermometer": "temperature",
}  # fmt: skip
#: Words for what a sensor reads that its name says another way ("the greenhouse
#: thermometer" is Greenhouse Temperature).
_READINGS = {"thermometer": "temperature", "temp": "temperature"}
