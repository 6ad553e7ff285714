"""The home a user describes once: floors, areas and entities.

Read from YAML in the Home Assistant intents fixture shape (`floors`, `areas`, `entities`).
Fixtures carry keys and state shapes this project does not use (`state: {in, out}`,
`timers`, unit attributes): those are ignored. What is wrong (a missing id, an area that
names an unknown floor, a duplicate id, a list where text belongs) is refused with the
file's line and the key: `home.yaml:12: entities[3].area must be an area id (text), not
a mapping`.

The file may come from anyone, so every byte is read as hostile: names and aliases are
data, never hassil template syntax (a name is the text as written, stripped); YAML
aliases are refused, so a "billion laughs" document costs nothing; and sizes, counts and
nesting have limits. Whatever the input, the reader returns a `Home` or raises
`HomeFileError`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from home_assistant_intents import get_languages

from slm_mesh.services.errors import HomeFileError

# Limits on a home file. A real home is far inside them; past them a file is a mistake
#: or an attack, and is refused before it costs memory or minutes.
MAX_HOME_BYTES = 2_000_000
"""A file's size; text given to `parse_home` is held to as many characters."""
MAX_YAML_NODES = 200_000
"""Keys, values and list items together: 5,000 entities in fixture shape are ~100,000."""
MAX_YAML_DEPTH = 20
"""Collections inside collections: a fixture nests four deep."""
MAX_ITEMS = {"floors": 100, "areas": 1_000, "entities": 5_000}
"""Per list of the home."""
MAX_ALIASES = 50
"""Per floor, area or entity."""
MAX_NAME_CHARS = 200
"""Per id, name or alias."""

#: Characters that show nothing: a name made only of them cannot be said or read.
_INVISIBLE = frozenset({"Cc", "Cf", "Zs"})
#: libyaml where it is installed (its wheels carry it): several times faster than PyYAML's
#: pure Python, which reads a 5,000-entity home in seconds.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
    device_areas: tuple[tuple[str, str], ...] = ()
    """Device or entity id -> the id of the area it is in, as Home Assistant's registries
    say: the area a voice satellite speaks from."""

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
        with path.open("rb") as file:
            raw = file.read(MAX_HOME_BYTES + 1)  # no more: the path may name a device
    except FileNotFoundError:
        raise HomeFileError(f"{path}: no such home file") from None
    except OSError as err:
        raise HomeFileError(f"{path}: cannot read the home file ({err.strerror})") from None
    if len(raw) > MAX_HOME_BYTES:
        raise HomeFileError(f"{path}: the home file is over the limit of {MAX_HOME_BYTES:,} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise HomeFileError(f"{path}: not UTF-8 text ({err.reason})") from None
    return parse_home(text, source=str(path))


def parse_home(text: str, *, source: str = "<home>") -> Home:
    """A `Home` from YAML text, or `HomeFileError` naming the line and key of the first
    fault; never another exception, whatever the text."""
    if len(text) > MAX_HOME_BYTES:
        raise HomeFileError(
            f"{source}: the home is over the limit of {MAX_HOME_BYTES:,} characters"
        )
    node, data = _load_yaml(text, source)
    if not isinstance(data, dict) or node is None:
        raise HomeFileError(f"{source}: a home file is a mapping with `areas` and `entities`")
    return _HomeReader(source, node).read(data)


def name_fault(text: str) -> str | None:
    """Why `text` (already stripped) cannot be a name, alias or id; None when it can.
    The words complete a sentence whose subject is the key: "... must not be empty"."""
    if not text:
        return "must not be empty"
    if len(text) > MAX_NAME_CHARS:
        return f"is {len(text):,} characters long; the limit is {MAX_NAME_CHARS}"
    bad = next((c for c in text if unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        return f"contains control character U+{ord(bad):04X}"
    if all(unicodedata.category(c) in _INVISIBLE for c in text):
        return "has no visible characters"
    return None


KeyPath = tuple[str | int, ...]


class _HomeReader:
    """Turns the parsed YAML into a Home, naming the line and key of anything wrong."""

    def __init__(self, source: str, root: yaml.Node) -> None:
        self.source = source
        self.root = root
        self.seen_ids: set[str] = set()

    def fail(self, path: KeyPath, why: str) -> HomeFileError:
        node: yaml.Node = self.root
        for key in path:
            node = _child(node, key)
        return HomeFileError(f"{self.source}:{node.start_mark.line + 1}: {_key_path(path)} {why}")

    def read(self, data: dict[Any, Any]) -> Home:
        if "entities" not in data:
            raise self.fail((), "has no `entities` list")
        floors = tuple(self.floor(path, item) for path, item in self.items(data, "floors"))
        floor_ids = {floor.id for floor in floors}
        areas = tuple(self.area(path, item, floor_ids) for path, item in self.items(data, "areas"))
        area_ids = {area.id for area in areas}
        entities = tuple(
            self.entity(path, item, area_ids) for path, item in self.items(data, "entities")
        )
        language = self.language(data.get("language"))
        return Home(floors=floors, areas=areas, entities=entities, language=language)

    def floor(self, path: KeyPath, item: dict[Any, Any]) -> Floor:
        floor_id = self.unique_id(path, item)
        name, *aliases = self.names(path, item)
        return Floor(id=floor_id, name=name, aliases=tuple(aliases))

    def area(self, path: KeyPath, item: dict[Any, Any], floor_ids: set[str]) -> Area:
        area_id = self.unique_id(path, item)
        name, *aliases = self.names(path, item)
        floor_id = self.reference((*path, "floor"), item.get("floor"), floor_ids, "floor")
        return Area(id=area_id, name=name, floor_id=floor_id, aliases=tuple(aliases))

    def entity(self, path: KeyPath, item: dict[Any, Any], area_ids: set[str]) -> Entity:
        entity_id = self.unique_id(path, item)
        domain, _, object_id = entity_id.partition(".")
        if not domain or not object_id:
            raise self.fail((*path, "id"), f"{entity_id!r} is not `domain.object_id`")
        name, *aliases = self.names(path, item)
        area_id = self.reference((*path, "area"), item.get("area"), area_ids, "area")
        attributes = item.get("attributes")
        if attributes is not None and not isinstance(attributes, dict):
            raise self.fail((*path, "attributes"), f"must be a mapping, not {_kind(attributes)}")
        device_class = (attributes or {}).get("device_class")
        if device_class is not None and device_class != "":
            device_class = self.text((*path, "attributes", "device_class"), device_class)
        return Entity(
            id=entity_id,
            name=name,
            area_id=area_id,
            aliases=tuple(aliases),
            device_class=device_class or None,
        )

    def items(self, data: dict[Any, Any], key: str) -> list[tuple[KeyPath, dict[Any, Any]]]:
        value = self.sequence((key,), data.get(key), MAX_ITEMS[key])
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail((key, index), f"must be a mapping, not {_kind(item)}")
        return [((key, index), item) for index, item in enumerate(value)]

    def sequence(self, path: KeyPath, value: Any, limit: int) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(path, f"must be a list, not {_kind(value)}")
        if len(value) > limit:
            raise self.fail(path, f"has {len(value):,} items; the limit is {limit:,}")
        return value

    def names(self, path: KeyPath, item: dict[Any, Any]) -> tuple[str, ...]:
        """The name and its aliases, each the text as written (stripped), without repeats.
        Plain text: `[the] garage door` is that, not a hassil template."""
        name = self.text((*path, "name"), item.get("name"))
        aliases = self.sequence((*path, "aliases"), item.get("aliases"), MAX_ALIASES)
        written = [self.text((*path, "aliases", i), alias) for i, alias in enumerate(aliases)]
        return tuple(dict.fromkeys([name, *written]))

    def unique_id(self, path: KeyPath, item: dict[Any, Any]) -> str:
        item_id = self.text((*path, "id"), item.get("id"), "an id (text)")
        if item_id in self.seen_ids:
            why = f"{item_id!r} is a duplicate: ids are unique across floors, areas and entities"
            raise self.fail((*path, "id"), why)
        self.seen_ids.add(item_id)
        return item_id

    def reference(self, path: KeyPath, value: Any, known: set[str], kind: str) -> str | None:
        """The id of a floor or area that `value` names; None when it names none."""
        if value is None:
            return None
        wanted = self.text(path, value, f"{'an' if kind == 'area' else 'a'} {kind} id (text)")
        if wanted not in known:
            raise self.fail(path, f"names unknown {kind} {wanted!r}")
        return wanted

    def language(self, value: Any) -> str:
        if value is None:
            return "en"
        code = self.text(("language",), value, "a language code (text)")
        if code not in get_languages():
            raise self.fail(
                ("language",), f"{code!r} is not a language Home Assistant has intents for"
            )
        return code

    def text(self, path: KeyPath, value: Any, what: str = "text") -> str:
        if value is None:
            raise self.fail(path, "is missing")
        if not isinstance(value, str):
            # YAML reads `name: 1.50` as a number, `name: off` as false: text must be quoted.
            hint = " (put it in quotes)" if isinstance(value, bool | int | float | date) else ""
            raise self.fail(path, f"must be {what}, not {_kind(value)}{hint}")
        text = value.strip()
        fault = name_fault(text)
        if fault is not None:
            raise self.fail(path, fault)
        return text


def _load_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (for line numbers) and its data, once its events have
    passed the limits."""
    try:
        _check_events(text, source)
        loader = _LOADER(text)
        try:
            node = loader.get_single_node()
            return node, None if node is None else loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        why = " ".join(str(getattr(err, "problem", None) or err).split())
        raise HomeFileError(f"{where}: not valid YAML ({why})") from None
    except (ValueError, OverflowError) as err:
        # A date or number that cannot be one (2024-13-01, an integer of 5,000 digits), or
        # text that cannot be UTF-8 (a lone surrogate).
        raise HomeFileError(f"{source}: cannot read the YAML ({err})") from None


def _check_events(text: str, source: str) -> None:
    """Refuse aliases, deep nesting and too many nodes as the parser meets them, before
    any tree is built: a "billion laughs" document stops at its first alias."""
    depth = nodes = 0
    for event in yaml.parse(text, Loader=_LOADER):
        why = None
        if isinstance(event, yaml.AliasEvent):
            why = "uses a YAML alias (`*name`); a home file may not: write the value out"
        elif isinstance(event, yaml.NodeEvent) and (nodes := nodes + 1) > MAX_YAML_NODES:
            why = f"has over {MAX_YAML_NODES:,} keys, values and items"
        if isinstance(event, yaml.CollectionStartEvent) and (depth := depth + 1) > MAX_YAML_DEPTH:
            why = f"nests lists and mappings over {MAX_YAML_DEPTH} deep"
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if why is not None:
            mark = event.start_mark  # None only in events made by hand, not by the parser
            line = f":{mark.line + 1}" if mark is not None else ""
            raise HomeFileError(f"{source}{line}: the home {why}")


def _kind(value: Any) -> str:
    """What YAML read, as a message names it."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, set):
        return "a set"
    if isinstance(value, bytes):
        return "binary data"
    return "text" if isinstance(value, str) else type(value).__name__


def _key_path(path: KeyPath) -> str:
    """`("entities", 3, "area")` -> `entities[3].area`; the home itself at `()`."""
    if not path:
        return "the home"
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else f".{key}" if text else key
    return text


def _child(node: yaml.Node, key: str | int) -> yaml.Node:
    """The node at `key` under `node`; `node` itself when it has none (a key left out)."""
    if isinstance(node, yaml.MappingNode) and isinstance(key, str):
        # The last of repeated keys: it is the one the data holds.
        found = [value for key_node, value in node.value if key_node.value == key]
        return found[-1] if found else node
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        child: yaml.Node = node.value[key]
        return child
    return node
