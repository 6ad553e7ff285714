"""Opt-in execution: a resolved intent as MQTT commands on the devices' own topics.

Pure planning; the router's MQTT edge publishes the plan. Targets are found from the
slots the way Home Assistant's intents find them (a name, else an area or floor narrowed by
domain and device class), and the payloads are the ones Home Assistant's MQTT platforms
would send, read from each device's discovery message. An entity is never acted on when
its domain is not allowed, nothing trustworthy was discovered to command it
(`command_trust`), or the payload is not one of its domain's: it is listed in
`Plan.skipped` with the reason instead. A name that several entities answer to acts on
none of them until the area is said, as Home Assistant's intents do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from slm_mesh.services.contracts.intent import IntentResult, SlotValue
from slm_mesh.services.home.discovery import DiscoveredEntity
from slm_mesh.services.home.domains import INTENT_DOMAINS
from slm_mesh.services.home.model import Entity, Home
from slm_mesh.services.router.command_trust import payload_fits

#: What an area-wide request with no kind of device named may switch ("turn off the
#: kitchen"): never locks, covers or valves.
_AREA_WIDE_DOMAINS = frozenset({"light", "switch", "fan"})


@dataclass(frozen=True)
class Command:
    entity_id: str
    topic: str
    payload: str
    retain: bool = False
    qos: int = 1


@dataclass(frozen=True)
class Skipped:
    entity_id: str
    reason: str


@dataclass(frozen=True)
class Plan:
    commands: tuple[Command, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    """Targets that are not acted on, and why."""
    reason: str = ""
    """Why nothing at all is planned ("not executable", "no matching entity", ...)."""


Action = Callable[[DiscoveredEntity], "list[tuple[str, str]] | str"]
"""The (topic, payload) pairs for one device, or why it cannot be done."""


def plan_commands(
    result: IntentResult,
    home: Home,
    devices: Mapping[str, DiscoveredEntity | str],
    *,
    allowed_domains: frozenset[str],
) -> Plan:
    """The commands that carry out `result` on the home's discovered devices; `devices`
    gives, by entity id, what to command it by or why it may not be (`commandable`)."""
    action = _action(result.intent, result.slots)
    if isinstance(action, str):
        return Plan(reason=action)
    targets = match_targets(result.intent or "", result.slots, home)
    if isinstance(targets, str):
        return Plan(reason=targets)
    commands: list[Command] = []
    skipped: list[Skipped] = []
    for entity in targets:
        found = devices.get(entity.id)
        if entity.domain not in allowed_domains:
            skipped.append(Skipped(entity.id, f"domain {entity.domain!r} is not allowed"))
        elif found is None:
            skipped.append(Skipped(entity.id, "not discovered, so no command topic"))
        elif isinstance(found, str):
            skipped.append(Skipped(entity.id, found))
        else:
            planned = action(found)
            if isinstance(planned, str):
                skipped.append(Skipped(entity.id, planned))
            else:
                commands.extend(Command(entity.id, topic, payload) for topic, payload in planned)
    return Plan(commands=tuple(commands), skipped=tuple(skipped))


def match_targets(intent: str, slots: Mapping[str, SlotValue], home: Home) -> list[Entity] | str:
    """The entities the slots name, or why there are none."""
    name, area_name, floor_name, domain, device_class = (
        str(slots[key]) if key in slots else None
        for key in ("name", "area", "floor", "domain", "device_class")
    )
    entities = list(home.entities)
    if name is not None:
        wanted = name.strip().casefold()
        entities = [e for e in entities if wanted in (n.casefold() for n in e.names)]
    if area_name is not None:
        area = home.find_area(area_name)
        if area is None:
            return f"no area called {area_name!r}"
        entities = [e for e in entities if e.area_id == area.id]
    if floor_name is not None:
        wanted = floor_name.strip().casefold()
        floors = {
            f.id
            for f in home.floors
            if wanted in {n.casefold() for n in (f.name, f.id, *f.aliases)}
        }
        if not floors:
            return f"no floor called {floor_name!r}"
        on_floor = {a.id for a in home.areas if a.floor_id in floors}
        entities = [e for e in entities if e.area_id in on_floor]
    domains: Collection[str] | None = INTENT_DOMAINS.get(intent)
    if domain is not None:
        entities = [e for e in entities if e.domain == domain]
    elif name is None and domains is None:
        domains = _AREA_WIDE_DOMAINS
    if domains is not None:
        entities = [e for e in entities if e.domain in domains]
    if device_class is not None:
        entities = [e for e in entities if e.device_class == device_class]
    targeted = any(v is not None for v in (name, area_name, floor_name, domain))
    if not entities:
        return "no matching entity"
    if name is not None and len(entities) > 1:
        return f"{len(entities)} entities are called {name!r}: say which area"
    if not targeted and len(entities) > 1:
        return f"{len(entities)} entities match: name one"
    return entities


def _action(intent: str | None, slots: Mapping[str, SlotValue]) -> Action | str:
    """How to carry out the intent on one device, or why the intent cannot be executed."""
    if intent in ("HassTurnOn", "HassTurnOff"):
        on = intent == "HassTurnOn"
        return lambda found: _on_off(found, on=on)
    number_slot = {"HassLightSet": "brightness", "HassSetPosition": "position",
                   "HassClimateSetTemperature": "temperature"}.get(intent or "")  # fmt: skip
    if number_slot is None or number_slot not in slots:
        return "not executable"
    try:
        value = float(slots[number_slot])
    except ValueError:
        return f"{number_slot} {slots[number_slot]!r} is not a number"
    if intent == "HassLightSet":
        return lambda found: _brightness(found, value)
    if intent == "HassSetPosition":
        return lambda found: _position(found, value)
    return lambda found: _temperature(found, value)


def _on_off(found: DiscoveredEntity, *, on: bool) -> list[tuple[str, str]] | str:
    """Home Assistant's turn on/off per domain: a lock locks, a cover or valve opens."""
    domain = found.entity.domain
    topic = found.command_topic
    if topic is None:
        return "no discovered command topic"
    if domain == "light" and found.schema == "json":
        return [(topic, json.dumps({"state": "ON" if on else "OFF"}))]
    if found.schema == "template" or found.command_template is not None:
        return "needs a command template, which is not rendered here"
    payload: str | None
    if domain in ("light", "switch", "fan"):
        payload = found.payload_on if on else found.payload_off
    elif domain == "lock":
        payload = found.payload_lock if on else found.payload_unlock
    elif domain in ("cover", "valve"):
        payload = found.payload_open if on else found.payload_close
    elif domain == "scene" and on:
        payload = found.payload_on
    elif domain == "button" and on:
        payload = found.payload_press
    else:
        return f"not executable for {domain}"
    if payload is None:
        return "the device declares no payload for this"
    if not payload_fits(domain, payload):
        return f"payload {payload[:40]!r} is not one a {domain} takes; not sent"
    return [(topic, payload)]


def _device_brightness(percent: float, scale: int) -> int:
    """As Home Assistant scales it: percent to 0-255, then to the device's scale, at least 1."""
    brightness = round(percent * 255 / 100)
    return max(min(round(brightness / 255 * scale), scale), 1)


def _brightness(found: DiscoveredEntity, percent: float) -> list[tuple[str, str]] | str:
    if found.entity.domain != "light":
        return "not a light"
    if not 0 <= percent <= 100:
        return f"brightness {percent:g}% is out of range"
    if percent == 0:
        return _on_off(found, on=False)
    if found.schema == "json":
        if found.command_topic is None or not found.json_brightness:
            return "the light does not take a brightness"
        level = _device_brightness(percent, found.brightness_scale)
        return [(found.command_topic, json.dumps({"state": "ON", "brightness": level}))]
    topic = found.brightness_command_topic
    if topic is None:
        return "the light has no brightness command topic"
    if found.schema == "template" or found.brightness_command_template is not None:
        return "needs a command template, which is not rendered here"
    value = str(_device_brightness(percent, found.brightness_scale))
    on: list[tuple[str, str]] = []
    if found.command_topic and found.payload_on:
        if not payload_fits("light", found.payload_on):
            return f"payload {found.payload_on[:40]!r} is not one a light takes; not sent"
        on = [(found.command_topic, found.payload_on)]
    if found.on_command_type == "first":
        return [*on, (topic, value)]
    if found.on_command_type == "last":
        return [(topic, value), *on]
    return [(topic, value)]


def _position(found: DiscoveredEntity, percent: float) -> list[tuple[str, str]] | str:
    if found.entity.domain != "cover" or found.set_position_topic is None:
        return "no discovered set-position topic"
    if found.set_position_template is not None:
        return "needs a position template, which is not rendered here"
    if not 0 <= percent <= 100:
        return f"position {percent:g}% is out of range"
    low, high = found.position_closed, found.position_open
    return [(found.set_position_topic, str(round(low + (high - low) * percent / 100)))]


def _temperature(found: DiscoveredEntity, degrees: float) -> list[tuple[str, str]] | str:
    if found.entity.domain != "climate" or found.temperature_command_topic is None:
        return "no discovered temperature command topic"
    if found.temperature_command_template is not None:
        return "needs a temperature template, which is not rendered here"
    return [(found.temperature_command_topic, str(degrees))]
