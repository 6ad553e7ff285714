"""`slm-mesh bench code`: the code service's generative plugin streaming over gRPC (a
subprocess on loopback) next to raw onnxruntime-genai on the same model, prompts and
guidance, in one run: time to first token and tokens per second.

Both get the same prompt (the home's entities and the library's closest snippet, as the
service shows them) and greedy decoding, so both write the same tokens: the service's rate
is the raw run's token count over the service's time to its first attempt's last piece
(validation and any second attempt come after, and are not generation).
"""

from __future__ import annotations

import asyncio
import importlib
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slm_mesh.services.code_snippet.core import CodeCore
from slm_mesh.services.code_snippet.generative import (
    AUTOMATION,
    RETRIEVAL,
    automation_schema,
    load_generator,
    model_folder,
)
from slm_mesh.services.code_snippet.library import load_library
from slm_mesh.services.code_snippet.retrieval import SnippetIndex
from slm_mesh.services.contracts.code import CONTRACT, CodeRequest
from slm_mesh.services.errors import SlmMeshError
from slm_mesh.services.home.files import load_settings_home
from slm_mesh.services.kit.contract import Piece
from slm_mesh.services.kit.grpc_client import ServiceClient
from slm_mesh.services.kit.shared import Shared
from slm_mesh.services.runtime.generator import Guidance
from slm_mesh.services.settings import Settings
from slm_mesh.tools.bench.intent import START_TIMEOUT_S, ServiceProcess

ROUNDS = 3
TARGET_RATIO = 0.9
PROMPTS = (
    (
        AUTOMATION,
        "when motion is detected in the lounge after sunset, turn on the floor lamp "
        "for five minutes",
    ),
    (AUTOMATION, "at 7am on weekdays open the lounge blinds"),
    ("micropython", "MicroPython that publishes a button press on pin 4 to MQTT"),
    ("shell", "a shell one-liner that watches the garage door topic"),
)


@dataclass(frozen=True)
class Run:
    tokens: int
    first_s: float
    total_s: float


def _raw(og: Any, model: Any, tokenizer: Any, prompt: str, guidance: Guidance | None,
         max_new_tokens: int) -> Run:  # fmt: skip
    """onnxruntime-genai's own loop, as its examples write it."""
    started = time.perf_counter()
    tokens = tokenizer.encode(prompt)
    params = og.GeneratorParams(model)
    params.set_search_options(max_length=len(tokens) + max_new_tokens, do_sample=False)
    if guidance is not None:
        params.set_guidance(guidance.kind, guidance.text)
    generator = og.Generator(model, params)
    generator.append_tokens(tokens)
    stream = tokenizer.create_stream()
    count, first = 0, 0.0
    while not generator.is_done() and count < max_new_tokens:
        generator.generate_next_token()
        stream.decode(int(generator.get_next_tokens()[0]))
        count += 1
        if count == 1:
            first = time.perf_counter() - started
    return Run(count, first, time.perf_counter() - started)


async def _served(client: ServiceClient[Any, Any], fmt: str, prompt: str) -> tuple[float, float]:
    """Seconds to the first piece and to the first attempt's last piece."""
    started = time.perf_counter()
    first = last = 0.0
    async for part in client.stream(CodeRequest(prompt, fmt), timeout=300.0):
        if not isinstance(part, Piece) or part.attempt > 0:
            break
        last = time.perf_counter() - started
        first = first or last
    return first, last


async def _bench(settings: Settings, folder: Path) -> list[tuple[str, Run, float, float]]:
    og: Any = importlib.import_module("onnxruntime_genai")
    home = load_settings_home(settings)
    generator = load_generator(settings)
    assert generator is not None  # run_bench checked the plugin
    embedder = Shared(settings).load_encoder(settings.plugin)
    index = SnippetIndex(snippets=load_library(), embed=embedder.embed)
    library = CodeCore(home=home, index=index)
    model = og.Model(str(folder))
    tokenizer = og.Tokenizer(model)
    rows = []
    with ServiceProcess(settings, ("serve", "code"), contract=CONTRACT) as served:
        await served.wait_serving(START_TIMEOUT_S)
        async with ServiceClient(CONTRACT, target=served.target, timeout=300.0) as client:
            for fmt, prompt in PROMPTS:
                example, _ = library.library_answer(prompt, fmt)  # as the service shows it
                text = generator.prompt_text(
                    prompt, fmt=fmt, home=home, example=example.code if example.valid else None
                )
                guidance = (
                    Guidance.json_schema(automation_schema(home)) if fmt == AUTOMATION else None
                )
                raw = [_raw(og, model, tokenizer, text, guidance, settings.code.max_new_tokens)
                       for _ in range(ROUNDS)]  # fmt: skip
                service = [await _served(client, fmt, prompt) for _ in range(ROUNDS)]
                best = min(raw, key=lambda r: r.total_s)
                rows.append((prompt, best, min(s[0] for s in service), min(s[1] for s in service)))
    return rows


def run_bench(settings: Settings) -> int:
    if settings.code.plugin == RETRIEVAL:
        raise SlmMeshError(
            "bench code measures a generative plugin: set SLM_MESH_CODE_PLUGIN=smollm2 (after "
            "`slm-mesh models build smollm2`) or path:DIR of an onnxruntime-genai model"
        )
    folder = model_folder(settings.code.plugin, settings)
    # The service's model writes every answer here, even where the library has a close one.
    rows = asyncio.run(_bench(settings.updated(code_model_first=True), folder))
    print(f"code benchmark: {settings.code.plugin}, {len(rows)} prompts, best of {ROUNDS}\n")
    print(
        f"{'':44}{'tokens':>7}{'raw tok/s':>10}{'svc tok/s':>10}{'raw 1st ms':>11}"
        f"{'svc 1st ms':>11}"
    )
    ratios = []
    for prompt, raw, first, last in rows:
        raw_rate, served_rate = raw.tokens / raw.total_s, raw.tokens / last if last else 0.0
        ratios.append(served_rate / raw_rate)
        print(
            f"{prompt[:43]:44}{raw.tokens:7d}{raw_rate:10.1f}{served_rate:10.1f}"
            f"{raw.first_s * 1000:11.1f}{first * 1000:11.1f}"
        )
    ratio = statistics.median(ratios)
    mark = "✓" if ratio >= TARGET_RATIO else "✗"
    print(f"\nservice tokens/s over raw onnxruntime-genai's: {ratio:.2f} >= {TARGET_RATIO} {mark}")
    return 0
