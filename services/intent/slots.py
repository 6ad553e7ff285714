"""Slot resolution: from a predicted label and a sentence to Home Assistant slots.

Pure: the classifier says *what* is asked (intent, and the domain when the request is
about a kind of device); this module reads *which* device, area or value from the words,
resolved against the home. A label whose required slots cannot be found is reported
incomplete, so the recognizer can try the next label or decline.
"""

from __future__ import annotations

from dataclasses import dataclass

from slm_mesh.services.contracts.intent import SlotValue
from slm_mesh.services.home.domains import INTENT_DOMAINS, TARGETED
from slm_mesh.services.home.model import Area, Entity, Floor, Home
from slm_mesh.services.language import values
from slm_mesh.services.language.mentions import MentionFinder, Mentions
from slm_mesh.services.language.numbers import normalize

OUT_OF_SCOPE = "OutOfScope"
#: Fixed template slots that are part of what a sentence asks, so part of the label.
LABEL_SLOTS = ("domain", "volume_step")
#: Words that name a kind of device, and the domain they mean.
_DOMAIN_WORDS = {"light": "light", "lights": "light", "lamp": "light", "lamps": "light",
                 "fan": "fan", "fans": "fan", "blinds": "cover", "curtains": "cover",
                 "shades": "cover", "shutters": "cover", "awning": "cover", "lock": "lock",
                 "locks": "lock", "heating": "climate", "thermostat": "climate",
                 "tv": "media_player", "telly": "media_player", "music": "media_player",
                 "vacuum": "vacuum", "hoover": "vacuum"}  # fmt: skip
_COVER_CLASSES = {"blind": "blind", "blinds": "blind", "curtain": "curtain", "curtains": "curtain",
                  "shade": "shade", "shades": "shade", "shutter": "shutter",
                  "shutters": "shutter", "awning": "awning", "garage": "garage",
                  "gate": "gate", "window": "window", "windows": "window"}  # fmt: skip


@dataclass(frozen=True, order=True)
class Label:
    """What the classifier predicts: an intent and the fixed slots that shape it."""

    intent: str
    fixed: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        return " ".join([self.intent, *(f"{k}={v}" for k, v in self.fixed)])

    @classmethod
    def parse(cls, key: str) -> Label:
        intent, *pairs = key.split(" ")
        return cls(intent, tuple(tuple(p.split("=", 1)) for p in pairs))  # type: ignore[misc]

    @classmethod
    def of(cls, intent: str, slots: dict[str, SlotValue]) -> Label:
        """The label of a template sentence; a numeric volume step labels as up or down."""
        fixed = []
        for name in LABEL_SLOTS:
            if name in slots:
                value = slots[name]
                if name == "volume_step" and isinstance(value, int | float):
                    value = "up" if value > 0 else "down"
                fixed.append((name, str(value)))
        return cls(intent, tuple(fixed))

    def get(self, slot: str) -> str | None:
        return dict(self.fixed).get(slot)


@dataclass(frozen=True)
class Resolution:
    slots: dict[str, SlotValue]
    complete: bool
    """False when the intent's required slots are missing from the sentence."""


_LIST_INTENTS = {
    "HassShoppingListAddItem", "HassShoppingListCompleteItem",
    "HassListAddItem", "HassListCompleteItem", "HassListRemoveItem",
}  # fmt: skip


class SlotResolver:
    def __init__(self, *, home: Home) -> None:
        self.home = home
        self.mentions = MentionFinder(home=home)

    def resolve(self, text: str, label: Label, *, area: Area | None = None) -> Resolution:
        said = normalize(text)
        mentions = self.mentions.find(said)
        slots: dict[str, SlotValue] = {}
        domain = label.get("domain")
        if domain:
            slots["domain"] = domain
        step = label.get("volume_step")
        if step:
            amount = values.percentage(said)
            slots["volume_step"] = step if amount is None else amount * (1 if step == "up" else -1)
        complete = self._values(label.intent, said, text, slots)
        if label.intent in TARGETED or label.intent in _TARGET_OPTIONAL:
            complete = self._target(label, said, mentions, slots, context=area) and complete
        return Resolution(slots=slots, complete=complete)

    def _values(self, intent: str, said: str, original: str, slots: dict[str, SlotValue]) -> bool:
        """Fill the intent's value slots; False when a required one is missing."""
        if intent == "HassLightSet":
            kelvin = values.color_temperature(said)
            found_color = values.color(said)
            brightness = values.percentage(said)
            if kelvin is not None:
                slots["temperature"] = kelvin
            elif found_color:
                slots["color"] = found_color
            elif brightness is not None:
                slots["brightness"] = brightness
            return kelvin is not None or bool(found_color) or brightness is not None
        if intent in ("HassSetPosition", "HassSetVolume", "HassFanSetSpeed"):
            slot = {"HassSetPosition": "position", "HassSetVolume": "volume_level",
                    "HassFanSetSpeed": "percentage"}[intent]  # fmt: skip
            number = values.percentage(said)
            if number is not None:
                slots[slot] = number
            return number is not None
        if intent == "HassClimateSetTemperature":
            degrees = values.temperature(said)
            if degrees is not None:
                slots["temperature"] = degrees
            unit = values.temperature_unit(said)
            if unit is not None:
                slots["temperature_unit"] = unit
            return degrees is not None
        if intent in ("HassStartTimer", "HassIncreaseTimer", "HassDecreaseTimer"):
            slots.update(values.duration(said))
            return any(k in slots for k in ("hours", "minutes", "seconds"))
        if intent in _LIST_INTENTS:
            adds = intent in ("HassShoppingListAddItem", "HassListAddItem")
            item = values.list_item(said) if adds else values.checked_item(said)
            if item:
                slots["item"] = item
            if intent.startswith("HassList"):
                slots.setdefault("name", "Shopping List")
            return bool(item)
        if intent == "HassGetState":
            asked = values.state(said)
            if asked is not None:
                slots["state"] = asked
            return True
        if intent == "HassMediaSearchAndPlay":
            found = values.media_search(said, is_place=self._names_a_place)
            if found is not None:
                slots["search_query"], media_class = found
                if media_class is not None:
                    slots["media_class"] = media_class
            return found is not None
        if intent == "HassBroadcast":
            message = values.message(original)
            if message:
                slots["message"] = message
            return bool(message)
        return True

    def _names_a_place(self, words: str) -> bool:
        """True when `words` name one of the home's devices or areas ("the kitchen radio")."""
        mentions = self.mentions.find(words)
        return bool(mentions.entities or mentions.areas or mentions.floors)

    def _target(
        self,
        label: Label,
        said: str,
        mentions: Mentions,
        slots: dict[str, SlotValue],
        *,
        context: Area | None,
    ) -> bool:
        """Which device, area or floor; a resolved entity brings its domain."""
        domain = label.get("domain")
        best = mentions.best_entity()
        entity = best.target if best is not None else None
        if isinstance(entity, Entity) and entity.domain not in INTENT_DOMAINS.get(
            label.intent, {entity.domain}
        ):
            return False  # "is the computer hot?" names a sensor: not a climate question
        if isinstance(entity, Entity) and (domain is None or entity.domain == domain):
            slots["name"] = entity.name
            slots.setdefault("domain", entity.domain)
            if entity.device_class:
                slots.setdefault("device_class", entity.device_class)
        if "domain" not in slots:
            said_domains = [_DOMAIN_WORDS[w] for w in said.split() if w in _DOMAIN_WORDS]
            if said_domains:
                slots["domain"] = said_domains[0]
        place = mentions.areas[0].target if mentions.areas else None
        floor = mentions.floors[0].target if mentions.floors else None
        if isinstance(place, Area):
            slots["area"] = place.name
        if isinstance(floor, Floor):
            slots["floor"] = floor.name
        if slots.get("domain") == "cover" and "device_class" not in slots:
            words = [w for w in said.split() if w in _COVER_CLASSES]
            device_class = _COVER_CLASSES[words[0]] if words else None
            if device_class:
                slots["device_class"] = device_class
        targeted = any(k in slots for k in ("name", "area", "floor"))
        if not targeted and context is not None and "name" not in slots:
            slots["area"] = context.name
        if label.intent in _TARGET_OPTIONAL:
            return True
        if label.intent in ("HassTurnOn", "HassTurnOff", "HassToggle", "HassGetState"):
            return "name" in slots or "domain" in slots
        return any(k in slots for k in ("name", "domain", "area", "floor"))


#: Intents that may name a device or place but work without one.
_TARGET_OPTIONAL = frozenset({
    "HassClimateGetTemperature", "HassClimateSetTemperature", "HassMediaPause",
    "HassMediaUnpause", "HassMediaNext", "HassMediaPrevious", "HassVacuumCleanArea",
    "HassSetVolume", "HassSetVolumeRelative", "HassMediaPlayerMute", "HassMediaPlayerUnmute",
    "HassMediaSearchAndPlay",
})  # fmt: skip
