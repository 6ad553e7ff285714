"""What device code names of the home: entity ids (in Python's strings, in a shell command,
in an ESPHome `homeassistant` sensor) and Home Assistant's REST services
(`/api/services/<domain>/<service>`) must be ones the home and Home Assistant have, as an
automation's must. A snippet written freely by a model is held to this too, so no answer
names what the home lacks, whatever its format."""

from __future__ import annotations

import ast
import re

from slm_mesh.services.code_snippet.ha_services import is_service
from slm_mesh.services.home.model import Home

#: Domains of Home Assistant's entities (not `homeassistant`, `notify`, ...: those have
#: actions, no entities; `homeassistant.local` is a host name).
ENTITY_DOMAINS = frozenset({
    "alarm_control_panel", "assist_satellite", "automation", "binary_sensor", "button",
    "calendar", "camera", "climate", "counter", "cover", "date", "datetime", "device_tracker",
    "event", "fan", "group", "humidifier", "image", "input_boolean", "input_button",
    "input_datetime", "input_number", "input_select", "input_text", "lawn_mower", "light",
    "lock", "media_player", "number", "person", "remote", "scene", "script", "select",
    "sensor", "siren", "sun", "switch", "text", "timer", "todo", "update", "vacuum", "valve",
    "water_heater", "weather", "zone",
})  # fmt: skip
#: `sensor.py` is a file: an "entity" whose object id is a file's extension is not one.
_FILE_ENDINGS = frozenset({
    "py", "sh", "txt", "yaml", "yml", "json", "log", "conf", "cfg", "csv", "tar", "gz", "zip",
    "ini", "toml", "service", "mpy", "bin", "h", "c", "cpp", "js", "html", "md",
})  # fmt: skip
_ENTITY = re.compile(
    r"(?<![\w.])(" + "|".join(sorted(ENTITY_DOMAINS, key=len, reverse=True)) + r")\.([a-z0-9_]+)\b"
)
_SERVICE_URL = re.compile(r"/api/services/([a-z0-9_]+)/([a-z0-9_]+)")
_ESPHOME_ENTITY = re.compile(r"\bentity_id:\s*[\"']?([a-z_]+\.[a-z0-9_]+)")
#: A sensor whose state a snippet POSTs to `/api/states/` is one it makes, not one it names.
_POSTS = re.compile(r"\bpost\b|-X\s*POST", re.IGNORECASE)
_MADE_BY_POSTING = frozenset({"sensor", "binary_sensor"})


def name_problems(code: str, home: Home, *, python: bool) -> list[str]:
    """The entity ids and services `code` names that the home or Home Assistant lacks; in
    Python, only its string literals are read (`machine.Pin` is no entity)."""
    texts = _strings(code) if python else [code]
    known = {entity.id for entity in home.entities}
    makes = "/api/states/" in code and _POSTS.search(code) is not None
    problems = []
    for text in texts:
        for domain, object_id in _ENTITY.findall(text):
            entity_id = f"{domain}.{object_id}"
            made = makes and domain in _MADE_BY_POSTING
            if object_id not in _FILE_ENDINGS and entity_id not in known and not made:
                problems.append(f"{entity_id} is not in the home")
        for domain, service in _SERVICE_URL.findall(text):
            if not is_service(domain, service):
                problems.append(f"{domain}.{service} is not a Home Assistant action")
    return problems


def esphome_name_problems(code: str, home: Home) -> list[str]:
    """An ESPHome config names the home's entities only as `entity_id:` values (its own
    `switch.toggle:` and such are actions on the device's components)."""
    known = {entity.id for entity in home.entities}
    return [f"{e} is not in the home" for e in _ESPHOME_ENTITY.findall(code) if e not in known]


def _strings(code: str) -> list[str]:
    """Every string literal of `code` (none when it does not parse: compiling says why)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
