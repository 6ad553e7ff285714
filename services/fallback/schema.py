"""What the model is asked for: one JSON object in a fixed schema, and a prompt that
lists the home, so the model can only pick names the home has.

The schema is OpenAI "structured outputs" in strict mode (every property required, none
extra, optional values nullable); Ollama, llama.cpp server and vLLM turn it into a grammar,
so even a small model answers in shape. The answer is still checked (`validate.py`):
a server without grammar support, or a cloud model, may ignore it.
"""

from __future__ import annotations

from typing import Any

from slm_mesh.services.home.model import Home

SCHEMA_NAME = "slm_mesh_fallback_reply"
KINDS = ("intent", "answer", "cannot_help")
#: The Home Assistant intents the fallback may return.
INTENTS = (
    "HassTurnOn", "HassTurnOff", "HassToggle", "HassLightSet", "HassGetState",
    "HassClimateGetTemperature", "HassClimateSetTemperature", "HassSetPosition",
    "HassSetVolume", "HassMediaPause", "HassMediaUnpause", "HassMediaNext",
    "HassStartTimer", "HassCancelTimer", "HassListAddItem", "HassBroadcast",
    "HassVacuumStart", "HassFanSetSpeed", "HassNevermind", "HassGetWeather",
    "HassGetCurrentTime",
)  # fmt: skip
#: Slot name → (JSON type, inclusive range or None).
SLOTS: dict[str, tuple[str, tuple[int, int] | None]] = {
    "name": ("string", None),
    "area": ("string", None),
    "floor": ("string", None),
    "domain": ("string", None),
    "device_class": ("string", None),
    "brightness": ("integer", (0, 100)),
    "temperature": ("number", None),
    "position": ("integer", (0, 100)),
    "color": ("string", None),
    "volume_level": ("integer", (0, 100)),
    "hours": ("integer", (0, 24 * 7)),
    "minutes": ("integer", (0, 24 * 60)),
    "seconds": ("integer", (0, 24 * 3600)),
    "item": ("string", None),
    "message": ("string", None),
}
#: Intents whose `name` slot is free text (a timer's or a list's name), not an entity.
FREE_NAME_INTENTS = frozenset({"HassStartTimer", "HassCancelTimer"})


def _nullable(kind: str, *, enum: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": [kind, "null"]}
    if enum is not None:
        schema["enum"] = [*enum, None]
    return schema


def _slot_schema(name: str, kind: str, bounds: tuple[int, int] | None) -> dict[str, Any]:
    schema = _nullable(kind)
    if bounds is not None:
        schema["minimum"], schema["maximum"] = bounds
    schema["description"] = f"the `{name}` slot, or null"
    return schema


def reply_schema(home: Home) -> dict[str, Any]:
    """The JSON schema of the model's reply; areas, floors and domains are the home's own."""
    slots = {name: _slot_schema(name, *spec) for name, spec in SLOTS.items()}
    slots["area"]["enum"] = [*sorted({a.name for a in home.areas}), None]
    slots["floor"]["enum"] = [*sorted({f.name for f in home.floors}), None]
    slots["domain"]["enum"] = [*sorted({e.domain for e in home.entities}), None]
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "intent", "slots", "answer"],
        "properties": {
            "kind": {"type": "string", "enum": list(KINDS)},
            "intent": _nullable("string", enum=list(INTENTS)),
            "slots": {
                "type": "object",
                "additionalProperties": False,
                "required": list(SLOTS),
                "properties": slots,
            },
            "answer": _nullable("string"),
        },
    }


def response_format(home: Home) -> dict[str, Any]:
    """The `response_format` of an OpenAI-compatible chat-completions request."""
    return {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "schema": reply_schema(home), "strict": True},
    }


def _entity_line(home: Home, index: int) -> str:
    entity = home.entities[index]
    parts = [f"- {entity.name}", f"domain {entity.domain}"]
    if entity.aliases:
        parts.append("also called " + ", ".join(entity.aliases))
    area = home.find_area(entity.area_id) if entity.area_id else None
    if area is not None:
        parts.append(f"in {area.name}")
    if entity.device_class:
        parts.append(f"device class {entity.device_class}")
    return "; ".join(parts)


def system_prompt(home: Home, *, area: str | None) -> str:
    """Instructions plus the home: the only names, areas and floors the model may use."""
    floors = {f.id: f.name for f in home.floors}
    area_lines = [
        f"- {a.name}" + (f" (on {floors[a.floor_id]})" if a.floor_id in floors else "")
        for a in home.areas
    ]
    here = home.find_area(area) if area else None
    lines = [
        "You turn a smart-home request into one JSON object that follows the schema.",
        'kind "intent": a command or question about the devices below; set `intent` to a '
        "Home Assistant intent and fill only the slots the request needs (others null).",
        'kind "answer": a general question the home cannot act on; put a short spoken '
        "answer in `answer`.",
        'kind "cannot_help": anything else, or a device the home does not have.',
        "Use only these names for `name`, `area` and `floor`, spelled as listed. "
        "Never invent a device.",
        "Devices:",
        *(_entity_line(home, i) for i in range(len(home.entities))),
        "Areas:",
        *area_lines,
        "Floors: " + ", ".join(f.name for f in home.floors),
        "Intents: " + ", ".join(INTENTS),
    ]
    if here is not None:
        lines.append(f"The request comes from a device in {here.name}.")
    return "\n".join(lines)


def messages(home: Home, text: str, *, area: str | None) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": system_prompt(home, area=area)},
        {"role": "user", "content": text},
    ]
