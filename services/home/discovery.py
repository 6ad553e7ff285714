"""Learn the home from Home Assistant MQTT discovery messages.

Zigbee2MQTT, Tasmota and ESPHome announce each entity on
`homeassistant/<component>/[<node_id>/]<object_id>/config` with a JSON payload; an empty
payload removes it. Keys may be abbreviated (`cmd_t`) and topics may start or end with `~`,
the payload's base topic, as Home Assistant's discovery expands them. Pure: the MQTT edge
feeds messages in and logs the `DiscoveryError` of a payload it cannot use.

Any client on the broker may announce anything, so the home file stays in charge: an
announcement for an entity the file defines adds only how to command it (never its name,
area or aliases), and one that gives a new entity a name the file's entities already use
is refused. Which announcements may be acted on is decided where commands are planned
(`router/command_trust.py`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any, Literal

from slm_mesh.services.errors import SlmMeshError, UnreadablePayload
from slm_mesh.services.home.model import MAX_ITEMS, Area, Entity, Floor, Home, name_fault
from slm_mesh.services.runtime.json_payload import load_json

#: The abbreviations (Home Assistant's table) of the keys this module reads.
_ABBREVIATIONS = {
    "bri_cmd_t": "brightness_command_topic", "bri_cmd_tpl": "brightness_command_template",
    "bri_scl": "brightness_scale", "cmd_t": "command_topic", "cmd_tpl": "command_template",
    "def_ent_id": "default_entity_id", "dev": "device", "dev_cla": "device_class",
    "obj_id": "object_id", "on_cmd_type": "on_command_type", "pl_cls": "payload_close",
    "pl_lock": "payload_lock", "pl_off": "payload_off", "pl_on": "payload_on",
    "pl_open": "payload_open", "pl_prs": "payload_press", "pl_unlk": "payload_unlock",
    "pos_clsd": "position_closed", "pos_open": "position_open",
    "set_pos_t": "set_position_topic", "set_pos_tpl": "set_position_template",
    "stat_t": "state_topic", "sup_clrm": "supported_color_modes",
    "temp_cmd_t": "temperature_command_topic", "temp_cmd_tpl": "temperature_command_template",
    "uniq_id": "unique_id",
}  # fmt: skip
_DEVICE_ABBREVIATIONS = {"sa": "suggested_area"}
#: Discovery components that announce devices' triggers or tags, not entities.
_NOT_ENTITIES = frozenset({"device_automation", "tag"})
_ID = re.compile(r"[a-zA-Z0-9_-]+")
#: Announcements kept at once: a home file's limit on entities (`home.MAX_ITEMS`).
MAX_ANNOUNCEMENTS = MAX_ITEMS["entities"]
#: Longest topic read from an announcement.
_MAX_TEXT = 1024
Schema = Literal["default", "json", "template"]


class DiscoveryError(SlmMeshError):
    """A discovery message this module cannot use; the caller logs it and goes on."""

    code = "invalid_request"

    def __init__(self, topic: str, why: str) -> None:
        super().__init__(f"{topic}: {why}")
        self.topic = topic
        self.why = why


@dataclass(frozen=True)
class DiscoveredEntity:
    """An entity and what it takes to command it, as its discovery message said."""

    entity: Entity
    """`area_id` is None here; `DiscoveryRegistry.merged_home` places it."""
    discovery_topic: str
    unique_id: str | None = None
    suggested_area: str | None = None
    """The device's area as the device names it (matched to a home area on merge)."""
    command_topic: str | None = None
    state_topic: str | None = None
    command_template: str | None = None
    """Set when on/off payloads need a Jinja template this project does not render."""
    payload_on: str | None = "ON"
    payload_off: str | None = "OFF"
    payload_lock: str | None = "LOCK"
    payload_unlock: str | None = "UNLOCK"
    payload_open: str | None = "OPEN"
    payload_close: str | None = "CLOSE"
    payload_press: str | None = "PRESS"
    schema: Schema = "default"
    """A light's message shape: plain payloads, JSON objects, or templates."""
    brightness_command_topic: str | None = None
    brightness_command_template: str | None = None
    brightness_scale: int = 255
    on_command_type: Literal["first", "last", "brightness"] = "last"
    json_brightness: bool = False
    """A JSON-schema light that takes `brightness` in its command."""
    set_position_topic: str | None = None
    set_position_template: str | None = None
    position_open: int = 100
    position_closed: int = 0
    temperature_command_topic: str | None = None
    temperature_command_template: str | None = None


def discovery_filters(prefix: str = "homeassistant") -> tuple[str, str]:
    """The subscriptions that see every config:
    `<prefix>/<component>/[<node_id>/]<object_id>/config`."""
    return f"{prefix}/+/+/config", f"{prefix}/+/+/+/config"


def parse_discovery(
    topic: str, payload: bytes, *, prefix: str = "homeassistant"
) -> DiscoveredEntity | None:
    """The entity a discovery message announces; None for a removal or a non-entity."""
    component, node_id, object_id = _split_topic(topic, prefix)
    if not payload.strip():
        return None
    if component in _NOT_ENTITIES:
        return None
    try:
        config = load_json(payload)
    except UnreadablePayload as err:
        raise DiscoveryError(topic, str(err)) from None
    if not isinstance(config, dict):
        raise DiscoveryError(topic, "payload is not a JSON object")
    return _Reader(topic, _expand(topic, config)).entity(component, node_id, object_id)


class DiscoveryRegistry:
    """The entities discovered so far, keyed by discovery topic, beside the home file."""

    def __init__(self, *, base: Home | None = None, prefix: str = "homeassistant") -> None:
        self.prefix = prefix
        self._by_topic: dict[str, DiscoveredEntity] = {}
        self.rebase(base or Home())

    def rebase(self, base: Home) -> None:
        """Discovery beside another home (the one Home Assistant holds now): its entities
        and names win over what was announced."""
        self.base = base
        self._file_ids = {entity.id for entity in base.entities}
        self._file_names = {
            name.casefold(): entity.id for entity in base.entities for name in entity.names
        }

    def apply(self, topic: str, payload: bytes) -> DiscoveredEntity | None:
        """Learn or forget one entity; a bad payload raises and leaves what was known."""
        found = parse_discovery(topic, payload, prefix=self.prefix)
        if found is None:
            self._by_topic.pop(topic, None)
            return None
        if topic not in self._by_topic and len(self._by_topic) >= MAX_ANNOUNCEMENTS:
            raise DiscoveryError(topic, f"already {MAX_ANNOUNCEMENTS:,} entities announced")
        if found.entity.id not in self._file_ids:
            for name in found.entity.names:
                owner = self._file_names.get(name.casefold())
                if owner is not None:
                    raise DiscoveryError(
                        topic, f"the name {name!r} belongs to the home file's {owner}"
                    )
        self._by_topic[topic] = found
        return found

    def _claims_a_home_name(self, found: DiscoveredEntity) -> bool:
        """An announcement that came before the home took the name (see `apply`)."""
        return any(name.casefold() in self._file_names for name in found.entity.names)

    @property
    def announcements(self) -> tuple[DiscoveredEntity, ...]:
        """Every announcement, in the order they came."""
        return tuple(self._by_topic.values())

    @property
    def devices(self) -> dict[str, DiscoveredEntity]:
        """Discovered entities by entity id (the first announcement of an id)."""
        by_id: dict[str, DiscoveredEntity] = {}
        for found in self._by_topic.values():
            by_id.setdefault(found.entity.id, found)
        return by_id

    def merged_home(self) -> Home:
        """The home file plus the entities it does not define, placed in areas by
        `suggested_area`; the file's own entities stay as written."""
        areas = list(self.base.areas)
        named: tuple[Floor | Area | Entity, ...] = (
            *self.base.floors,
            *self.base.areas,
            *self.base.entities,
        )
        taken = {item.id for item in named}
        entities = {entity.id: entity for entity in self.base.entities}
        for found in self.devices.values():
            if found.entity.id in self._file_ids or self._claims_a_home_name(found):
                continue
            area_id = None
            if found.suggested_area:
                area = Home(areas=tuple(areas)).find_area(found.suggested_area)
                if area is None:
                    area = Area(id=_unique(_slug(found.suggested_area), taken),
                                name=found.suggested_area)  # fmt: skip
                    taken.add(area.id)
                    areas.append(area)
                area_id = area.id
            entities[found.entity.id] = replace(found.entity, area_id=area_id)
        return replace(self.base, areas=tuple(areas), entities=tuple(entities.values()))


def _split_topic(topic: str, prefix: str) -> tuple[str, str | None, str]:
    parts = topic.split("/")
    head = prefix.strip("/").split("/")
    rest = parts[len(head) :]
    if parts[: len(head)] != head or len(rest) not in (3, 4) or rest[-1] != "config":
        raise DiscoveryError(topic, f"not {prefix}/<component>/[<node_id>/]<object_id>/config")
    if not all(_ID.fullmatch(part) for part in rest[:-1]):
        raise DiscoveryError(topic, "ids may hold only letters, digits, `_` and `-`")
    node_id = rest[1] if len(rest) == 4 else None
    return rest[0], node_id, rest[-2]


def _expand(topic: str, config: dict[str, Any]) -> dict[str, Any]:
    """Long key names, and the `~` base topic spelled out, as Home Assistant does."""
    expanded = {_ABBREVIATIONS.get(key, key): value for key, value in config.items()}
    device = expanded.get("device")
    if device is not None:
        if not isinstance(device, dict):
            raise DiscoveryError(topic, "`device` must be an object")
        expanded["device"] = {_DEVICE_ABBREVIATIONS.get(k, k): v for k, v in device.items()}
    if "~" in expanded:
        base = expanded.pop("~")
        if not isinstance(base, str):
            raise DiscoveryError(topic, "`~` (the base topic) must be text")
        for key, value in expanded.items():
            if key.endswith("topic") and isinstance(value, str) and value:
                if value.startswith("~"):
                    value = base + value[1:]
                if value.endswith("~"):
                    value = value[:-1] + base
                expanded[key] = value
    return expanded


class _Reader:
    """Typed reads of an expanded config; a wrong type raises with the key's name."""

    def __init__(self, topic: str, config: dict[str, Any], *, where: str = "") -> None:
        self.topic = topic
        self.config = config
        self.where = where

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.config.get(key, default)
        if value is None or (isinstance(value, str | int | float) and not isinstance(value, bool)):
            return None if value is None else str(value)
        why = f"must be text, not {type(value).__name__}"
        raise DiscoveryError(self.topic, f"`{self.where}{key}` {why}")

    def number(self, key: str, default: int) -> int:
        value = self.config.get(key, default)
        if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) <= 1e9:
            return round(value)
        raise DiscoveryError(self.topic, f"`{key}` must be a number, not {value!r}")

    def topic_to_publish(self, key: str) -> str | None:
        """A topic the mesh may publish to: no wildcards, no `$` system topics."""
        value = self.text(key)
        if value and (
            any(c in value for c in "+#\0") or value.startswith("$") or len(value) > _MAX_TEXT
        ):
            raise DiscoveryError(self.topic, f"`{key}` {value[:80]!r} is not a topic to publish to")
        return value or None

    def name(self, key: str) -> str | None:
        """A name, under the home file's rules for names."""
        value = self.text(key)
        if value is None or not value.strip():
            return None
        value = value.strip()
        fault = name_fault(value)
        if fault is not None:
            raise DiscoveryError(self.topic, f"`{self.where}{key}` {fault}")
        return value

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.text(key, default)
        if value not in allowed:
            raise DiscoveryError(self.topic, f"`{key}` must be one of {allowed}, not {value!r}")
        return value

    def entity(self, component: str, node_id: str | None, object_id: str) -> DiscoveredEntity:
        device = _Reader(self.topic, self.config.get("device") or {}, where="device.")
        device_name = device.name("name")
        name = self.name("name")
        if name and device_name and not name.casefold().startswith(device_name.casefold()):
            name = f"{device_name} {name}"  # Home Assistant's friendly name
        name = name or device_name or object_id.replace("_", " ").replace("-", " ").title()
        entity_id = self._entity_id(component, node_id, object_id)
        schema = "default"
        if component == "light":
            raw = self.choice("schema", "default", ("default", "basic", "json", "template"))
            schema = "default" if raw == "basic" else raw
        scale = self.number("brightness_scale", 255)
        if scale < 1:
            raise DiscoveryError(self.topic, "`brightness_scale` must be at least 1")
        modes = self.config.get("supported_color_modes") or []
        if not isinstance(modes, list):
            raise DiscoveryError(self.topic, "`supported_color_modes` must be a list")
        topics = {key: self.topic_to_publish(key) for key in (
            "command_topic", "state_topic", "brightness_command_topic", "set_position_topic",
            "temperature_command_topic")}  # fmt: skip
        templates = {key: self.text(key) for key in (
            "command_template", "brightness_command_template", "set_position_template",
            "temperature_command_template")}  # fmt: skip
        payloads = {key: self.text(key, default) for key, default in (
            ("payload_on", "ON"), ("payload_off", "OFF"), ("payload_lock", "LOCK"),
            ("payload_unlock", "UNLOCK"), ("payload_open", "OPEN"), ("payload_close", "CLOSE"),
            ("payload_press", "PRESS"))}  # fmt: skip
        return DiscoveredEntity(
            entity=Entity(id=entity_id, name=name, device_class=self.text("device_class")),
            discovery_topic=self.topic,
            unique_id=self.text("unique_id"),
            suggested_area=device.name("suggested_area"),
            schema=schema,  # type: ignore[arg-type]
            brightness_scale=scale,
            on_command_type=self.choice(  # type: ignore[arg-type]
                "on_command_type", "last", ("first", "last", "brightness")
            ),
            json_brightness=self.config.get("brightness") is True
            or any(mode != "onoff" for mode in modes),
            position_open=self.number("position_open", 100),
            position_closed=self.number("position_closed", 0),
            **topics,
            **templates,
            **payloads,
        )

    def _entity_id(self, component: str, node_id: str | None, object_id: str) -> str:
        """`default_entity_id`, else the payload's `object_id`, else the topic's ids."""
        given = self.text("default_entity_id")
        if given and given.startswith(f"{component}."):
            given = given.split(".", 1)[1]
        given = given or self.text("object_id")
        if not given:
            given = f"{node_id}_{object_id}" if node_id else object_id
        slug = _slug(given)
        if not slug:
            raise DiscoveryError(self.topic, f"no usable object id in {given!r}")
        return f"{component}.{slug}"


def _slug(text: str) -> str:
    """Home Assistant's slugify: ASCII, lower case, runs of other characters as `_`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")


def _unique(wanted: str, taken: set[str]) -> str:
    candidate, counter = wanted or "area", 2
    while candidate in taken:
        candidate, counter = f"{wanted}_{counter}", counter + 1
    return candidate
