"""Build the tiny onnxruntime-genai model folders the tests run: `tests/data/genai/<arch>/`.

Each folder is a real onnxruntime-genai model (genai_config.json, model.onnx and its
external data, tokenizer.json, tokenizer_config.json with a chat template, and a
manifest.json in slm-mesh's format pinning every file) of one architecture: Llama, Phi-3 or
Gemma 2. The weights are random (seeded) and tiny (hidden size 64, 2 layers, 420 tokens), so
a folder is about 500 KB and a token takes well under a millisecond; what the model writes is
noise, which is what the tests want (only guided decoding makes it write anything in
particular). The tokenizer is a byte-level BPE trained on the few KB of text below, with the
family's own special tokens and chat template.

Gemma 3 is not among them: onnxruntime-genai 0.18's builder reads Gemma 3's RoPE settings as
transformers 4 wrote them (`rope_local_base_freq`, one flat `rope_parameters`), and fails on
transformers 5's per-layer-type ones (KeyError: 'rope_type' in make_rope_init).

It needs PyTorch, transformers and onnxruntime-genai's model builder, which are never
dependencies of slm-mesh at run time nor in its tests; run it in a scratch virtualenv:

    python3.11 -m venv /tmp/genai-build-venv
    /tmp/genai-build-venv/bin/pip install torch==2.13.0 transformers onnxruntime-genai==0.18.0 \
        onnx onnx_ir tokenizers
    /tmp/genai-build-venv/bin/python tools/models/make_tiny_genai.py [--out tests/data/genai]

With torch 2.13.0, transformers 5.24.0, onnxruntime-genai 0.18.0 and tokenizers 0.23.3 it
writes the committed files byte for byte; other versions may differ, and each folder's
manifest.json pins what was committed.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "tests" / "data" / "genai"
VOCAB_SIZE = 420
CONTEXT_LENGTH = 256
SEED = 0
#: What the tokenizer learns its merges from: code, Home Assistant YAML and JSON, commands.
CORPUS = """\
def turn_on(hass, entity_id):
    \"\"\"Turn on a light.\"\"\"
    hass.services.call("light", "turn_on", {"entity_id": entity_id})

def turn_off(hass, entity_id):
    hass.services.call("light", "turn_off", {"entity_id": entity_id})

for entity in entities:
    if entity.state == "on":
        print(entity.entity_id, entity.attributes.get("brightness"))

automation:
  - alias: "Kitchen lights at sunset"
    trigger:
      - platform: sun
        event: sunset
    action:
      - service: light.turn_on
        target:
          entity_id: light.kitchen
        data:
          brightness_pct: 60

script:
  good_night:
    sequence:
      - service: light.turn_off
        target:
          area_id: living_room
      - service: lock.lock
        target:
          entity_id: lock.front_door

{"entity_id": "light.a", "state": "on", "brightness": 128}
{"entity_id": "light.b", "state": "off"}
{"entity_id": "switch.fan", "state": "on", "attributes": {"friendly_name": "Fan"}}
{"type": "object", "properties": {"entity_id": {"enum": ["light.a", "light.b"]}}}

turn on the kitchen light
turn off the living room lights
set the bedroom temperature to 21 degrees
open the garage door and lock the front door
what is the temperature in the hallway
dim the lights to 30 percent
is the back door locked
start the vacuum in the office

class Light:
    def __init__(self, name: str, on: bool = False) -> None:
        self.name = name
        self.on = on

    def toggle(self) -> None:
        self.on = not self.on

async def main() -> None:
    async with client.connect("mqtt://localhost") as mqtt:
        await mqtt.publish("home/light/kitchen/set", json.dumps({"state": "ON"}))

import json
from pathlib import Path
data = json.loads(Path("config.json").read_text())
return [x for x in data if x["enabled"]]
"""


@dataclass(frozen=True)
class Family:
    """One architecture: its transformers config, special tokens and chat template."""

    name: str
    bos: str
    eos: str
    """The token that ends an assistant turn (the tokenizer's eos_token)."""
    specials: tuple[str, ...]
    """Every special token; the first ones get the lowest ids."""
    chat_template: str


FAMILIES = (
    Family(
        name="llama",
        bos="<|begin_of_text|>",
        eos="<|eot_id|>",
        specials=(
            "<|begin_of_text|>",
            "<|end_of_text|>",
            "<|eot_id|>",
            "<|start_header_id|>",
            "<|end_header_id|>",
        ),
        chat_template=(
            "{{ bos_token }}{% for message in messages %}"
            "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
            " + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
            "{% if add_generation_prompt %}"
            "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
        ),
    ),
    Family(
        name="phi3",
        bos="<s>",
        eos="<|end|>",
        specials=(
            "<unk>",
            "<s>",
            "</s>",
            "<|endoftext|>",
            "<|end|>",
            "<|user|>",
            "<|assistant|>",
            "<|system|>",
        ),
        chat_template=(
            "{% for message in messages %}"
            "{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}"
            "{% endfor %}"
            "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}"
            "{% endif %}"
        ),
    ),
    Family(
        name="gemma",
        bos="<bos>",
        eos="<end_of_turn>",
        specials=("<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"),
        chat_template=(
            "{{ bos_token }}{% for message in messages %}"
            "{% if message['role'] == 'assistant' %}{% set role = 'model' %}"
            "{% else %}{% set role = message['role'] %}{% endif %}"
            "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim"
            " + '<end_of_turn>\\n' }}{% endfor %}"
            "{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}"
        ),
    ),
)


def train_tokenizer(family: Family) -> Any:
    """A byte-level BPE over CORPUS: every byte is a token, so any text encodes."""
    tk = importlib.import_module("tokenizers")
    tokenizer = tk.Tokenizer(tk.models.BPE())
    tokenizer.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = tk.decoders.ByteLevel()
    trainer = tk.trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=list(family.specials),
        initial_alphabet=tk.pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(CORPUS.splitlines(keepends=True), trainer)
    return tokenizer


def hf_config(family: Family, tokenizer: Any) -> Any:
    """The transformers config of a tiny model of the family."""
    transformers = importlib.import_module("transformers")
    ids = {token: tokenizer.token_to_id(token) for token in family.specials}
    common: dict[str, Any] = {
        "vocab_size": tokenizer.get_vocab_size(),
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": CONTEXT_LENGTH,
        "bos_token_id": ids[family.bos],
    }
    if family.name == "llama":
        return transformers.LlamaConfig(
            **common,
            eos_token_id=[ids["<|eot_id|>"], ids["<|end_of_text|>"]],
            pad_token_id=ids["<|end_of_text|>"],
            tie_word_embeddings=True,
            architectures=["LlamaForCausalLM"],
        )
    if family.name == "phi3":
        return transformers.Phi3Config(
            **common,
            original_max_position_embeddings=CONTEXT_LENGTH,
            eos_token_id=[ids["<|end|>"], ids["<|endoftext|>"]],
            pad_token_id=ids["<|endoftext|>"],
            tie_word_embeddings=False,
            architectures=["Phi3ForCausalLM"],
        )
    return transformers.Gemma2Config(
        **common,
        head_dim=16,
        sliding_window=32,
        eos_token_id=[ids["<end_of_turn>"], ids["<eos>"]],
        pad_token_id=ids["<pad>"],
        architectures=["Gemma2ForCausalLM"],
    )


def tokenizer_config(family: Family) -> dict[str, Any]:
    """What onnxruntime-genai (and transformers) read beside tokenizer.json."""
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": family.bos,
        "eos_token": family.eos,
        "pad_token": family.specials[0],
        "add_bos_token": False,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": CONTEXT_LENGTH,
        "chat_template": family.chat_template,
    }


def build(family: Family, out: Path, *, work: Path) -> None:
    torch = importlib.import_module("torch")
    transformers = importlib.import_module("transformers")
    torch.manual_seed(SEED)
    tokenizer = train_tokenizer(family)
    hf_dir = work / f"{family.name}-hf"
    hf_dir.mkdir(parents=True)
    config = hf_config(family, tokenizer)
    model = transformers.AutoModelForCausalLM.from_config(config)
    model.save_pretrained(hf_dir)
    tokenizer.save(str(hf_dir / "tokenizer.json"))
    (hf_dir / "tokenizer_config.json").write_text(json.dumps(tokenizer_config(family), indent=2))
    built = work / family.name
    subprocess.run(
        [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(hf_dir),
         "-o", str(built), "-p", "fp32", "-e", "cpu", "-c", str(work / "cache")],
        check=True,
    )  # fmt: skip
    # Keep what onnxruntime-genai reads, and our own tokenizer files rather than transformers'
    # re-save of them (which may move the chat template into a separate file).
    target = out / family.name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    genai_config = json.loads((built / "genai_config.json").read_text())
    decoder = genai_config["model"]["decoder"]["filename"]
    for name in (decoder, f"{decoder}.data", "genai_config.json"):
        if (built / name).is_file():
            shutil.copy2(built / name, target / name)
    shutil.copy2(hf_dir / "tokenizer.json", target / "tokenizer.json")
    shutil.copy2(hf_dir / "tokenizer_config.json", target / "tokenizer_config.json")
    write_manifest(target, family)


def write_manifest(folder: Path, family: Family) -> None:
    """manifest.json in slm-mesh's format (services/runtime/manifest.py): every file pinned."""
    files = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != "manifest.json"
    }
    manifest = {
        "name": f"tiny-{family.name}",
        "task": "generator",
        "labels": [],
        "files": files,
        "precision": "fp32",
        "max_length": CONTEXT_LENGTH,
        "licence": "Apache-2.0",
        "description": f"Tiny random {family.name} for slm-mesh's tests (make_tiny_genai.py)",
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", choices=[f.name for f in FAMILIES], action="append")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tiny-genai-") as work:
        for family in FAMILIES:
            if args.only is None or family.name in args.only:
                build(family, args.out, work=Path(work))
                size = sum(p.stat().st_size for p in (args.out / family.name).iterdir())
                print(f"{args.out / family.name}: {size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
