"""The default plugin, no generative model: the library snippet closest to the request,
filled with what the request names.

Closeness is the shared sentence encoder's cosine between the request and each snippet's
description and example phrasings, plus a share for the words they have in common and the
part numbers they both name: the encoder reads "when it gets above 25" and "when it drops
below 18" as near neighbours, the words do not. A snippet that composes its actions from
the request is matched by the request's trigger words alone. For automations, a snippet
whose triggers fit the ones the request asks for (`trigger_fit`) gains closeness and one
whose do not loses it; for the other formats, one that does another thing to the
device than the request asks ("toggle", "turn off") loses it. Of the closest few that the
home can fill (every entity it needs is there), the one that takes most of what the request
names and guesses least wins.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from slm_mesh.services.code_snippet.boards import with_board
from slm_mesh.services.code_snippet.compose import ACTIONABLE, trigger_words
from slm_mesh.services.code_snippet.domain_actions import own_service_path
from slm_mesh.services.code_snippet.esphome_extras import with_extras
from slm_mesh.services.code_snippet.fill import Filled, Filler
from slm_mesh.services.code_snippet.library import Snippet, render
from slm_mesh.services.code_snippet.publish_options import with_retain
from slm_mesh.services.code_snippet.refine import refine_automation
from slm_mesh.services.code_snippet.request_clock import clock_times
from slm_mesh.services.code_snippet.request_values import role, stated
from slm_mesh.services.code_snippet.snippet_fit import (
    ESPHOME,
    WAITS,
    acts_on,
    asks_other_action,
    composes,
    verb_disagrees,
    verbs,
    waits_in_actions,
)
from slm_mesh.services.code_snippet.trigger_fit import (
    AskedTrigger,
    asked_trigger,
    compared_numbers,
    trigger_fit,
    watches,
)
from slm_mesh.services.code_snippet.trigger_kind import trigger_phrase, trigger_times
from slm_mesh.services.home.model import Entity

Embed = Callable[[Sequence[str]], np.ndarray]
AUTOMATION = "homeassistant-automation"

WORD_WEIGHT = 0.3
"""The words' share of closeness, beside the encoder's cosine."""
PART_WEIGHT = 0.15
"""What naming the part the request names (`SHT31`, `ESP8266`, `WS2812B`) is worth in
closeness: the encoder hears one sensor's model number much like another's."""
RARE_PART = 3
"""A part named by at most this many snippets tells which snippet a request is for."""
CLOSE_ENOUGH = 0.15
"""How much less close than the closest a snippet may be and still be chosen: for taking
more of what the request names, or for being one the home can fill."""
TAKES_WEIGHT = 0.2
"""What taking all the entities a request names is worth, in closeness."""
GUESS_COST = 0.1
"""What an entity the snippet needs and the request does not name costs, in closeness."""
VERB_COST = 0.25
"""What a snippet that does another thing to the device than the request asks ("toggle"
answered with "turn off") costs, in closeness: the encoder hears the device, not the verb."""
IGNORED_COST = 0.1
"""What each value the request spells out (a pin, a topic, a URL) and the snippet has no
parameter left for costs, in closeness: the snippet would drop it."""
COMPOSED_DISCOUNT = 0.05
"""What a snippet that composes its actions gives up in closeness to one written for the
whole request: matched by the trigger's words alone, it looks closer than it is."""
CANDIDATES = 10
COMPOSED_EXTRA = 3
"""How many of the closest snippets that compose their actions are candidates besides the
closest `CANDIDATES`: the encoder hears "switched on" much like "turned off"."""

_STOP = frozenset({
    "a", "an", "the", "to", "of", "in", "on", "for", "and", "or", "is", "it", "i", "me", "my",
    "when", "if", "then", "that", "this", "with", "at", "be", "by", "from", "as", "so", "can",
    "you", "please", "want", "would", "like", "some", "there", "should", "after", "again",
})  # fmt: skip


@dataclass(frozen=True)
class Retrieved:
    snippet: Snippet
    code: str
    filled: Filled
    closeness: float


class SnippetIndex:
    """The library's snippets as sentence vectors; built once per process."""

    def __init__(self, *, snippets: Sequence[Snippet], embed: Embed) -> None:
        self.snippets = tuple(snippets)
        texts, owners = [], []
        for index, snippet in enumerate(self.snippets):
            for text in (snippet.description, *snippet.examples):
                texts.append(text)
                owners.append(index)
        self._vectors = np.asarray(embed(texts), dtype=np.float32)
        self._owners = np.asarray(owners)
        self._words = [_words(" ".join((s.description, *s.examples))) for s in self.snippets]
        counts = Counter(word for words in self._words for word in words)
        self._counts = counts
        self._rarity = {w: math.log(1 + len(self.snippets) / c) for w, c in counts.items()}
        self._embed = embed

    def rank(
        self, prompt: str, *, fmt: str, trigger: str | None = None
    ) -> list[tuple[Snippet, float]]:
        """The snippets of format `fmt`, closest first, with their closeness. A snippet that
        composes its actions from the request is matched by the words of its `trigger`
        ("when everyone has left") alone: what to do is the request's, not the snippet's."""
        texts = [prompt] if trigger is None else [prompt, trigger]
        vectors = np.asarray(self._embed(texts), dtype=np.float32)
        closeness = [
            self._closeness(vector, text) for vector, text in zip(vectors, texts, strict=True)
        ]
        ranked = []
        for index, snippet in enumerate(self.snippets):
            if snippet.format != fmt:
                continue
            if composes(snippet):
                ranked.append((snippet, closeness[-1][index] - COMPOSED_DISCOUNT))
            else:
                ranked.append((snippet, closeness[0][index]))
        return sorted(ranked, key=lambda pair: -pair[1])

    def _closeness(self, vector: np.ndarray, text: str) -> list[float]:
        cosines = self._vectors @ vector
        best = np.full(len(self.snippets), -1.0, dtype=np.float32)
        np.maximum.at(best, self._owners, cosines)
        said = _words(text)
        # Parts weighed by how few snippets name them: "sht31" tells more than "esp32".
        parts = {
            w: self._rarity.get(w, math.log(1 + len(self.snippets)))
            for w in said
            if _PART.fullmatch(w) and not _PIN_NAME.fullmatch(w)
        }
        total = sum(parts.values()) or 1.0
        # A part few snippets name ("sht30") that a snippet does not: it is written for
        # another sensor, however close the rest of its words ("wemos d1 mini").
        rare = {w for w in parts if self._counts.get(w, 0) and self._counts[w] <= RARE_PART}
        return [
            float(best[index])
            + WORD_WEIGHT * len(said & words) / max(len(said), 1)
            + PART_WEIGHT * sum(parts[w] for w in parts.keys() & words) / total
            - (PART_WEIGHT if rare and not rare & words else 0.0)
            for index, words in enumerate(self._words)
        ]


def retrieve(prompt: str, *, fmt: str, index: SnippetIndex, filler: Filler) -> Retrieved | None:
    """Of the closest few snippets the home can fill, the one that takes most of what the
    request names (a snippet with a person in it for "when Priya arrives home"), needs
    least that it does not name or drops what it spells out, and is closest; None when the
    library has no snippet of the format."""
    trigger = trigger_phrase(prompt) if fmt == AUTOMATION else None
    everything = index.rank(prompt, fmt=fmt, trigger=trigger)
    mentions = filler.mentions(prompt)
    named = [m.target for m in mentions.entities if isinstance(m.target, Entity)]
    span = trigger_words(prompt) if fmt == AUTOMATION else None
    setting_off = [
        m.target
        for m in mentions.entities
        if span is not None and span[0] <= m.start < span[1] and isinstance(m.target, Entity)
    ]
    asked = asked_trigger(prompt, trigger, setting_off) if fmt == AUTOMATION else AskedTrigger()
    # The closest few snippets that compose their actions and watch what the request's
    # trigger names are always candidates: they can answer whatever the request asks done,
    # where the closest ones may not.
    ranked = everything[:CANDIDATES]
    ranked += [
        pair for pair in everything[CANDIDATES:] if composes(pair[0]) and watches(pair[0], asked)
    ][:COMPOSED_EXTRA]
    if not ranked:
        return None
    # What an automation does is the request's (composed or refined); a command's is its own.
    asked_verbs = verbs(prompt) if fmt != AUTOMATION else frozenset()
    agreed = [
        (s, c + trigger_fit(s, asked) - VERB_COST * verb_disagrees(s, asked_verbs))
        for s, c in ranked
    ]
    spelled = stated(prompt)

    times = len(clock_times(prompt.casefold()))
    names_of = {e.id: e.names for e in filler.home.entities}
    lasts = fmt == AUTOMATION and bool(WAITS.search(prompt)) and not waits_in_actions(prompt)
    thresholds = compared_numbers(prompt)
    at_times = trigger_times(prompt)

    def fit(snippet: Snippet, agreeing: float) -> tuple[float, Filled]:
        filled = filler.fill(prompt, list(snippet.params.values()), mentions=mentions)
        # What the request spells out goes only into a parameter that read it: "every 60s"
        # is no sleep between readings.
        read = [p.kind for name, p in snippet.params.items() if name in filled.values]
        # An entity the request does not name (or names as several may be called), or a
        # time of day it does not give, is a guess.
        guessed = [n.partition(":")[0] for n in filled.notes if "names no" in n or "may mean" in n]
        # Doubly so what it acts on: a device the request asks nothing of is no answer.
        acted = [n for n in guessed if n in snippet.params and acts_on(snippet.params[n])]
        guesses = len(guessed) + len(acted)
        timed = sum(p.kind == "time" for p in snippet.params.values())
        guesses += max(0, timed - times)
        # So is a duration it does not give, for a snippet that waits ("once it has been
        # on for 60 minutes") where the request waits for nothing.
        if fmt == AUTOMATION and not WAITS.search(prompt):
            guesses += sum(
                p.kind == "duration" and name not in filled.values
                for name, p in snippet.params.items()
            )
        elif fmt == AUTOMATION and waits_in_actions(prompt):
            # The request waits, but in what it asks done ("turn the light on for 5 minutes"):
            # a trigger that waits for it ("unlocked for 5 minutes") waits for nothing asked.
            triggers = snippet.template.split("actions:")[0]
            guesses += sum(
                p.kind == "duration" and f"<<{name}>>" in triggers
                for name, p in snippet.params.items()
            )
        # A time the request triggers at that the snippet has no time for is dropped.
        dropped = max(0, at_times - timed) if fmt == AUTOMATION else 0
        # So is how long a state must last ("presence for 30 minutes") where it waits for
        # nothing.
        durations = any(p.kind == "duration" for p in snippet.params.values())
        dropped += bool(lasts and not durations and "for:" not in snippet.template)
        # So is a threshold ("off when it falls below 1.5 kW") it has no number for.
        numbers = sum(p.kind == "number" for p in snippet.params.values())
        dropped += max(0, thresholds - numbers) if fmt == AUTOMATION else 0
        # And a threshold it does not give, beside the one it does ("off below 55" for
        # "when it exceeds 3 kW").
        compares = sum(
            p.kind == "number" and role(p) == "threshold" for p in snippet.params.values()
        )
        guesses += max(0, compares - thresholds) if fmt == AUTOMATION and thresholds else 0
        # A snippet written to switch a device the request asks something else of
        # ("pause the echo") does the wrong thing to it, however well it fills.
        undone = (
            fmt == AUTOMATION
            and not composes(snippet)
            and asks_other_action(snippet, filled, prompt, names_of)
        )
        return (
            agreeing
            - VERB_COST * undone
            + TAKES_WEIGHT * _takes(snippet, named)
            - GUESS_COST * guesses
            - IGNORED_COST * (spelled - Counter(read)).total()
            - IGNORED_COST * dropped
        ), filled

    scored = [
        (*fit(snippet, agreeing), snippet, closeness, agreeing)
        for (snippet, closeness), (_, agreeing) in zip(ranked, agreed, strict=True)
    ]
    # The closest few of those the home can fill; of none, the closest few written for such
    # a request, whose problems say what the home lacks ("no motion sensor in the attic").
    fillable = (
        [item for item in scored if not item[1].problems]
        or [item for item in scored if not composes(item[2])]
        or scored
    )
    top = max(item[4] for item in fillable)
    near = [item for item in fillable if item[4] >= top - CLOSE_ENOUGH]
    _, filled, snippet, closeness, _ = max(near, key=lambda item: item[0])
    code = render(snippet, filled.values) if not filled.problems else ""
    if code and fmt == AUTOMATION:
        mentioned = [entity.id for entity in named]
        code = refine_automation(code, prompt, filler.home, mentioned=mentioned)
    elif code:
        code = with_retain(own_service_path(token_variable(code, prompt)), prompt)
    if code and fmt == ESPHOME:
        code = with_extras(with_board(code, prompt), prompt)
    return Retrieved(snippet=snippet, code=code, filled=filled, closeness=closeness)


#: The environment variable the library's snippets read Home Assistant's token from.
TOKEN_VARIABLE = "HA_TOKEN"
_VARIABLE = re.compile(r"\$?\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_(?:TOKEN|KEY)[A-Z0-9_]*)\b")


def token_variable(code: str, prompt: str) -> str:
    """The token read from the variable the request names ("the token is in HASS_TOKEN")."""
    named = _VARIABLE.search(prompt)
    if named is None or named.group(1) == TOKEN_VARIABLE:
        return code
    return re.sub(rf"\b{TOKEN_VARIABLE}\b", named.group(1), code)


def _takes(snippet: Snippet, named: Sequence[Entity]) -> float:
    """The share of the entities a request names that some parameter of `snippet` could
    take (by domain and device class; composed actions take any device)."""
    if not named:
        return 0.0
    params = [p for p in snippet.params.values() if p.kind == "entity"]
    composing = composes(snippet)
    fits = sum(
        (composing and e.domain in ACTIONABLE)
        or any(
            e.domain in p.domains and (not p.device_classes or e.device_class in p.device_classes)
            for p in params
        )
        for e in named
    )
    return fits / len(named)


#: A model or part number: letters and digits together (`sht31`, `esp8266`, `sr04`).
_PART = re.compile(r"(?=[a-z0-9]*\d)[a-z][a-z0-9]{2,}")
#: No part: a pin's name (`gpio4`, `gp15`, `d2`, `a0`), a board's (`esp32`, `esp8266`: the
#: board is swapped in, `boards`).
_PIN_NAME = re.compile(r"(?:gpio|gp|pin|d|a)\d+|esp\w*")


def _words(text: str) -> set[str]:
    """Content words, each as its stem ("publishes", "published" and "publish" agree)."""
    return {_stem(w) for w in re.findall(r"[a-z0-9]+", text.casefold()) if w not in _STOP}


def _stem(word: str) -> str:
    if len(word) <= 4:
        return word
    if word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    for suffix in ("ing", "ed", "s"):
        if word.endswith(suffix) and not word.endswith("ss") and len(word) > len(suffix) + 3:
            return word[: -len(suffix)]
    return word
