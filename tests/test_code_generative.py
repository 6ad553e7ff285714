"""The code service's generative plugin on tiny models of the seeds' architectures (random
weights, tests/data/genai): guided by the home's schema, an automation names only the
home's entities and Home Assistant's services for them, whatever the model writes."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
import yaml

from slm_mesh.services.code_snippet.generative import (
    AUTOMATION,
    CodeGenerator,
    automation_schema,
    load_generator,
)
from slm_mesh.services.code_snippet.ha_services import SERVICES
from slm_mesh.services.contracts.info import ModelInfo
from slm_mesh.services.errors import ModelError
from slm_mesh.services.home.model import Home, parse_home
from slm_mesh.services.runtime.generator import GenerativeModel
from slm_mesh.services.settings import Settings

TINY = Path(__file__).resolve().parent / "data" / "genai"
PROMPTS = (
    "when motion is detected in the lounge after sunset, turn on the floor lamp",
    "at 7am open the lounge blinds",
    "lock the front door at 11 pm",
)


#: The tiny models hold 256 tokens: a home small enough to list in their prompt.
SMALL_HOME = parse_home("""
areas: [{id: lounge, name: Lounge}, {id: porch, name: Porch}]
entities:
  - {id: light.floor_lamp, name: Floor Lamp, area: lounge}
  - {id: cover.lounge_blinds, name: Lounge Blinds, area: lounge}
  - {id: lock.front, name: Front Lock, area: porch}
  - {id: binary_sensor.lounge_motion, name: Lounge Motion, area: lounge,
     attributes: {device_class: motion}}
""")


def _generator(architecture: str, *, max_new_tokens: int = 100) -> CodeGenerator:
    model = GenerativeModel.load(TINY / architecture)
    info = ModelInfo(
        name=architecture, task="generator", sha256="", precision="fp32", attribution="tests"
    )
    return CodeGenerator(
        model=model, name=architecture, info=info, max_new_tokens=max_new_tokens, time_limit_s=60.0
    )


def _write(generator: CodeGenerator, prompt: str, fmt: str, home: Home) -> list[str]:
    async def collect() -> list[str]:
        return [piece async for piece in generator.write(prompt, fmt=fmt, home=home)]

    return asyncio.run(collect())


@pytest.mark.parametrize("architecture", ["llama", "phi3", "gemma"])
def test_a_guided_automation_names_only_what_the_home_has(architecture: str) -> None:
    """A random model runs out of tokens long before its JSON closes; every value it did
    write out in full is still one the schema allows."""
    generator = _generator(architecture)
    entities = {entity.id for entity in SMALL_HOME.entities}
    named = 0
    for prompt in PROMPTS:
        written = "".join(_write(generator, prompt, AUTOMATION, SMALL_HOME))
        assert written.startswith('{"alias":')
        for entity_id in re.findall(r'"entity_id":"([^"]*)"', written):
            assert entity_id in entities, f"{architecture} wrote {entity_id}"
            named += 1
        for action in re.findall(r'"action":"([^"]*)"', written):
            domain, _, service = action.partition(".")
            assert service in SERVICES.get(domain, ()) or action == "notify.notify"
    assert named, "no generation got as far as an entity: the check checked nothing"


def test_the_schema_lists_each_domains_services_for_its_own_entities(demo_home: Home) -> None:
    schema = automation_schema(demo_home)
    actions = schema["properties"]["actions"]["items"]["anyOf"]
    lights = next(
        a for a in actions if "light.turn_on" in a["properties"].get("action", {}).get("enum", [])
    )
    assert set(lights["properties"]["target"]["properties"]["entity_id"]["enum"]) == {
        e.id for e in demo_home.entities if e.domain == "light"
    }
    assert "lock.unlock" not in lights["properties"]["action"]["enum"]


def test_pieces_come_as_the_model_writes_them() -> None:
    pieces = _write(_generator("llama", max_new_tokens=40), PROMPTS[0], "shell", SMALL_HOME)

    assert len(pieces) > 1, "streamed token by token, not all at the end"


def test_an_automation_written_as_json_is_shown_as_yaml() -> None:
    generator = _generator("llama")
    written = json.dumps(
        {
            "alias": "a",
            "triggers": [{"trigger": "time", "at": "07:00:00"}],
            "actions": [{"delay": "00:00:05"}],
            "mode": "single",
        }
    )

    code = generator.finish(written, fmt=AUTOMATION)

    assert yaml.safe_load(code)["triggers"][0]["at"] == "07:00:00"
    assert code.startswith("alias: a\n")


def test_code_in_a_markdown_fence_is_taken_out_of_it() -> None:
    generator = _generator("llama")
    assert generator.finish("Here:\n```bash\necho hi\n```\nDone.", fmt="shell") == "echo hi\n"


def test_an_unknown_generative_plugin_says_what_there_is(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"retrieval .*smollm2"):
        load_generator(Settings(cache_dir=tmp_path).updated(code_plugin="gpt-9"))


def test_the_default_model_not_built_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="slm-mesh models build smollm2"):
        load_generator(Settings(cache_dir=tmp_path).updated(code_plugin="smollm2"))


def test_a_model_folder_loads_by_its_path() -> None:
    generator = load_generator(Settings().updated(code_plugin=f"path:{TINY / 'phi3'}"))

    assert generator is not None and generator.info.sha256
