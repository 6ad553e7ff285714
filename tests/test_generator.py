"""The generative runtime on onnxruntime-genai, run on tiny random models of three
architectures (tests/data/genai/, made by tools/models/make_tiny_genai.py)."""

from __future__ import annotations

import json
import re
import shutil
import threading
from pathlib import Path

import pytest

from slm_mesh.services.errors import DeadlineExceeded, InvalidRequestError, ModelError
from slm_mesh.services.runtime.generator import (
    GenerationLimit,
    GenerativeModel,
    Guidance,
    check_genai_folder,
)

TINY = Path(__file__).resolve().parent / "data" / "genai"
ARCHITECTURES = ("llama", "phi3", "gemma")
#: How each family's chat template opens the user's turn.
USER_TURN = {
    "llama": "<|start_header_id|>user<|end_header_id|>\n\nturn on the light<|eot_id|>",
    "phi3": "<|user|>\nturn on the light<|end|>\n",
    "gemma": "<start_of_turn>user\nturn on the light<end_of_turn>\n",
}
ENTITY_SCHEMA = {
    "type": "object",
    "properties": {"entity_id": {"enum": ["light.a", "light.b"]}},
    "required": ["entity_id"],
    "additionalProperties": False,
}
ASK = [{"role": "user", "content": "turn on the light"}]


@pytest.fixture(scope="module")
def models() -> dict[str, GenerativeModel]:
    return {name: GenerativeModel.load(TINY / name) for name in ARCHITECTURES}


def copy_of(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(TINY / name, tmp_path / name))


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_every_tiny_model_loads_and_streams_text_pieces(
    models: dict[str, GenerativeModel], name: str
) -> None:
    model = models[name]
    prompt = model.chat_prompt(ASK)
    assert USER_TURN[name] in prompt
    generation = model.stream(prompt, max_new_tokens=40, time_limit_s=60)
    pieces = list(generation)  # a random model also writes special tokens, which show as no text
    assert pieces
    assert all(isinstance(piece, str) and piece for piece in pieces)
    stats = generation.stats
    assert stats.prompt_tokens == model.count_tokens(prompt)
    assert 0 < stats.tokens <= 40
    assert stats.first_token_s is not None and stats.first_token_s <= stats.total_s
    assert stats.tokens_per_second > 0
    assert stats.stopped_because in ("end", "max_tokens")


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_generation_stops_after_max_new_tokens(
    models: dict[str, GenerativeModel], name: str
) -> None:
    generation = models[name].stream("turn on the", max_new_tokens=5, time_limit_s=60)
    list(generation)
    assert (generation.stats.tokens, generation.stats.stopped_because) == (5, "max_tokens")


def test_a_generation_past_its_time_limit_raises_with_how_far_it_got(
    models: dict[str, GenerativeModel],
) -> None:
    generation = models["llama"].stream("turn on the", max_new_tokens=50, time_limit_s=1e-9)
    with pytest.raises(GenerationLimit, match="time limit") as caught:
        list(generation)
    assert isinstance(caught.value, DeadlineExceeded)
    assert caught.value.code == "deadline_exceeded"
    assert caught.value.stats.stopped_because == "time_limit"
    assert list(generation) == []


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_json_schema_guidance_makes_even_a_random_model_write_json_of_the_schema(
    models: dict[str, GenerativeModel], name: str
) -> None:
    model = models[name]
    generation = model.stream(
        model.chat_prompt(ASK),
        max_new_tokens=60,
        time_limit_s=60,
        guidance=Guidance.json_schema(ENTITY_SCHEMA),
    )
    answer = json.loads("".join(generation))
    assert set(answer) == {"entity_id"}
    assert answer["entity_id"] in ("light.a", "light.b")
    assert generation.stats.stopped_because == "end"


def test_regex_guidance_ends_the_generation_when_the_pattern_is_complete(
    models: dict[str, GenerativeModel],
) -> None:
    generation = models["phi3"].stream(
        "which light?", max_new_tokens=40, time_limit_s=60, guidance=Guidance("regex", r"on|off")
    )
    assert "".join(generation) in ("on", "off")
    assert generation.stats.stopped_because == "end"


def test_guidance_that_does_not_compile_is_refused_before_any_token(
    models: dict[str, GenerativeModel],
) -> None:
    with pytest.raises(InvalidRequestError, match="regex") as caught:
        models["llama"].stream(
            "x", max_new_tokens=5, time_limit_s=60, guidance=Guidance("regex", "(")
        )
    assert caught.value.field == "guidance"


def test_a_prompt_that_leaves_no_room_for_the_answer_is_refused(
    models: dict[str, GenerativeModel],
) -> None:
    model = models["gemma"]
    assert model.max_length == 256
    with pytest.raises(InvalidRequestError, match="holds 256 tokens") as caught:
        model.stream("turn on the kitchen light " * 60, max_new_tokens=10, time_limit_s=60)
    assert caught.value.field == "prompt"
    prompt = "turn on the light"
    room = model.max_length - model.count_tokens(prompt)
    with pytest.raises(InvalidRequestError, match=f"up to {room + 1} more"):
        model.stream(prompt, max_new_tokens=room + 1, time_limit_s=60)
    generation = model.stream(prompt, max_new_tokens=room, time_limit_s=60)
    generation.close()
    assert generation.stats.stopped_because == "closed"


def test_a_folder_without_a_chat_template_gets_plain_role_lines(tmp_path: Path) -> None:
    folder = copy_of("llama", tmp_path)
    (folder / "manifest.json").unlink()
    config = json.loads((folder / "tokenizer_config.json").read_text())
    del config["chat_template"]
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    model = GenerativeModel.load(folder)
    messages = [{"role": "system", "content": "be brief"}, *ASK]
    assert model.chat_prompt(messages) == "system: be brief\nuser: turn on the light\nassistant:"


def test_two_threads_generating_on_one_model_each_get_what_they_would_alone(
    models: dict[str, GenerativeModel],
) -> None:
    model = models["llama"]
    prompts = ["turn on the light", "open the garage door and lock the front door"]
    alone = ["".join(model.stream(p, max_new_tokens=40, time_limit_s=60)) for p in prompts]
    together: dict[str, str] = {}

    def run(prompt: str) -> None:
        together[prompt] = "".join(model.stream(prompt, max_new_tokens=40, time_limit_s=60))

    threads = [threading.Thread(target=run, args=(p,)) for p in prompts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [together[p] for p in prompts] == alone


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        ("genai_config.json", "genai_config.json is missing"),
        ("model.onnx", "model.onnx is missing: genai_config.json names it as the decoder"),
        ("model.onnx.data", "model.onnx.data is missing: model.onnx keeps its weights in it"),
        ("tokenizer.json", "tokenizer.json is missing"),
        ("tokenizer_config.json", "tokenizer_config.json is missing"),
    ],
)
def test_a_folder_missing_a_file_is_refused_naming_the_file(
    tmp_path: Path, missing: str, expected: str
) -> None:
    folder = copy_of("phi3", tmp_path)
    (folder / missing).unlink()
    with pytest.raises(ModelError, match=re.escape(expected)):
        GenerativeModel.load(folder)


def test_a_genai_config_that_is_not_json_or_names_no_decoder_is_refused(tmp_path: Path) -> None:
    folder = copy_of("llama", tmp_path)
    config = folder / "genai_config.json"
    original = json.loads(config.read_text())
    config.write_text("{model: llama")
    with pytest.raises(ModelError, match=r"genai_config\.json is not JSON"):
        check_genai_folder(folder, verify=False)
    del original["model"]["decoder"]["filename"]
    config.write_text(json.dumps(original))
    with pytest.raises(ModelError, match=r"expected a string at model\.decoder\.filename"):
        check_genai_folder(folder, verify=False)


def test_a_file_that_is_not_the_one_its_manifest_pins_is_refused_with_both_sha256(
    tmp_path: Path,
) -> None:
    folder = copy_of("gemma", tmp_path)
    pinned = json.loads((folder / "manifest.json").read_text())["files"]["tokenizer.json"]
    with (folder / "tokenizer.json").open("a") as file:
        file.write("\n")
    with pytest.raises(
        ModelError, match=rf"tokenizer\.json has sha256 [0-9a-f]{{64}}, expected {pinned}"
    ):
        GenerativeModel.load(folder)
    assert check_genai_folder(folder, verify=False).manifest is None


def test_a_checked_folder_says_what_its_genai_config_says() -> None:
    folder = check_genai_folder(TINY / "phi3")
    assert (folder.model_type, folder.max_length, folder.eos_token_ids) == ("phi3", 256, (4, 3))
    assert folder.external_data == (TINY / "phi3" / "model.onnx.data",)
    assert folder.has_chat_template
    assert folder.manifest is not None and folder.manifest.task == "generator"
