"""The home as Home Assistant's own registries describe it, turned into a `Home`: pure, so
what is read over the WebSocket API (`connection`) is tested without one.

Home Assistant's default conversation agent lists what Assist may act on this way, and so
does this module: every entity with a state that is exposed to Assist (`conversation`), named
by its state's `friendly_name`, with the entity registry's aliases, in its own area or else
its device's, with its state's `device_class`.

What Home Assistant sends is read as untrusted: a result of the wrong shape is refused with
a `HomeAssistantDataError` naming the command; one entity, area or floor that cannot be used
(a name that is empty or too long, say) is skipped and reported, never the whole home.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slm_mesh.services.home.homeassistant.errors import HomeAssistantDataError
from slm_mesh.services.home.model import (
    MAX_ALIASES,
    MAX_ITEMS,
    Area,
    Entity,
    Floor,
    Home,
    name_fault,
)

#: The commands a snapshot is read with, and what each answers.
FLOORS = "config/floor_registry/list"
AREAS = "config/area_registry/list"
DEVICES = "config/device_registry/list"
ENTITIES = "config/entity_registry/list"
ENTITY_DETAILS = "config/entity_registry/get_entries"
STATES = "get_states"
EXPOSED = "homeassistant/expose_entity/list"
EXPOSE_NEW = "homeassistant/expose_new_entities/get"

#: The events after which the home is read again.
REGISTRY_EVENTS = (
    "floor_registry_updated",
    "area_registry_updated",
    "device_registry_updated",
    "entity_registry_updated",
)
STATE_CHANGED = "state_changed"

ASSISTANT = "conversation"
"""Home Assistant's name for Assist where exposure settings are kept."""

# What Home Assistant exposes to Assist when an entity has no setting of its own
# (homeassistant/exposed_entities.py): these domains, and sensors of these classes.
DEFAULT_EXPOSED_DOMAINS = frozenset({
    "climate", "cover", "fan", "humidifier", "light", "lock", "scene", "script", "switch",
    "vacuum", "water_heater",
})  # fmt: skip
DEFAULT_EXPOSED_DEVICE_CLASSES = {
    "binary_sensor": frozenset(
        {"door", "garage_door", "lock", "motion", "opening", "presence", "window"}
    ),
    "sensor": frozenset({
        "aqi", "carbon_monoxide", "carbon_dioxide", "humidity", "pm10", "pm25", "temperature",
        "volatile_organic_compounds",
    }),
}  # fmt: skip


@dataclass(frozen=True)
class Snapshot:
    """The answers to the snapshot's commands, as Home Assistant sent them."""

    floors: Any
    areas: Any
    devices: Any
    entities: Any
    states: Any
    exposed: Any = None
    """`homeassistant/expose_entity/list`; None when the token may not read it (admins only)."""
    expose_new: Any = True
    aliases: Mapping[str, Any] = field(default_factory=dict)
    """Entity id -> the entity registry's aliases (`get_entries`), for the exposed ones."""


@dataclass(frozen=True)
class ReadHome:
    home: Home
    skipped: tuple[str, ...] = ()
    """One line per floor, area or entity left out, saying why."""


@dataclass(frozen=True)
class EntityView:
    """What the home needs of one entity with a state; compared to tell whether a
    `state_changed` event changes the home (most change only the state)."""

    name: str | None
    device_class: str | None

    @classmethod
    def of(cls, state: Any) -> EntityView | None:
        """None for a state that is not a mapping (an entity removed, or garbage)."""
        if not isinstance(state, Mapping):
            return None
        attributes = state.get("attributes")
        attributes = attributes if isinstance(attributes, Mapping) else {}
        return cls(
            name=_text(attributes.get("friendly_name")),
            device_class=_text(attributes.get("device_class")),
        )


def state_change_matters(data: Any) -> bool:
    """Whether a `state_changed` event's data adds, removes, renames or reclassifies an
    entity; a new state alone (a light turned on, a sensor's reading) changes nothing."""
    if not isinstance(data, Mapping):
        return False
    return EntityView.of(data.get("old_state")) != EntityView.of(data.get("new_state"))


def exposed_ids(snapshot: Snapshot) -> list[str]:
    """The ids of the entities with a state that Assist may act on."""
    registry = _by_key(_records(snapshot.entities, ENTITIES), "entity_id", ENTITIES)
    exposed = _exposure(snapshot.exposed)
    expose_new = snapshot.expose_new is not False
    states = _by_key(_records(snapshot.states, STATES), "entity_id", STATES)
    return [
        entity_id
        for entity_id, state in states.items()
        if "." in entity_id
        and _is_exposed(entity_id, state, registry.get(entity_id), exposed, expose_new)
    ]


def home_from(snapshot: Snapshot) -> ReadHome:
    """The home Assist sees; raises `HomeAssistantDataError` for a result of the wrong
    shape, and skips (reporting why) what cannot be one floor, area or entity."""
    skipped: list[str] = []
    floors = _floors(_records(snapshot.floors, FLOORS), skipped)
    floor_ids = {floor.id for floor in floors}
    areas = _areas(_records(snapshot.areas, AREAS), floor_ids, skipped)
    area_ids = {area.id for area in areas}
    device_areas = {
        device_id: area_id
        for device_id, device in _by_key(_records(snapshot.devices, DEVICES), "id", DEVICES).items()
        if (area_id := _text(device.get("area_id"))) in area_ids
    }
    registry = _by_key(_records(snapshot.entities, ENTITIES), "entity_id", ENTITIES)
    entity_areas = {}
    for entity_id, entry in registry.items():
        area_id = _text(entry.get("area_id"))
        if area_id not in area_ids:
            area_id = device_areas.get(_text(entry.get("device_id")) or "")
        if area_id is not None:
            entity_areas[entity_id] = area_id
    states = _by_key(_records(snapshot.states, STATES), "entity_id", STATES)
    entities = []
    for entity_id in exposed_ids(snapshot)[: MAX_ITEMS["entities"]]:
        entry = registry.get(entity_id, {})
        aliases = snapshot.aliases.get(entity_id)
        entity = _entity(
            entity_id, states[entity_id], entry, aliases, entity_areas.get(entity_id), skipped
        )
        if entity is not None:
            entities.append(entity)
    home = Home(
        floors=floors,
        areas=areas,
        entities=tuple(entities),
        # A satellite speaks from its device's area: HA sends its device id and entity id.
        device_areas=tuple(sorted({**device_areas, **entity_areas}.items())),
    )
    return ReadHome(home=home, skipped=tuple(skipped))


def _floors(records: list[Mapping[str, Any]], skipped: list[str]) -> tuple[Floor, ...]:
    floors: dict[str, Floor] = {}
    for record in records[: MAX_ITEMS["floors"]]:
        names = _names(record, "floor", record.get("floor_id"), skipped)
        if names is not None:
            floor_id, name, aliases = names
            floors.setdefault(floor_id, Floor(id=floor_id, name=name, aliases=aliases))
    return tuple(floors.values())


def _areas(
    records: list[Mapping[str, Any]], floor_ids: set[str], skipped: list[str]
) -> tuple[Area, ...]:
    areas: dict[str, Area] = {}
    for record in records[: MAX_ITEMS["areas"]]:
        names = _names(record, "area", record.get("area_id"), skipped)
        if names is not None:
            area_id, name, aliases = names
            floor_id = _text(record.get("floor_id"))
            floor_id = floor_id if floor_id in floor_ids else None
            area = Area(id=area_id, name=name, floor_id=floor_id, aliases=aliases)
            areas.setdefault(area_id, area)
    return tuple(areas.values())


def _entity(
    entity_id: str,
    state: Mapping[str, Any],
    entry: Mapping[str, Any],
    aliases: Any,
    area_id: str | None,
    skipped: list[str],
) -> Entity | None:
    view = EntityView.of(state)
    name = (
        (view.name if view else None)
        or _text(entry.get("name"))
        or _text(entry.get("original_name"))
        or entity_id.split(".", 1)[1].replace("_", " ")
    )
    record = {"name": name, "aliases": aliases}
    names = _names(record, "entity", entity_id, skipped)
    if names is None:
        return None
    _, name, alias_names = names
    return Entity(
        id=entity_id,
        name=name,
        area_id=area_id,
        aliases=alias_names,
        device_class=view.device_class if view else None,
    )


def _names(
    record: Mapping[str, Any], kind: str, item_id: Any, skipped: list[str]
) -> tuple[str, str, tuple[str, ...]] | None:
    """The id, name and aliases of a floor, area or entity; None (with the reason in
    `skipped`) when its id or name cannot be used. Aliases that cannot be are dropped."""
    if not isinstance(item_id, str) or name_fault(item_id.strip()) is not None:
        skipped.append(f"{kind} without a usable id ({item_id!r:.60})")
        return None
    raw_name = record.get("name")
    name = raw_name.strip() if isinstance(raw_name, str) else ""
    fault = name_fault(name) if isinstance(raw_name, str) else "is not text"
    if fault is not None:
        skipped.append(f"{kind} {item_id}: its name {fault}")
        return None
    raw_aliases = record.get("aliases")
    aliases = raw_aliases if isinstance(raw_aliases, list) else []
    usable = [a.strip() for a in aliases[:MAX_ALIASES] if isinstance(a, str)]
    written = [a for a in usable if name_fault(a) is None and a != name]
    return item_id.strip(), name, tuple(dict.fromkeys(written))


def _is_exposed(
    entity_id: str,
    state: Mapping[str, Any],
    entry: Mapping[str, Any] | None,
    exposed: Mapping[str, bool],
    expose_new: bool,
) -> bool:
    """As Home Assistant decides (`async_should_expose`): the entity's own setting, else
    the default for new entities."""
    if entity_id in exposed:
        return exposed[entity_id]
    options = entry.get("options") if entry is not None else None
    setting = options.get(ASSISTANT) if isinstance(options, Mapping) else None
    if isinstance(setting, Mapping) and isinstance(setting.get("should_expose"), bool):
        return bool(setting["should_expose"])
    if not expose_new:
        return False
    if entry is not None and (entry.get("entity_category") or entry.get("hidden_by")):
        return False
    domain = entity_id.split(".", 1)[0]
    if domain in DEFAULT_EXPOSED_DOMAINS:
        return True
    view = EntityView.of(state)
    return view is not None and view.device_class in DEFAULT_EXPOSED_DEVICE_CLASSES.get(
        domain, frozenset()
    )


def _exposure(result: Any) -> dict[str, bool]:
    """Entity id -> exposed to Assist, from `homeassistant/expose_entity/list`; only the
    entities with a setting of their own."""
    if result is None:
        return {}
    listed = result.get("exposed_entities") if isinstance(result, Mapping) else None
    if not isinstance(listed, Mapping):
        raise HomeAssistantDataError(EXPOSED, "its result has no `exposed_entities` mapping")
    return {
        entity_id: settings[ASSISTANT]
        for entity_id, settings in listed.items()
        if isinstance(settings, Mapping) and isinstance(settings.get(ASSISTANT), bool)
    }


def _records(result: Any, command: str) -> list[Mapping[str, Any]]:
    """A list result's mappings; anything else in it is left out."""
    if not isinstance(result, list):
        raise HomeAssistantDataError(command, f"its result is {type(result).__name__}, not a list")
    return [item for item in result if isinstance(item, Mapping)]


def _by_key(
    records: list[Mapping[str, Any]], key: str, command: str
) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for record in records:
        value = record.get(key)
        if isinstance(value, str):
            found.setdefault(value, record)
    if records and not found:
        raise HomeAssistantDataError(command, f"none of its {len(records)} items has `{key}`")
    return found


def _text(value: Any) -> str | None:
    """Text that says something, stripped; None for anything else."""
    return value.strip() or None if isinstance(value, str) else None
