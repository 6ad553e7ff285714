"""An automation's actions composed from the request itself, for the library's snippets that
are a trigger and `<<actions>>`: each entity the request asks something of, with the action
its clause asks ("pause the sonos", "unlock the front door", "fan on at 50%"), and a
notification when it asks for one. Pure.

The triggers people write are few; what they want done when one fires is any mix of the
home's devices, so the library keeps the triggers and the request supplies the rest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from slm_mesh.services.code_snippet.actions import (
    CLAUSES,
    action_for,
    clauses_naming,
    levels_in,
    root,
)
from slm_mesh.services.code_snippet.state_conditions import without_conditions
from slm_mesh.services.home.model import Area, Entity, Floor, Home
from slm_mesh.services.language.mentions import tokens
from slm_mesh.services.language.numbers import normalize

#: Domains a request may ask something of ("open the gate", "press the restart button").
ACTIONABLE = frozenset({
    "light", "switch", "fan", "cover", "media_player", "scene", "script", "input_boolean",
    "humidifier", "water_heater", "siren", "climate", "valve", "lock", "vacuum", "button",
    "input_button", "alarm_control_panel", "counter", "timer", "lawn_mower", "number",
    "input_number",
})  # fmt: skip
_NOTIFY = re.compile(
    r"\b(notify|notification|alert|tell me|tell us|let me know|let us know|message me|"
    r"text me|ping me|warn me|warning|push|reminder|remind me|(?:ping|message|text|buzz) my phone|"
    r"send (?:me |us )?an? (?:message|text)|"
    r"(?:to|on) my phone)\b",
    re.IGNORECASE,
)
_ASKS = re.compile(
    r"\b(turn|switch|put|set|open|close|shut|lock|unlock|pause|play|resume|stop|start|press|"
    r"retract|extend|arm|disarm|increment|decrement|reset|mow|dock|sound|cancel|"
    r"activate|run|raise|lower|dim|toggle|kill|enable|disable|water|flash|on|off)\b"
)
#: A verb that only one domain does: it tells which device a loosely named clause means.
_DOMAIN_VERBS = (
    (re.compile(r"\b(re-?lock|lock|unlock)(?:s|ed)?\b"), frozenset({"lock"})),
    (re.compile(r"\b(pause|resume|unpause)[sd]?\b"), frozenset({"media_player", "vacuum"})),
    (re.compile(r"\bpress\b"), frozenset({"button", "input_button"})),
    (re.compile(r"\b(dis)?arm(?:s|ed)?\b"), frozenset({"alarm_control_panel"})),
    (re.compile(r"\b(increment|decrement)(?:s|ed)?\b"), frozenset({"counter"})),
    (re.compile(r"\bmow(?:s|ing)?\b"), frozenset({"lawn_mower"})),
)
#: Words that say what kind of device, not which one: alone they name none.
KIND_WORDS = frozenset({
    "light", "lights", "lamp", "lamps", "switch", "plug", "sensor", "fan", "lock", "door",
    "cover",
})  # fmt: skip
_FILLER = frozenset({"the", "a", "an", "my", "our", "on", "off", "of", "in", "to"})
_QUOTED = re.compile(r"[\"“]([^\"”]{2,120})[\"”]|(?<!\w)'([^']{2,120})'(?!\w)")
_MESSAGE_END = re.compile(r"\s*(?::|->|→|=>|;|\bthen\b|,)\s*")


def asks_notification(prompt: str) -> bool:
    """Whether the request wants to be told ("notify me", "send an alert")."""
    return _NOTIFY.search(prompt) is not None


def composed_actions(prompt: str, home: Home, targets: Sequence[Entity]) -> list[dict[str, Any]]:
    """The actions the request asks of `targets` (`action_targets`), each from the clause
    that names it; an entity whose clause says no verb has the verb of the one before
    ("turn on the hall light and the radio"); and a notification when it asks for one."""
    names = {e.id: (e.name, *e.aliases) for e in home.entities}
    actions: list[dict[str, Any]] = []
    previous: str | None = None
    for entity in targets:
        # The first clause naming it that asks it something ("car plugged in? start
        # charging": the second).
        clauses = clauses_naming(prompt, names[entity.id])
        asked = ((c, action_for(entity.id, without_conditions(c))) for c in clauses)
        clause, action = next(((c, a) for c, a in asked if a is not None), (None, None))
        clause = clause or next(iter(clauses), None)
        if action is None and len(targets) == 1:
            # The one device, named where nothing is asked of it ("the Gaggia sits there
            # all day. ... switch it off"): what is asked of "it".
            clause, action = _asked_of_it(prompt, entity.id) or (clause, None)
        if action is None and previous is not None and _fits(previous, entity.domain):
            action = {"action": previous, "target": {"entity_id": entity.id}}
        if action is not None:
            actions.append(action)
            actions += _for_a_while(action, clause or "")
            previous = str(action["action"])
    _level_said_apart(actions, prompt)
    _values_in_turn(actions, prompt)
    if asks_notification(prompt):
        actions.append(notification(prompt))
    return actions


def _asked_of_it(prompt: str, entity_id: str) -> tuple[str, dict[str, Any]] | None:
    """The first clause that asks something of "it" or "them", with that action for the
    entity; None when none does."""
    for clause in CLAUSES.split(prompt):
        said = clause.casefold()
        asks = re.search(r"\b(?:it|them)\b", said)
        action = action_for(entity_id, without_conditions(said)) if asks else None
        if action is not None:
            return said, action
    return None


_LEVELED = {"light.turn_on": "brightness_pct", "fan.turn_on": "percentage"}


def _level_said_apart(actions: list[dict[str, Any]], prompt: str) -> None:
    """The one level a request gives ("..., and at 10% brightness") to the one light or fan
    it turns on without one, when its own clause did not say it."""
    levels = [m.group(1) for m in levels_in(prompt)]
    domains = {"light": "light.turn_on", "fan": "fan.turn_on"}
    bare = [
        a
        for a in actions
        if "data" not in a
        and a.get("action") in ("homeassistant.turn_on", *_LEVELED)
        and str(a["target"]["entity_id"]).partition(".")[0] in domains
    ]
    if len(levels) != 1 or len(bare) != 1:
        return
    action = bare[0]
    action["action"] = domains[str(action["target"]["entity_id"]).partition(".")[0]]
    value = float(levels[0])
    action["data"] = {_LEVELED[action["action"]]: int(value) if value == int(value) else value}


_SET_TO = re.compile(r"\bto\s+(-?\d+(?:\.\d+)?)")
_SET_KEYS = ("temperature", "value", "humidity")


def _values_in_turn(actions: list[dict[str, Any]], prompt: str) -> None:
    """ "the downstairs heat pump to 21 and upstairs to 19": each device that one service
    sets takes the value written in its turn, where the clause gave them all the first."""
    values = [float(m.group(1)) for m in _SET_TO.finditer(normalize(prompt.casefold()))]
    for key in _SET_KEYS:
        setting = [a for a in actions if key in a.get("data", {})]
        services = {str(a["action"]) for a in setting}
        alike = len(services) == 1 and len({a["data"][key] for a in setting}) == 1
        if len(setting) < 2 or not alike or len(values) != len(setting) or len(set(values)) < 2:
            continue
        for action, value in zip(setting, values, strict=True):
            action["data"][key] = int(value) if value == int(value) else value


_FOR = re.compile(
    r"\bfor\s+(\d+(?:\.\d+)?|an?)\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)\b"
)
_UNDO = {"turn_on": "turn_off", "open_cover": "close_cover", "open_valve": "close_valve"}


def _for_a_while(action: dict[str, Any], clause: str) -> list[dict[str, Any]]:
    """A wait and the undoing of `action` when its clause says how long ("sprinklers on for
    15 minutes"); nothing when it does not."""
    domain, _, service = str(action["action"]).partition(".")
    found = _FOR.search(normalize(clause))
    if found is None or service not in _UNDO:
        return []
    unit = {"s": "seconds", "m": "minutes", "h": "hours"}[found.group(2)[0]]
    count = 1.0 if found.group(1) in ("a", "an") else float(found.group(1))
    wait = {unit: int(count) if count == int(count) else count}
    undo = {"action": f"{domain}.{_UNDO[service]}", "target": dict(action["target"])}
    return [{"delay": wait}, undo]


def notification(prompt: str) -> dict[str, Any]:
    """Home Assistant's default notifier, with what happened as its message."""
    return {"action": "notify.notify", "data": {"message": _message(prompt)}}


def action_targets(
    prompt: str, home: Home, named: Sequence[Entity], areas: set[str], taken: set[str]
) -> list[Entity]:
    """What the request asks something of, in the order it names them: the actionable
    entities it names (`named`) that are not `taken`, and for each clause that asks an
    action of nothing named, the device its words name best ("switch the heater off";
    "unlock the front door" where Front Door is also a contact sensor)."""
    targets = [e for e in named if e.domain in ACTIONABLE and e.id not in taken]
    known = {e.id for e in named} | taken
    asking: frozenset[str] | None = None
    for clause in CLAUSES.split(prompt):
        said = clause.casefold()
        domains = verb_domains(said)
        if domains is None and not _ASKS.search(said):
            # "lock the front door and the patio door": the verb carries over.
            domains = asking if said.split()[:1] == ["the"] else None
            if domains is None:
                asking = None
                continue
        asking = domains or ACTIONABLE
        words = set(tokens(said))
        claimed = [e for e in named if _names_in(e, words)]
        # A clause that names what it asks of, or a sensor going off ("the smoke alarm goes
        # off"), asks nothing of another device.
        if any(e.domain in asking for e in claimed) or (claimed and domains is None):
            continue
        # "set both radiators to 20": every device a name of which says that kind.
        every = [e for e in _every_of(said, home, asking) if e.id not in known]
        best = _best_named(home, words, asking, areas, known)
        for entity in every if len(every) > 1 else [best] if best is not None else []:
            targets.append(entity)
            known.add(entity.id)
    return targets


_EVERY = re.compile(r"\b(?:all|both|every|each)(?: of)?(?: the| my| our)? ([a-z]+)")


def _every_of(clause: str, home: Home, domains: frozenset[str]) -> list[Entity]:
    """The devices of `domains` that "all the radiators" or "both lamps" names: each one
    a name of which holds that word (in the singular)."""
    said = _EVERY.search(clause)
    if said is None:
        return []
    word = said.group(1)
    kind = word[:-1] if word.endswith("s") and not word.endswith("ss") else word
    return [
        e
        for e in home.entities
        if e.domain in domains and any(kind in tokens(name) for name in e.names)
    ]


_WHEN = re.compile(
    r"(?<!\bonly )(?<!\bbut )\b(?:when|whenever|if|once|as soon as)\b(?:(?!->|→|=>)[^,;:?])*",
    re.IGNORECASE,
)
#: A command inside a "when ..." clause that runs on without a comma: where the trigger ends.
#: Not after a subject ("when I turn on the tv") or an article or noun ("the door lock has
#: been unlocked"), nor a state ("the lights switch off"), which a trigger may say.
_ASKED = re.compile(
    r"(?<!\bi )(?<!\bto )(?<!\byou )(?<!\bthe )(?<!\ba )(?<!\bmy )(?<!\bdoor )"
    r"\b(?:turn|switch|send|notify|lock|unlock|open|close|start|pause|play|set|put|activate|"
    r"dim|alert|tell|let|text|ping|shut)\b(?! (?:on|off)\b(?! the))(?!\s+(?:is|has|was|gets)\b)",
    re.IGNORECASE,
)
_WHILE = re.compile(r"\s+\b(?:while|whilst|only if|only when|as long as|but only|unless)\b")
_LEAD = re.compile(r"^(?:(?!->|→|=>)[^:;?])*(?=->|→|=>|:\s|;|\?)")


def trigger_text(prompt: str) -> str | None:
    """The words that say what sets the automation off: its "when ..." clause, up to what
    it asks done ("if there's water under the sink | send me an alert"), else what comes
    before "->" or ":" ("smoke alarm goes off: unlock the door"); None when neither is
    there."""
    match = _WHEN.search(prompt) or _LEAD.search(prompt)
    if match is None:
        return None
    # "... opens while the alarm is armed": what follows is a condition.
    text = _WHILE.split(match.group(0), maxsplit=1)[0]
    asked = _ASKED.search(text, 1)
    return text[: asked.start()].rstrip() if asked is not None else text


def trigger_words(prompt: str) -> tuple[int, int] | None:
    """`trigger_text` as a span of words, as `tokens` counts them."""
    text = trigger_text(prompt)
    if text is None:
        return None
    start = len(tokens(prompt[: prompt.index(text)]))
    return start, start + len(tokens(text))


#: Any verb that only one domain does (`_DOMAIN_VERBS`).
VERB = re.compile("|".join(pattern.pattern for pattern, _ in _DOMAIN_VERBS))


def verb_domains(clause: str) -> frozenset[str] | None:
    """The domains a clause's verb acts on only ("unlock": lock); None for any verb."""
    return next((d for pattern, d in _DOMAIN_VERBS if pattern.search(clause.casefold())), None)


def _names_in(entity: Entity, words: set[str]) -> bool:
    return any(set(tokens(name)) <= words for name in (entity.name, *entity.aliases))


def _best_named(
    home: Home, words: set[str], domains: frozenset[str], areas: set[str], known: set[str]
) -> Entity | None:
    """The one entity of `domains` whose name shares most words with the clause (ties
    broken by an area the request names); None when none or several fit."""
    spots: tuple[Area | Floor, ...] = (*home.areas, *home.floors)
    places = {w for spot in spots for name in (spot.name, *spot.aliases) for w in tokens(name)}
    # A place alone ("kitchen") or a kind alone ("light") names no one device, unless the
    # verb acts on one domain only and the request names none of it ("unlock the door").
    named_kin = any(e.domain in domains for e in home.entities if e.id in known)
    one_domain = domains != ACTIONABLE and len(domains) == 1
    narrow = one_domain and not named_kin
    kinds = frozenset() if narrow else KIND_WORDS
    # "unlock the workshop": so does a place, for the one device of the verb's kind in it.
    said_areas = {
        a.id for a in home.areas if any(set(tokens(n)) <= words for n in (a.name, *a.aliases))
    }
    scored = []
    for entity in home.entities:
        if entity.domain not in domains or entity.id in known:
            continue
        in_place = one_domain and entity.area_id in said_areas
        own = {w for name in (entity.name, *entity.aliases) for w in tokens(name)}
        shared = own & words - _FILLER
        # "start charging" names the EV Charger: a word in another form shares its root,
        # which counts for less than the word itself.
        roots = {root(w): w for w in own}
        rooted = {roots[root(w)] for w in words if root(w) in roots} - shared - _FILLER
        hits = len(shared) + 0.5 * len(rooted)
        if len(shared) >= 2 or (shared | rooted) - places - kinds or in_place:
            scored.append((hits + (0.5 if entity.area_id in areas else 0.0), entity))
    scored.sort(key=lambda pair: -pair[0])
    if not scored or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return scored[0][1]


def _fits(service: str, domain: str) -> bool:
    """Whether `service` (the clause before's) can act on an entity of `domain`."""
    acting = service.partition(".")[0]
    return acting == "homeassistant" or acting == domain


def _message(prompt: str) -> str:
    """The notification's text: what the request quotes, else its first clause, which
    says what happened ("Kitchen smoke alarm goes off")."""
    quoted = _QUOTED.search(prompt)
    if quoted is not None:
        return (quoted.group(1) or quoted.group(2)).strip()
    first = _MESSAGE_END.split(prompt.strip(), maxsplit=1)[0].strip(" ?!.")
    return (first[:1].upper() + first[1:])[:100] or "Home Assistant automation"
