"""The home a user describes once: floors, areas and entities.

Read from YAML in the Home Assistant intents fixture shape (`floors`, `areas`, `entities`).
Fixtures carry keys and state shapes this project does not use (`state: {in, out}`,
`timers`, unit attributes): those are ignored. What is wrong (a missing id, an area that
names an unknown floor, a duplicate id) is refused with the file's line number.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hassil import is_template, parse_sentence, sample_expression

from slm_mesh.services.errors import HomeFileError


@dataclass(frozen=True)
class Floor:
    id: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Area:
    id: str
    name: str
    floor_id: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entity:
    id: str
    """Home Assistant entity id, `domain.object_id`."""
    name: str
    area_id: str | None = None
    aliases: tuple[str, ...] = ()
    device_class: str | None = None

    @property
    def domain(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Home:
    floors: tuple[Floor, ...] = ()
    areas: tuple[Area, ...] = ()
    entities: tuple[Entity, ...] = ()
    language: str = "en"

    def find_area(self, name: str) -> Area | None:
        """The area called `name` (or one of its aliases), case-insensitively."""
        wanted = name.strip().casefold()
        for area in self.areas:
            if wanted in (n.casefold() for n in (area.name, *area.aliases, area.id)):
                return area
        return None


def load_home(path: str | Path) -> Home:
    """Read and validate a home file; errors name the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HomeFileError(f"{path}: no such home file") from None
    except UnicodeDecodeError as err:
        raise HomeFileError(f"{path}: not UTF-8 text ({err.reason})") from None
    return parse_home(text, source=str(path))


def parse_home(text: str, *, source: str = "<home>") -> Home:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise HomeFileError(f"{where}: not valid YAML ({getattr(err, 'problem', err)})") from None
    if not isinstance(data, dict) or node is None:
        raise HomeFileError(f"{source}: a home file is a mapping with `areas` and `entities`")
    return _HomeReader(source, node).read(data)


class _HomeReader:
    """Turns the parsed YAML into a Home, pointing at the line of anything wrong."""

    def __init__(self, source: str, root: yaml.Node) -> None:
        self.source = source
        self.root = root

    def fail(self, path: tuple[str | int, ...], why: str) -> HomeFileError:
        node: yaml.Node | None = self.root
        for key in path:
            node = _child(node, key)
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        return HomeFileError(f"{self.source}{line}: {why}")

    def items(self, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = data.get(key) or []
        if not isinstance(value, list):
            raise self.fail((key,), f"`{key}` must be a list")
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail((key, index), f"each of `{key}` must be a mapping")
        return value

    def text(self, path: tuple[str | int, ...], value: Any, what: str) -> str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.fail(path, f"{what} must be text")
        if not str(value).strip():
            raise self.fail(path, f"{what} must not be empty")
        return str(value).strip()

    def names(self, path: tuple[str | int, ...], item: dict[str, Any]) -> tuple[str, ...]:
        """The name (a hassil template is allowed, as in HA fixtures) and its aliases."""
        name = self.text((*path, "name"), item.get("name"), "`name`")
        expanded = _expand(name)
        aliases = item.get("aliases") or []
        if not isinstance(aliases, list):
            raise self.fail((*path, "aliases"), "`aliases` must be a list")
        for index, alias in enumerate(aliases):
            expanded.extend(_expand(self.text((*path, "aliases", index), alias, "an alias")))
        return tuple(dict.fromkeys(expanded))

    def unique_id(self, path: tuple[str | int, ...], item: dict[str, Any], seen: set[str]) -> str:
        item_id = self.text((*path, "id"), item.get("id"), "`id`")
        if item_id in seen:
            raise self.fail((*path, "id"), f"duplicate id {item_id!r}")
        seen.add(item_id)
        return item_id

    def read(self, data: dict[str, Any]) -> Home:
        if "entities" not in data:
            raise self.fail((), "the home has no `entities` list")
        seen: set[str] = set()
        floors = []
        for index, item in enumerate(self.items(data, "floors")):
            path = ("floors", index)
            floor_id = self.unique_id(path, item, seen)
            name, *aliases = self.names(path, item)
            floors.append(Floor(id=floor_id, name=name, aliases=tuple(aliases)))
        floor_ids = {floor.id for floor in floors}

        areas = []
        for index, item in enumerate(self.items(data, "areas")):
            path = ("areas", index)
            area_id = self.unique_id(path, item, seen)
            name, *aliases = self.names(path, item)
            floor_id = item.get("floor")
            if floor_id is not None and floor_id not in floor_ids:
                raise self.fail((*path, "floor"), f"area {name!r} names unknown floor {floor_id!r}")
            areas.append(Area(id=area_id, name=name, floor_id=floor_id, aliases=tuple(aliases)))
        area_ids = {area.id for area in areas}

        entities = []
        for index, item in enumerate(self.items(data, "entities")):
            path = ("entities", index)
            entity_id = self.unique_id(path, item, seen)
            if "." not in entity_id:
                raise self.fail((*path, "id"), f"entity id {entity_id!r} is not `domain.name`")
            name, *aliases = self.names(path, item)
            area_id = item.get("area")
            if area_id is not None and area_id not in area_ids:
                raise self.fail((*path, "area"), f"entity {name!r} names unknown area {area_id!r}")
            attributes = item.get("attributes") or {}
            if not isinstance(attributes, dict):
                raise self.fail((*path, "attributes"), "`attributes` must be a mapping")
            device_class = attributes.get("device_class")
            entities.append(
                Entity(
                    id=entity_id,
                    name=name,
                    area_id=area_id,
                    aliases=tuple(aliases),
                    device_class=str(device_class) if device_class else None,
                )
            )
        language = str(data.get("language") or "en")
        return Home(
            floors=tuple(floors), areas=tuple(areas), entities=tuple(entities), language=language
        )


def _expand(name: str) -> list[str]:
    if not is_template(name):
        return [name]
    return [text.strip() for text in sample_expression(parse_sentence(name).expression)]


def _child(node: yaml.Node | None, key: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(key, str):
        for key_node, value_node in node.value:
            if key_node.value == key:
                return value_node
        return node
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        return node.value[key]
    return node
