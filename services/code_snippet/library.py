"""The curated snippet library: a YAML file per format (`library/*.yaml`, package data),
each snippet a template whose `<<name>>` placeholders the request and the home fill.

`<<name>>` because the code itself uses the other delimiters: Home Assistant's Jinja
`{{ }}`, the shell's `$VAR` and `${VAR}`. A value is put in as written; the templates quote
where the value needs it. Every file is checked as it is read, so a malformed one fails
`load_library` naming the file and the snippet, and never reaches a request.

A parameter's `kind` says what fills it: `entity` (one of the home's, of `domain` and,
when given, `device_class`; never a default: it must come from the home), `area` (an area
name), `duration` (a number in `unit`: seconds, minutes or hours), `time` (HH:MM:SS),
`number` (a threshold or level, in an optional `unit`), `pin` (an ESP GPIO number),
`topic` (MQTT), `url` (an address the request gives, such as a webhook's), `path` (a
folder; a parameter whose description says "to" takes the one the request writes to),
`name` (a device or node name slug), `text` (a message) and `actions` (an automation's
steps, composed from what the request asks: `compose`). A value of several lines is
indented as its placeholder is, so a template puts `<<actions>>` where the steps' list
belongs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

from slm_mesh.services.code_snippet.snippet_yaml import load_yaml
from slm_mesh.services.contracts.code import FORMATS
from slm_mesh.services.errors import SlmMeshError

Value = str | int | float

PARAM_KINDS = (
    "entity",
    "area",
    "duration",
    "time",
    "number",
    "pin",
    "topic",
    "url",
    "path",
    "name",
    "text",
    "actions",
)
DURATION_UNITS = ("seconds", "minutes", "hours")
_DEFAULT_NEEDED = frozenset(
    {"duration", "time", "number", "pin", "topic", "url", "path", "name", "text"}
)
_PLACEHOLDER = re.compile(r"<<([a-z][a-z0-9_]*)>>")
_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_SLUG = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_TIME = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d")
_SNIPPET_KEYS = frozenset({"id", "description", "examples", "params", "template", "test"})
_PARAM_KEYS = frozenset({"kind", "default", "domain", "device_class", "unit", "description"})
MIN_EXAMPLES, MAX_EXAMPLES = 2, 4


class LibraryError(SlmMeshError):
    """A library file is malformed: the message names the file and the snippet."""

    code = "misconfigured"


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    """One of PARAM_KINDS."""
    default: Value | None = None
    domains: tuple[str, ...] = ()
    """entity: the domains it may be of."""
    device_classes: tuple[str, ...] = ()
    """entity: the device classes it may have; empty: any."""
    unit: str | None = None
    """duration: seconds, minutes or hours; number: what it counts (celsius, percent)."""
    description: str = ""


@dataclass(frozen=True)
class SnippetTest:
    """The snippet's own check: rendered with `params`, it validates against the test home
    and includes each of `contains`."""

    params: Mapping[str, Value]
    contains: tuple[str, ...]


@dataclass(frozen=True)
class Snippet:
    id: str
    format: str
    description: str
    """One sentence, the way a user would ask for it."""
    examples: tuple[str, ...]
    """Other phrasings of the request, for retrieval."""
    params: Mapping[str, Param]
    template: str
    test: SnippetTest


def placeholders(template: str) -> set[str]:
    """The parameter names a template's `<<name>>` placeholders use."""
    return set(_PLACEHOLDER.findall(template))


def render(snippet: Snippet, values: Mapping[str, Value]) -> str:
    """The template with each placeholder filled from `values`, else the param's default;
    ValueError naming the parameters that have neither."""
    filled = {name: values.get(name, param.default) for name, param in snippet.params.items()}
    missing = [name for name, value in filled.items() if value is None]
    if missing:
        names = ", ".join(f"`{name}` ({snippet.params[name].description})" for name in missing)
        raise ValueError(f"snippet {snippet.id!r} needs a value for {names}")
    return "".join(_filled(line, filled) for line in snippet.template.splitlines(keepends=True))


def _filled(line: str, values: Mapping[str, Value | None]) -> str:
    """One template line with its placeholders filled; a value's later lines indented as
    the line is."""
    indent = "\n" + " " * (len(line) - len(line.lstrip(" ")))
    return _PLACEHOLDER.sub(
        lambda match: str(values[match.group(1)]).rstrip("\n").replace("\n", indent), line
    )


@functools.cache
def load_library() -> tuple[Snippet, ...]:
    """Every shipped snippet, the files in name order; LibraryError for a malformed file."""
    folder = resources.files("slm_mesh.services.code_snippet").joinpath("library")
    snippets: list[Snippet] = []
    seen: dict[str, str] = {}
    for file in sorted(folder.iterdir(), key=lambda f: f.name):
        if not file.name.endswith(".yaml"):
            continue
        for snippet in parse_library_file(file.read_text(encoding="utf-8"), source=file.name):
            if snippet.id in seen:
                raise LibraryError(
                    f"{file.name}: snippet {snippet.id!r}: the id is taken by {seen[snippet.id]}"
                )
            seen[snippet.id] = file.name
            snippets.append(snippet)
    return tuple(snippets)


def parse_library_file(text: str, *, source: str) -> tuple[Snippet, ...]:
    """The snippets of one library file (`format:` and `snippets:`), each checked."""
    data, unreadable = load_yaml(text, tags=False)
    if unreadable is not None:
        raise LibraryError(f"{source}: {unreadable}")
    if not isinstance(data, dict) or set(data) != {"format", "snippets"}:
        raise LibraryError(f"{source}: a library file is a mapping of `format` and `snippets`")
    fmt = data["format"]
    if fmt not in FORMATS:
        raise LibraryError(f"{source}: format {fmt!r} is not one of {', '.join(FORMATS)}")
    items = data["snippets"]
    if not isinstance(items, list) or not items:
        raise LibraryError(f"{source}: `snippets` must be a list of snippets")
    snippets = [_SnippetReader(source, index).read(item, fmt) for index, item in enumerate(items)]
    ids = [snippet.id for snippet in snippets]
    repeated = next((i for i in ids if ids.count(i) > 1), None)
    if repeated is not None:
        raise LibraryError(f"{source}: snippet {repeated!r}: the id is used twice")
    return tuple(snippets)


class _SnippetReader:
    """Reads one snippet; each fault names the file and the snippet (its id, else its
    place in the list)."""

    def __init__(self, source: str, index: int) -> None:
        self.source = source
        self.name = f"snippets[{index}]"

    def fail(self, why: str) -> LibraryError:
        return LibraryError(f"{self.source}: {self.name}: {why}")

    def read(self, item: Any, fmt: str) -> Snippet:
        if not isinstance(item, dict):
            raise self.fail("a snippet is a mapping")
        snippet_id = item.get("id")
        if not isinstance(snippet_id, str) or not _ID.fullmatch(snippet_id):
            raise self.fail("`id` must be a lowercase slug such as motion-light")
        self.name = f"snippet {snippet_id!r}"
        if set(item) != _SNIPPET_KEYS:
            wrong = sorted(map(str, set(item) ^ _SNIPPET_KEYS))
            raise self.fail(f"has keys {sorted(map(str, item))}; wanted {sorted(_SNIPPET_KEYS)} "
                            f"(check {', '.join(wrong)})")  # fmt: skip
        params = self.params(item["params"])
        template = self.text("template", item["template"])
        used = placeholders(template)
        undeclared = ", ".join(f"<<{name}>>" for name in sorted(used - set(params)))
        if undeclared:
            raise self.fail(f"the template uses {undeclared}, not declared in `params`")
        unused = ", ".join(f"`{name}`" for name in sorted(set(params) - used))
        if unused:
            raise self.fail(f"params {unused} are declared but the template never uses them")
        examples = item["examples"]
        if not (isinstance(examples, list) and MIN_EXAMPLES <= len(examples) <= MAX_EXAMPLES):
            raise self.fail(f"`examples` must be a list of {MIN_EXAMPLES} to {MAX_EXAMPLES}")
        return Snippet(
            id=snippet_id,
            format=fmt,
            description=self.text("description", item["description"]),
            examples=tuple(self.text("examples", example) for example in examples),
            params=MappingProxyType(params),
            template=template,
            test=self.test(item["test"], params),
        )

    def text(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"`{key}` must be non-empty text")
        return value

    def params(self, value: Any) -> dict[str, Param]:
        if not isinstance(value, dict):
            raise self.fail("`params` must be a mapping of name -> param")
        return {self.param_name(name): self.param(name, spec) for name, spec in value.items()}

    def param_name(self, name: Any) -> str:
        if not isinstance(name, str) or not _PLACEHOLDER.fullmatch(f"<<{name}>>"):
            raise self.fail(f"param name {name!r} must be lowercase letters, digits and _")
        return name

    def param(self, name: str, spec: Any) -> Param:
        where = f"param `{name}`"
        if not isinstance(spec, dict) or not set(spec) <= _PARAM_KEYS:
            raise self.fail(f"{where} must be a mapping of {', '.join(sorted(_PARAM_KEYS))}")
        kind = spec.get("kind")
        if kind not in PARAM_KINDS:
            raise self.fail(f"{where}: kind {kind!r} is not one of {', '.join(PARAM_KINDS)}")
        default = spec.get("default")
        fault = _default_fault(kind, default)
        if fault is None and kind == "duration" and spec.get("unit") not in DURATION_UNITS:
            fault = f"a duration needs `unit`: {', '.join(DURATION_UNITS)}"
        if fault is None and "unit" in spec and kind not in ("duration", "number"):
            fault = "only a duration or a number has a `unit`"
        if fault is None and kind != "entity" and ({"domain", "device_class"} & set(spec)):
            fault = "only an entity has a `domain` or `device_class`"
        domains = _names(spec.get("domain"))
        if fault is None and kind == "entity" and not domains:
            fault = "an entity needs `domain`: a domain or a list of them"
        if fault is None and "device_class" in spec and not _names(spec["device_class"]):
            fault = "`device_class` must be a device class or a list of them"
        if fault is not None:
            raise self.fail(f"{where}: {fault}")
        unit = spec.get("unit")
        return Param(
            name=name,
            kind=kind,
            default=default,
            domains=domains,
            device_classes=_names(spec.get("device_class")),
            unit=unit if isinstance(unit, str) else None,
            description=self.text(f"params.{name}.description", spec.get("description")),
        )

    def test(self, value: Any, params: Mapping[str, Param]) -> SnippetTest:
        if not isinstance(value, dict) or set(value) != {"params", "contains"}:
            raise self.fail("`test` must be a mapping of `params` and `contains`")
        values = value["params"] or {}
        if not isinstance(values, dict) or not all(_is_value(v) for v in values.values()):
            raise self.fail("test.params must map param names to text or numbers")
        for name in values:
            if name not in params:
                raise self.fail(f"test.params names `{name}`, which is not a declared param")
        for name, param in params.items():
            if param.default is None and name not in values:
                raise self.fail(f"test.params needs `{name}`: it has no default")
        contains = value["contains"]
        if not isinstance(contains, list) or not contains:
            raise self.fail("test.contains must be a list of strings the snippet includes")
        return SnippetTest(
            params=MappingProxyType(dict(values)),
            contains=tuple(self.text("test.contains", text) for text in contains),
        )


def _is_value(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _default_fault(kind: str, default: Any) -> str | None:
    """Why `default` cannot be the default of a `kind` param; None when it can."""
    if kind == "entity":
        return None if default is None else "an entity has no default: it comes from the home"
    if default is None:
        return None if kind not in _DEFAULT_NEEDED else f"a {kind} needs a `default`"
    if not _is_value(default):
        return f"default {default!r} must be text or a number"
    wanted = {
        "duration": isinstance(default, int | float) and default >= 0,
        "number": isinstance(default, int | float),
        "pin": isinstance(default, int) and 0 <= default < 100,
        "time": isinstance(default, str) and _TIME.fullmatch(default) is not None,
        "name": isinstance(default, str) and _SLUG.fullmatch(default) is not None,
        "path": isinstance(default, str) and default.startswith(("/", "~/")),
    }
    if not wanted.get(kind, isinstance(default, str) and bool(default.strip())):
        return f"default {default!r} is not a {kind}"
    return None


def _names(value: Any) -> tuple[str, ...]:
    """A name or a list of names, as a tuple; empty when it is neither."""
    names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    if not names or not all(isinstance(name, str) and name for name in names):
        return ()
    return tuple(names)
