"""An ESPHome config checked as ESPHome would before compiling: `esphome:` with a `name`,
one platform block with its board, each component item's `platform:` and the keys that
platform requires, pins that are pins and intervals that are time periods. ESPHome's tags
(`!secret`, `!lambda`, `!include`) are read as plain values."""

from __future__ import annotations

import re
from typing import Any

from slm_mesh.services.code_snippet.esphome_components import (
    BOARD_KEYS,
    PLATFORM_COMPONENTS,
    PLATFORMS,
    RENAMED,
)
from slm_mesh.services.code_snippet.snippet_yaml import load_yaml

#: `GPIO4`, `4`, `D2` (NodeMCU labels), `A0`, `GP15`, `PA5` (LibreTiny), or a board's name.
_PIN = re.compile(
    r"(?:GPIO|GP|D|A|P[A-C]?)?\d{1,2}|LED|BUILTIN_LED|TX|RX|SDA|SCL|MOSI|MISO|SCK|SS|VCC",
    re.IGNORECASE,
)
#: `30s`, `5min`, `1.5h`, `500ms`, `never`, `01:30:00`; a bare number is milliseconds.
_PERIOD = re.compile(
    r"never|\d+(?:\.\d+)?\s*(?:us|microseconds?|ms|milliseconds?|s|sec|seconds?|min|minutes?|"
    r"h|hours?|d|days?)?|\d+:\d{2}(?::\d{2})?",
    re.IGNORECASE,
)
_PERIOD_KEYS = frozenset({"days", "hours", "minutes", "seconds", "milliseconds", "microseconds"})
_TIME_KEYS = frozenset({"update_interval"})


def esphome_problems(code: str) -> list[str]:
    data, unreadable = load_yaml(code)
    if unreadable is not None:
        return [unreadable]
    if not isinstance(data, dict):
        return ["an ESPHome config is a mapping with `esphome:` and a platform block (esp32: ...)"]
    problems = _node(data) + _platform_block(data)
    for component, value in data.items():
        if component in PLATFORM_COMPONENTS:
            problems += _component(component, value, data)
    problems += _values("", data)
    return problems


def _node(data: dict[Any, Any]) -> list[str]:
    esphome = data.get("esphome")
    if not isinstance(esphome, dict):
        return ["`esphome:` is missing: it holds the node's `name`"]
    name = esphome.get("name")
    if not isinstance(name, str) or not name.strip():
        return ["esphome: needs a `name` (the node's name, such as living-room-sensor)"]
    if "platform" in esphome:
        return ["esphome: `platform:` there is the old syntax; write the platform block "
                "(esp32: / esp8266:) with its `board:`"]  # fmt: skip
    return []


def _platform_block(data: dict[Any, Any]) -> list[str]:
    blocks = [key for key in data if key in BOARD_KEYS]
    if len(blocks) != 1:
        found = ", ".join(f"`{b}:`" for b in blocks) if blocks else "none"
        return [f"needs exactly one platform block (esp32, esp8266, rp2040, ...); found {found}"]
    block = blocks[0]
    keys = BOARD_KEYS[block]
    settings = data[block]
    if keys and not (isinstance(settings, dict) and any(key in settings for key in keys)):
        return [f"{block}: needs `{keys[0]}` (the board, such as esp32dev or d1_mini)"]
    return []


def _component(component: str, value: Any, data: dict[Any, Any]) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    problems = []
    for index, item in enumerate(items):
        where = f"{component}[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be a mapping with `platform:`")
            continue
        platform = item.get("platform")
        if not isinstance(platform, str) or not platform:
            problems.append(f"{where}: has no `platform:` (the kind of {component})")
            continue
        where = f"{where} ({platform})"
        renamed = RENAMED.get((component, platform))
        if renamed is not None:
            problems.append(f"{where}: ESPHome renamed the platform to `{renamed}`")
        spec = PLATFORMS.get(component, {}).get(platform)
        if spec is None:
            continue
        for keys in spec.required:
            if not any(key in item for key in keys):
                needed = " or ".join(f"`{key}`" for key in keys)
                problems.append(f"{where}: needs {needed}")
        for bus in spec.needs:
            if bus not in data:
                problems.append(f"{where}: needs a `{bus}:` bus in the config")
    return problems


def _values(where: str, value: Any) -> list[str]:
    """Pins and time periods wherever they are (a pin may be a mapping with `number`)."""
    problems: list[str] = []
    if isinstance(value, list):
        for index, item in enumerate(value):
            problems += _values(f"{where}[{index}]", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            here = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and _is_pin_key(key) and not _is_pin(item):
                problems.append(f"{here}: {item!r:.40} is not a pin (GPIO4, 4 or D2)")
            elif key in _TIME_KEYS and not _is_period(item):
                problems.append(f"{here}: {item!r:.40} is not a time period (30s, 5min, 1h)")
            else:
                problems += _values(here, item)
    return problems


def _is_pin_key(key: str) -> bool:
    return key in ("pin", "sda", "scl") or key.endswith("_pin")


def _is_substitution(value: Any) -> bool:
    """`${relay_pin}`: a value from `substitutions:`, checked where it is defined."""
    return isinstance(value, str) and "$" in value


def _is_pin(value: Any) -> bool:
    if _is_substitution(value):
        return True
    if isinstance(value, dict):
        return "number" in value and _is_pin(value["number"])
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value < 100
    return isinstance(value, str) and _PIN.fullmatch(value.strip()) is not None


def _is_period(value: Any) -> bool:
    if _is_substitution(value):
        return True
    if isinstance(value, dict):
        return bool(value) and set(value) <= _PERIOD_KEYS
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 0
    return isinstance(value, str) and _PERIOD.fullmatch(value.strip()) is not None
