"""YAML of a snippet, read as hostile text the way the home file is: aliases are refused
as the parser meets them (a "billion laughs" document costs nothing) and nesting has a
limit, before any data is built. Home Assistant's and ESPHome's own tags (`!secret`,
`!lambda |-`, `!include`, `!input`, ...) are read as the plain values they tag."""

from __future__ import annotations

from typing import Any, cast

import yaml

from slm_mesh.services.home.model import MAX_YAML_DEPTH

#: Tags that Home Assistant or ESPHome resolve when they load the file; here, plain values.
KNOWN_TAGS = frozenset({
    "!secret", "!lambda", "!include", "!extend", "!remove", "!input", "!env_var",
    "!include_dir_list", "!include_dir_named", "!include_dir_merge_list",
    "!include_dir_merge_named",
})  # fmt: skip


#: libyaml where it is installed, as the home loader; PyYAML's pure Python otherwise.
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SnippetLoader(_SAFE_LOADER):  # type: ignore[misc]
    """The safe loader, plus the known tags."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if node.tag not in KNOWN_TAGS:
        raise yaml.constructor.ConstructorError(
            None, None, f"unknown tag {node.tag}", node.start_mark
        )
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(cast(yaml.ScalarNode, node))  # the one kind left


_SnippetLoader.add_multi_constructor("!", _tagged)


def load_yaml(text: str, *, tags: bool = True) -> tuple[Any, str | None]:
    """The document's data and None, or None and why it cannot be read (with the line).
    With `tags` false, a tag is refused too (the library's own files use none)."""
    try:
        _check_events(text)
        return yaml.load(text, Loader=_SnippetLoader if tags else _SAFE_LOADER), None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        why = " ".join(str(err.problem or err.context or "").split())
        return None, f"{where}not valid YAML ({why})"
    except _Refused as err:
        return None, str(err)
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError) as err:
        # A date or number that cannot be one, text that cannot be UTF-8 (a lone surrogate).
        return None, f"cannot read the YAML ({' '.join(str(err).split())})"


class _Refused(Exception):
    """A document past the limits: refused before it is built."""


def _check_events(text: str) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=_SnippetLoader):
        why = None
        if isinstance(event, yaml.AliasEvent):
            why = "uses a YAML alias (`*name`); write the value out"
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                why = f"nests lists and mappings over {MAX_YAML_DEPTH} deep"
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if why is not None:
            mark = event.start_mark
            line = f"line {mark.line + 1}: " if mark is not None else ""
            raise _Refused(f"{line}the snippet {why}")
