"""The generative plugin: a small model writes the snippet, guided so that it cannot name
what the home lacks.

A Home Assistant automation is written as JSON under a schema made from the home
(`automation_schema`): every `entity_id` is an enum of the home's entities of the right
domains, every action one of Home Assistant's services for a domain the home has, so the
model's tokens can only spell those; the JSON is then shown as the YAML Home Assistant
reads. Formats without a schema (ESPHome, MicroPython, Python, shell) are written freely
and then validated like any answer. Generation runs in a worker thread, its pieces handed
to the event loop as they come.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from slm_mesh.services.code_snippet.ha_services import SERVICES
from slm_mesh.services.code_snippet.snippet_yaml import load_yaml
from slm_mesh.services.contracts.code import LANGUAGES
from slm_mesh.services.contracts.info import ModelInfo
from slm_mesh.services.errors import ModelError
from slm_mesh.services.home.model import Entity, Home
from slm_mesh.services.language.mentions import MentionFinder
from slm_mesh.services.runtime.generator import GenerativeModel, Guidance
from slm_mesh.services.runtime.manifest import read_manifest
from slm_mesh.services.runtime.plugins import PATH_PREFIX
from slm_mesh.services.settings import Settings

RETRIEVAL = "retrieval"
"""The plugin name that means: no generative model, the snippet library alone."""
MAX_LISTED_ENTITIES = 80
"""Entities named in the prompt (all of them are in the schema's enums regardless)."""
RETRY_TEMPERATURE = 0.7
_TIME = r"^[0-2][0-9]:[0-5][0-9]:[0-5][0-9]$"
_SENSOR_DOMAINS = ("sensor", "binary_sensor", "person", "device_tracker", "sun", "input_boolean")
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\n(.*?)(?:```|$)", re.DOTALL)


@dataclass
class CodeGenerator:
    model: GenerativeModel
    name: str
    info: ModelInfo
    max_new_tokens: int = 400
    time_limit_s: float = 30.0

    async def write(
        self,
        prompt: str,
        *,
        fmt: str,
        home: Home,
        attempt: int = 0,
        example: str | None = None,
    ) -> AsyncIterator[str]:
        """The snippet's text as the model writes it (for an automation: its JSON): the
        likeliest text first, then, for another attempt, a sampled one (greedy decoding
        would only write the first again). `example`, a similar snippet for this home (the
        library's), is shown to the model to adapt."""
        text = self.prompt_text(prompt, fmt=fmt, home=home, example=example)
        guidance = Guidance.json_schema(automation_schema(home)) if fmt == AUTOMATION else None
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | BaseException | None] = asyncio.Queue()
        stop = threading.Event()

        def run() -> None:
            try:
                generation = self.model.stream(
                    text,
                    max_new_tokens=self.max_new_tokens,
                    time_limit_s=self.time_limit_s,
                    guidance=guidance,
                    temperature=RETRY_TEMPERATURE if attempt else 0.0,
                    seed=attempt,
                )
                for piece in generation:
                    if stop.is_set():
                        generation.close()
                        break
                    loop.call_soon_threadsafe(queue.put_nowait, piece)
                loop.call_soon_threadsafe(queue.put_nowait, None)
            except BaseException as err:  # handed to the event loop, raised there
                loop.call_soon_threadsafe(queue.put_nowait, err)

        worker = asyncio.create_task(asyncio.to_thread(run))
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            await asyncio.shield(worker)

    def prompt_text(self, prompt: str, *, fmt: str, home: Home, example: str | None = None) -> str:
        """The chat prompt, listing as many of the home's entities (those the request names
        first) and showing the example when they leave room for the answer in the model's
        context."""
        room = self.model.max_length - self.max_new_tokens
        listed = len(home.entities)
        while True:
            messages = chat_messages(prompt, fmt=fmt, home=home, listed=listed, example=example)
            text = self.model.chat_prompt(messages)
            if self.model.count_tokens(text) <= room:
                return text
            if listed == 0 and example is None:
                return text  # the model refuses it, saying why
            if listed == 0:
                example = None
            listed //= 2

    def finish(self, text: str, *, fmt: str) -> str:
        """The code a user gets from what the model wrote: an automation's JSON as YAML,
        code without the Markdown fence a model may put around it."""
        if fmt == AUTOMATION:
            try:
                return yaml.safe_dump(json.loads(text), sort_keys=False, allow_unicode=True)
            except ValueError:
                return text
        fenced = _FENCE.search(text)
        return (fenced.group(1) if fenced else text).strip() + "\n"


AUTOMATION = "homeassistant-automation"


def chat_messages(
    prompt: str,
    *,
    fmt: str,
    home: Home,
    listed: int = MAX_LISTED_ENTITIES,
    example: str | None = None,
) -> list[dict[str, str]]:
    """What the model is told: the format, up to `listed` of the home's entities with
    their names (those the request names first, then those in the areas it names), and a
    similar snippet to adapt (an automation's as the JSON it is to write)."""
    areas = {area.id: area.name for area in home.areas}
    lines = [
        f"{e.id}: {e.name}" + (f" ({areas[e.area_id]})" if e.area_id in areas else "")
        for e in relevant_entities(prompt, home)[:listed]
    ]
    if fmt == AUTOMATION:
        system = (
            "You write one Home Assistant automation as JSON with alias, triggers, "
            "conditions, actions and mode. Use only these entities:\n" + "\n".join(lines)
        )
    else:
        system = (
            f"You write {fmt} code ({LANGUAGES[fmt]}) for a smart home. Reply with the code "
            "only. The home's entities:\n" + "\n".join(lines)
        )
    if example is not None:
        shown = _as_json(example) if fmt == AUTOMATION else example
        system += f"\nA similar snippet for this home, to adapt:\n{shown}"
    return [{"role": "system", "content": system}, {"role": "user", "content": prompt}]


def _as_json(automation: str) -> str:
    """An automation's YAML as the compact JSON the model writes."""
    data, _ = load_yaml(automation)
    return json.dumps(data, separators=(",", ":")) if data is not None else automation


def relevant_entities(prompt: str, home: Home) -> list[Entity]:
    """The home's entities, those the request names first, then those in areas it names."""
    mentions = MentionFinder(home=home).find(prompt)
    named = [m.target.id for m in mentions.entities]
    places = {m.target.id for m in mentions.areas}
    return sorted(
        home.entities,
        key=lambda e: (e.id not in named, e.area_id not in places),
    )


def automation_schema(home: Home) -> dict[str, Any]:
    """A JSON schema an automation for `home` fits, and nothing that names what it lacks."""
    by_domain: dict[str, list[str]] = {}
    for entity in home.entities:
        by_domain.setdefault(entity.domain, []).append(entity.id)
    every = [entity.id for entity in home.entities]
    watched = [e for d in _SENSOR_DOMAINS for e in by_domain.get(d, [])] or every
    numeric = by_domain.get("sensor", []) or every
    time = {"type": "string", "pattern": _TIME}
    sun_event = {"enum": ["sunset", "sunrise"]}
    triggers = [
        _object(
            {"trigger": {"const": "state"}, "entity_id": {"enum": every},
             "to": {"type": "string", "maxLength": 16}, "for": time},
            required=("trigger", "entity_id"),
        ),
        _object(
            {"trigger": {"const": "numeric_state"}, "entity_id": {"enum": numeric},
             "above": {"type": "number"}, "below": {"type": "number"}},
            required=("trigger", "entity_id"),
        ),
        _object({"trigger": {"const": "time"}, "at": time}),
        _object(
            {"trigger": {"const": "sun"}, "event": sun_event,
             "offset": {"type": "string", "pattern": r"^-?[0-2][0-9]:[0-5][0-9]:[0-5][0-9]$"}},
            required=("trigger", "event"),
        ),
    ]  # fmt: skip
    conditions = [
        _object({"condition": {"const": "state"}, "entity_id": {"enum": watched},
                 "state": {"type": "string", "maxLength": 16}}),
        _object({"condition": {"const": "sun"}, "after": sun_event, "before": sun_event},
                required=("condition",)),
        _object({"condition": {"const": "time"}, "after": time, "before": time},
                required=("condition",)),
    ]  # fmt: skip
    actions = [
        _object({
            "action": {"enum": sorted(f"{domain}.{name}" for name in SERVICES[domain])},
            "target": _object({"entity_id": {"enum": ids}}),
        })
        for domain, ids in sorted(by_domain.items())
        if domain in SERVICES
    ]  # fmt: skip
    actions.append(_object({"delay": time}))
    message = _object({"message": {"type": "string", "maxLength": 120}})
    actions.append(_object({"action": {"const": "notify.notify"}, "data": message}))
    return _object({
        "alias": {"type": "string", "maxLength": 40},
        "triggers": {"type": "array", "minItems": 1, "maxItems": 3, "items": {"anyOf": triggers}},
        "conditions": {"type": "array", "maxItems": 3, "items": {"anyOf": conditions}},
        "actions": {"type": "array", "minItems": 1, "maxItems": 5, "items": {"anyOf": actions}},
        "mode": {"enum": ["single", "restart", "queued", "parallel"]},
    })  # fmt: skip


def _object(
    properties: dict[str, Any], *, required: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """A closed JSON object: these properties, all required unless `required` says which."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(required if required is not None else properties),
        "additionalProperties": False,
    }


def load_generator(settings: Settings) -> CodeGenerator | None:
    """The generative plugin the settings name; None for the snippet library alone."""
    name = settings.code.plugin
    if name == RETRIEVAL:
        return None
    folder = model_folder(name, settings)
    model = GenerativeModel.load(folder, cache_dir=settings.cache_dir)
    return CodeGenerator(
        model=model,
        name=name,
        info=_info(name, folder),
        max_new_tokens=settings.code.max_new_tokens,
        time_limit_s=settings.code.time_limit_s,
    )


def _info(name: str, folder: Path) -> ModelInfo:
    """What `Describe` says of the model: from its manifest, when it has one."""
    manifest = read_manifest(folder)
    return ModelInfo(
        name=name,
        task="generator: code, guided by the format's schema and the home",
        sha256=manifest.files.get("model.onnx", "") if manifest else "",
        precision=manifest.precision if manifest else "as exported",
        attribution=(manifest.description if manifest else "") or str(folder),
        licence=manifest.licence if manifest else "unknown",
    )


def model_folder(name: str, settings: Settings) -> Path:
    if name.startswith(PATH_PREFIX):
        return Path(name.removeprefix(PATH_PREFIX))
    if name == "smollm2":
        from slm_mesh.plugins.smollm2 import model_dir

        return model_dir(settings.cache_dir)
    raise ModelError(
        f"no generative plugin named {name!r}: use {RETRIEVAL} (the snippet library), smollm2, "
        f"or {PATH_PREFIX}/path/to/an onnxruntime-genai model folder"
    )
