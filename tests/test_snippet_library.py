"""The curated snippet library: every shipped file loads, every snippet renders its own
test into code that validates against tests/data/code_home.yaml (with the townhouse's
alarm panel, timer and other less common devices), and a malformed file is refused naming
the file and the snippet."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from slm_mesh.services.code_snippet.library import (
    PARAM_KINDS,
    LibraryError,
    Snippet,
    load_library,
    parse_library_file,
    placeholders,
    render,
)
from slm_mesh.services.code_snippet.validate import validate
from slm_mesh.services.contracts.code import FORMATS
from slm_mesh.services.home.model import Home, load_home

CODE_HOME = Path(__file__).resolve().parent / "data" / "code_home.yaml"
TOWNHOUSE = CODE_HOME.with_name("code_home_townhouse.yaml")
LIBRARY = load_library()


@pytest.fixture(scope="module")
def home() -> Home:
    """The code home, with the townhouse's devices of the domains it lacks (an alarm panel,
    a timer, a siren), so that every snippet's test names a device that exists."""
    base = load_home(CODE_HOME)
    have = {entity.domain for entity in base.entities}
    extra = tuple(
        replace(entity, area_id=None)
        for entity in load_home(TOWNHOUSE).entities
        if entity.domain not in have
    )
    return replace(base, entities=base.entities + extra)


def by_id(snippet_id: str) -> Snippet:
    return next(snippet for snippet in LIBRARY if snippet.id == snippet_id)


def test_every_shipped_file_loads_with_snippets_of_every_format() -> None:
    counts = Counter(snippet.format for snippet in LIBRARY)
    assert set(counts) == set(FORMATS)
    assert len(LIBRARY) >= 45
    assert counts["homeassistant-automation"] >= 24
    assert len({snippet.id for snippet in LIBRARY}) == len(LIBRARY)
    assert load_library() is LIBRARY  # read once per process


@pytest.mark.parametrize("snippet", LIBRARY, ids=lambda snippet: snippet.id)
def test_each_snippet_renders_its_test_into_valid_code(snippet: Snippet, home: Home) -> None:
    code = render(snippet, snippet.test.params)
    result = validate(code, snippet.format, home)
    assert result.valid, result.problems
    for text in snippet.test.contains:
        assert text in code, f"{text!r} is not in\n{code}"


@pytest.mark.parametrize("snippet", LIBRARY, ids=lambda snippet: snippet.id)
def test_each_snippet_is_well_formed(snippet: Snippet, home: Home) -> None:
    assert placeholders(snippet.template) == set(snippet.params)
    assert snippet.description.endswith(".") and 2 <= len(snippet.examples) <= 4
    domains = {entity.id: entity for entity in home.entities}
    for name, param in snippet.params.items():
        assert param.kind in PARAM_KINDS and param.description
        if param.kind == "entity":
            entity = domains[str(snippet.test.params[name])]
            assert entity.domain in param.domains, (name, entity.id)
            assert not param.device_classes or entity.device_class in param.device_classes


def test_entity_ids_come_only_through_params() -> None:
    for snippet in LIBRARY:
        if snippet.format == "homeassistant-automation":
            for line in snippet.template.splitlines():
                if "entity_id:" in line:
                    assert line.split("entity_id:")[1].strip() in ("all", "") or "<<" in line


def test_render_fills_defaults_and_inserts_values_as_written() -> None:
    snippet = by_id("motion-light")
    code = render(snippet, {"motion": "binary_sensor.hallway_motion", "light": "light.hallway"})
    assert "minutes: 5" in code
    code = render(
        snippet, {"motion": "binary_sensor.x", "light": "light.x", "minutes": 2.5, "other": 1}
    )
    assert "minutes: 2.5" in code and "<<" not in code


def test_render_names_each_missing_value() -> None:
    with pytest.raises(ValueError, match="motion-light") as caught:
        render(by_id("motion-light"), {"minutes": 3})
    assert "`motion` (the motion sensor)" in str(caught.value)
    assert "`light` (the light to switch)" in str(caught.value)


SNIPPET = """
format: shell
snippets:
  - id: good-one
    description: Print a word.
    examples: [say a word, echo something]
    params:
      word: {kind: text, default: hello, description: the word}
    template: echo "<<word>>"
    test: {params: {word: hi}, contains: [echo]}
  - id: broken-one
    description: Print a word.
    examples: [say a word, echo something]
    params:
      word: {kind: text, default: hello, description: the word}
    template: echo "<<word>>"
    test: {params: {word: hi}, contains: [echo]}
"""


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ('template: echo "<<word>>"\n    test', 'template: echo "<<words>>"\n    test',
         "the template uses <<words>>, not declared in `params`"),
        ('template: echo "<<word>>"\n    test', "template: echo hi\n    test",
         "params `word` are declared but the template never uses them"),
        ("{kind: text, default: hello, description: the word}\n    template: echo \"<<word>>\"\n"
         "    test: {params: {word: hi}, contains: [echo]}\n",
         "{kind: colour, default: hello, description: the word}\n    template: echo \"<<word>>\"\n"
         "    test: {params: {word: hi}, contains: [echo]}\n",
         "param `word`: kind 'colour' is not one of entity, area"),
        ("examples: [say a word, echo something]\n    params:\n      word: {kind: text, "
         "default: hello, description: the word}\n    template: echo \"<<word>>\"\n    test: "
         "{params: {word: hi}, contains: [echo]}\n",
         "examples: [one]\n    params:\n      word: {kind: text, default: hello, description: "
         "the word}\n    template: echo \"<<word>>\"\n    test: {params: {word: hi}, contains: "
         "[echo]}\n", "`examples` must be a list of 2 to 4"),
        ("test: {params: {word: hi}, contains: [echo]}\n",
         "test: {params: {word: hi}, contains: []}\n", "test.contains must be a list"),
        ("test: {params: {word: hi}, contains: [echo]}\n",
         "test: {params: {verb: hi}, contains: [echo]}\n", "test.params names `verb`"),
        ("word: {kind: text, default: hello, description: the word}\n    template: echo "
         "\"<<word>>\"\n    test: {params: {word: hi}, contains: [echo]}\n",
         "word: {kind: entity, domain: light, description: the word}\n    template: echo "
         "\"<<word>>\"\n    test: {params: {}, contains: [echo]}\n",
         "test.params needs `word`: it has no default"),
        ("word: {kind: text, default: hello, description: the word}\n    template: echo "
         "\"<<word>>\"\n    test: {params: {word: hi}, contains: [echo]}\n",
         "word: {kind: entity, domain: light, default: light.x, description: the word}\n"
         "    template: echo \"<<word>>\"\n    test: {params: {word: hi}, contains: [echo]}\n",
         "an entity has no default: it comes from the home"),
        ("word: {kind: text, default: hello, description: the word}\n    template: echo "
         "\"<<word>>\"\n    test: {params: {word: hi}, contains: [echo]}\n",
         "word: {kind: time, default: 22:30:00, description: the word}\n    template: echo "
         "\"<<word>>\"\n    test: {params: {word: hi}, contains: [echo]}\n",
         "default 81000 is not a time"),
        ("word: {kind: text, default: hello, description: the word}\n    template: echo "
         "\"<<word>>\"\n    test: {params: {word: hi}, contains: [echo]}\n",
         "word: {kind: duration, default: 5, description: the word}\n    template: echo "
         "\"<<word>>\"\n    test: {params: {word: hi}, contains: [echo]}\n",
         "a duration needs `unit`"),
        ("description: Print a word.\n    examples: [say a word, echo something]\n    params:\n"
         "      word: {kind: text, default: hello, description: the word}\n    template: echo "
         "\"<<word>>\"\n    test: {params: {word: hi}, contains: [echo]}\n",
         "descripton: Print a word.\n    examples: [say a word, echo something]\n    params:\n"
         "      word: {kind: text, default: hello, description: the word}\n    template: echo "
         "\"<<word>>\"\n    test: {params: {word: hi}, contains: [echo]}\n",
         "check description, descripton"),
    ],
)  # fmt: skip
def test_a_malformed_snippet_is_named_with_its_file(old: str, new: str, why: str) -> None:
    good, broken = SNIPPET.split("  - id: broken-one\n")
    assert old in broken
    text = good + "  - id: broken-one\n" + broken.replace(old, new, 1)
    with pytest.raises(LibraryError) as caught:
        parse_library_file(text, source="shell.yaml")
    assert str(caught.value).startswith("shell.yaml: snippet 'broken-one': ")
    assert why in str(caught.value)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("format: cobol\nsnippets: []\n", "shell.yaml: format 'cobol' is not one of"),
        ("snippets: []\n", "shell.yaml: a library file is a mapping of `format` and `snippets`"),
        ("format: shell\nsnippets: [\n", "shell.yaml: line 3: not valid YAML"),
        ("format: shell\nsnippets: [{id: Not A Slug}]\n", "shell.yaml: snippets[0]: `id` must"),
        ("format: shell\nsnippets:\n  - &a {id: x}\n  - *a\n", "uses a YAML alias"),
        (SNIPPET.replace("broken-one", "good-one"), "snippet 'good-one': the id is used twice"),
        (SNIPPET.replace("contains: [echo]", "contains: [!secret x]"), "not valid YAML"),
    ],
)
def test_a_malformed_file_is_named(text: str, why: str) -> None:
    with pytest.raises(LibraryError, match=r"^shell\.yaml: ") as caught:
        parse_library_file(text, source="shell.yaml")
    assert why in str(caught.value)


def test_the_inline_library_loads_when_well_formed() -> None:
    good, broken = parse_library_file(SNIPPET, source="shell.yaml")
    assert (good.id, good.format, good.params["word"].default) == ("good-one", "shell", "hello")
    assert render(broken, {}) == 'echo "hello"'
