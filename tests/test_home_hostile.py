"""The home file as an attacker writes it: a bad file costs that file, never the process.

Whatever the bytes, `parse_home` returns a `Home` or raises `HomeFileError` naming the
line and the key; names are plain text, never templates; limits are refused at once.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from slm_mesh.services.errors import HomeFileError
from slm_mesh.services.home import model as home_module
from slm_mesh.services.home.model import (
    MAX_ALIASES,
    MAX_HOME_BYTES,
    MAX_ITEMS,
    MAX_NAME_CHARS,
    MAX_YAML_NODES,
    Home,
    load_home,
    parse_home,
)

LAMP = "entities:\n  - {name: Lamp, id: light.lamp}\n"

#: Longer than any honest parse takes on a loaded 2-core box, far shorter than what a
#: template expansion or an alias bomb would take: these guard against hangs, not speed.
HANG_S = 10.0


def refusal(text: str) -> str:
    with pytest.raises(HomeFileError) as caught:
        parse_home(text, source="home.yaml")
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "floors: [{name: Down, id: down}]\nareas:\n  - {name: K, id: k, floor: [down]}\n"
            + LAMP,
            "home.yaml:3: areas[0].floor must be a floor id (text), not a list",
        ),
        (
            "areas: []\nentities:\n  - {name: L, id: light.l, area: {id: x}}\n",
            "home.yaml:3: entities[0].area must be an area id (text), not a mapping",
        ),
        (
            "entities:\n  - {name: L, id: light.l, aliases: [[x]]}\n",
            "home.yaml:2: entities[0].aliases[0] must be text, not a list",
        ),
        (
            "entities:\n  - name: L\n    id: light.l\n    attributes: {device_class: [a]}\n",
            "home.yaml:4: entities[0].attributes.device_class must be text, not a list",
        ),
        (
            "entities:\n  - {name: L, id: light.l, attributes: [a]}\n",
            "home.yaml:2: entities[0].attributes must be a mapping, not a list",
        ),
        ("language: [en]\n" + LAMP, "home.yaml:1: language must be a language code (text)"),
        ("language: ../../etc/passwd\n" + LAMP, "is not a language Home Assistant has"),
        (
            "entities:\n  - {name: L, id: {a: 1}}\n",
            "home.yaml:2: entities[0].id must be an id (text), not a mapping",
        ),
        ("entities: {x: 1}\n", "home.yaml:1: entities must be a list, not a mapping"),
        ("entities:\n  - just a lamp\n", "home.yaml:2: entities[0] must be a mapping, not text"),
        ("entities:\n  -\n", "home.yaml:2: entities[0] must be a mapping, not empty"),
        (
            "entities:\n  - {name: 1.50, id: light.l}\n",
            "entities[0].name must be text, not a number (put it in quotes)",
        ),
        (
            "entities:\n  - {name: off, id: light.l}\n",
            "entities[0].name must be text, not true/false (put it in quotes)",
        ),
        ("entities:\n  - {name: L, id: light.l, aliases: x}\n", "aliases must be a list, not text"),
        ("entities: !!set {a}\n", "home.yaml:1: entities must be a list, not a set"),
        ("entities:\n  - {name: 2024-13-01, id: light.l}\n", "home.yaml: cannot read the YAML"),
        ("entities:\n  - {name: !!python/object:os.system {}, id: l.l}\n", "not valid YAML"),
        ("entities: []\n---\nentities: []\n", "not valid YAML"),
    ],
)
def test_a_wrong_shape_is_refused_with_its_line_and_key(text: str, message: str) -> None:
    assert message in refusal(text)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ('"la\\x00mp"', "contains control character U+0000"),
        ('"desk\\tlamp"', "contains control character U+0009"),
        ('"\\u200b\\u200c\\u200d\\u2060\\ufeff\\u00a0"', "has no visible characters"),
        ('"\\u200b"', "has no visible characters"),
        ("a" * (MAX_NAME_CHARS + 1), f"is {MAX_NAME_CHARS + 1} characters long; the limit is"),
    ],
)
def test_a_name_that_cannot_be_read_or_said_is_refused(name: str, why: str) -> None:
    assert f"home.yaml:2: entities[0].name {why}" in refusal(
        f"entities:\n  - {{name: {name}, id: light.l}}\n"
    )


@pytest.mark.parametrize(
    "name", ["[the garage door", "(a|b|c|d|e|f|g|h)" * 11, "<lamp> {name} [x|y]", "a)b(c"]
)
def test_template_syntax_in_a_name_is_kept_as_written(name: str) -> None:
    started = time.monotonic()
    home = parse_home(yaml.safe_dump({"entities": [{"name": name, "id": "light.l"}]}))
    assert home.entities[0].name == name
    assert time.monotonic() - started < HANG_S


def test_too_many_aliases_are_refused() -> None:
    aliases = ", ".join(f"lamp {i}" for i in range(MAX_ALIASES + 1))
    why = refusal(f"entities:\n  - {{name: L, id: light.l, aliases: [{aliases}]}}\n")
    assert f"home.yaml:2: entities[0].aliases has {MAX_ALIASES + 1} items" in why


def test_too_many_entities_are_refused() -> None:
    count = MAX_ITEMS["entities"] + 1
    items = ",".join(f"{{name: L{i}, id: light.l{i}}}" for i in range(count))
    assert f"entities has {count:,} items" in refusal(f"entities: [{items}]\n")


def test_a_billion_laughs_is_refused_at_its_first_alias() -> None:
    rows = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 10):
        rows.append(
            f"l{level}: &l{level} ["
            + ", ".join(["*a" if level == 1 else f"*l{level - 1}"] * 9)
            + "]"
        )
    started = time.monotonic()
    why = refusal("\n".join(rows) + "\n" + LAMP)
    assert time.monotonic() - started < HANG_S
    assert "home.yaml:2: the home uses a YAML alias" in why


#: Both YAML readers: libyaml's, and PyYAML's pure Python where libyaml is missing.
LOADERS = [yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)]


@pytest.mark.parametrize("loader", LOADERS)
def test_deep_nesting_is_refused_before_the_reader_recurses(loader: Any) -> None:
    with mock.patch.object(home_module, "_LOADER", loader):
        assert "home.yaml:1: " in refusal("x: " + "[" * 5000 + "]" * 5000 + "\n")
        assert "home.yaml:1: the home nests" in refusal("x: " + "[" * 21 + "]" * 21 + "\n")


def test_a_flood_of_yaml_nodes_is_refused_quickly() -> None:
    started = time.monotonic()
    why = refusal("x: [" + ",".join(["a"] * (MAX_YAML_NODES + 50_000)) + "]\n" + LAMP)
    assert f"home.yaml:1: the home has over {MAX_YAML_NODES:,} keys, values and items" in why
    assert time.monotonic() - started < HANG_S


def test_a_home_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "home.yaml"
    big.write_bytes(LAMP.encode() + b"#" * MAX_HOME_BYTES)
    with pytest.raises(HomeFileError, match="over the limit"):
        load_home(big)
    with pytest.raises(HomeFileError, match="over the limit"):
        parse_home(LAMP + "#" * MAX_HOME_BYTES)


def test_a_home_path_that_is_no_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HomeFileError, match="cannot read the home file"):
        load_home(tmp_path)


# Property tests: small generated documents, so the whole file runs in a few seconds.
KEYS = ["floors", "areas", "entities", "language", "id", "name", "aliases", "floor", "area",
        "attributes", "device_class", "state"]  # fmt: skip
#: Template syntax, YAML syntax, controls, invisible and wide characters.
AWKWARD = "[]{}()|<>:&*!?#%@`'\",-\\ \t\n\r\x00\x85\u00a0\u200b\u200d\u2028\u2060\ufeffé漢🏠"
awkward_text = st.text(alphabet=st.sampled_from(AWKWARD) | st.characters(), max_size=30)
scalars = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.dates() | awkward_text
    | st.text(alphabet="ab", min_size=MAX_NAME_CHARS - 2, max_size=MAX_NAME_CHARS + 2)
)  # fmt: skip
anything = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | awkward_text, inner, max_size=4)
    ),
    max_leaves=10,
)
floor_ids = st.sampled_from(["down", "up", "light.a"])
area_ids = st.sampled_from(["kitchen", "hall", "down"])
entity_ids = st.sampled_from(["light.a", "light.b", "switch.c", "nodot"])


def shaped(
    keys: dict[str, st.SearchStrategy[Any]], *, required: tuple[str, ...] = ()
) -> st.SearchStrategy[dict[str, Any]]:
    """A mapping with the right keys, each of which may hold anything at all (one time in
    three) or be left out (unless required)."""
    strategies = {key: st.one_of(value, value, anything) for key, value in keys.items()}
    return st.fixed_dictionaries(
        {key: strategies.pop(key) for key in required}, optional=strategies
    )


def items(keys: dict[str, st.SearchStrategy[Any]], size: int) -> st.SearchStrategy[Any]:
    return st.lists(shaped(keys, required=("id", "name")), max_size=size)


aliases = st.lists(awkward_text, max_size=3)
home_shaped = shaped(
    {
        "language": st.sampled_from(["en", "de", "xx"]),
        "floors": items({"id": floor_ids, "name": awkward_text, "aliases": aliases}, 2),
        "areas": items(
            {"id": area_ids, "name": awkward_text, "aliases": aliases, "floor": floor_ids}, 3
        ),
        "entities": items(
            {
                "id": entity_ids,
                "name": awkward_text,
                "aliases": aliases,
                "area": area_ids,
                "attributes": shaped({"device_class": awkward_text}),
            },
            4,
        ),
    },
    required=("entities",),
)
FAST = settings(max_examples=150, deadline=None, database=None)


def parsed_or_refused(text: str) -> None:
    try:
        assert isinstance(parse_home(text, source="home.yaml"), Home)
    except HomeFileError as err:
        assert str(err).startswith("home.yaml")


@pytest.mark.slow
@FAST
@given(document=home_shaped, unicode=st.booleans())
def test_any_home_shaped_document_is_read_or_refused(document: Any, unicode: bool) -> None:
    parsed_or_refused(yaml.safe_dump(document, allow_unicode=unicode))


DAMAGED = """\
language: en
floors:
  - {name: Downstairs, id: down, aliases: [ground floor]}
areas:
  - {name: Kitchen, id: kitchen, floor: down}
entities:
  - name: "[the] lamp"
    id: light.lamp
    area: kitchen
    aliases: [reading light]
    attributes: {device_class: light}
"""
edits = st.lists(
    st.tuples(st.integers(0, len(DAMAGED)), st.integers(0, 3), awkward_text), max_size=4
)


@FAST
@given(edits=edits, noise=st.text(alphabet=st.sampled_from(AWKWARD) | st.characters()))
def test_any_text_is_read_or_refused(edits: list[tuple[int, int, str]], noise: str) -> None:
    text = DAMAGED
    for at, cut, put in edits:
        text = text[:at] + put + text[at + cut :]
    parsed_or_refused(text)
    parsed_or_refused(noise)


visible = st.characters(exclude_categories=["Cc", "Cs", "Cf", "Zs", "Zl", "Zp"])
inside = st.characters(exclude_categories=["Cc", "Cs"]) | st.sampled_from(AWKWARD[:20])
written_name = st.builds(
    lambda pad, first, rest, end: pad + first + rest + end,
    st.sampled_from(["", " ", "  "]),
    visible | st.sampled_from("[(<{|"),
    st.text(alphabet=inside, max_size=40),
    st.sampled_from(["", " ", "\n"]),
).filter(lambda text: not any(c in text.strip() for c in "\t\n\r"))


@FAST
@given(written=st.lists(written_name, min_size=1, max_size=5), unicode=st.booleans())
def test_a_valid_homes_names_are_the_text_as_written(written: list[str], unicode: bool) -> None:
    document = {"entities": [{"name": n, "id": f"light.l{i}"} for i, n in enumerate(written)]}
    home = parse_home(yaml.safe_dump(document, allow_unicode=unicode))
    assert [entity.name for entity in home.entities] == [n.strip() for n in written]
