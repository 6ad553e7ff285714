"""The intent service's command-line verbs: ask, eval, bench."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import grpc

from slm_mesh.services.contracts.intent import CONTRACT, IntentRequest, IntentResult
from slm_mesh.services.home.files import load_settings_home
from slm_mesh.services.intent.ask import BadLine, answer_lines, parse_line
from slm_mesh.services.intent.evaluate import Score, load_cases, score
from slm_mesh.services.intent.service import build_recognizer
from slm_mesh.services.kit.grpc_client import ServiceClient, remote_failure
from slm_mesh.services.runtime.grpc_tls import (
    ChannelSecurity,
    channel_security,
    config_from_settings,
)
from slm_mesh.services.settings import Settings

__all__ = ["ask", "bench", "evaluate"]


def ask(settings: Settings, *, texts: Sequence[str], target: str | None, area: str | None) -> int:
    """Answer TEXTs (or stdin lines) as JSON lines; exit 2 if any line was refused."""
    items = (
        [IntentRequest(text=text, area=area) for text in texts]
        if texts
        else (parse_line(raw, area=area) for raw in sys.stdin.buffer)
    )

    def write(line: str) -> None:
        print(line, flush=True)

    if target is None:
        recognizer, _ = build_recognizer(settings)
        failures = answer_lines(items, recognize=recognizer.recognize_batch, write=write)
    else:
        security = channel_security(
            config_from_settings(settings.grpc, cache_dir=settings.cache_dir), target=target
        )
        failures = asyncio.run(_ask_remote(target, list(items), write, security=security))
    return 2 if failures else 0


async def _ask_remote(
    target: str,
    items: list[IntentRequest | BadLine],
    write: Callable[[str], None],
    *,
    security: ChannelSecurity,
) -> int:
    try:
        async with ServiceClient(CONTRACT, target=target, security=security) as client:
            loop = asyncio.get_running_loop()

            def recognize(requests: Sequence[IntentRequest]) -> list[IntentResult]:
                future = asyncio.run_coroutine_threadsafe(client.call(list(requests)), loop)
                return future.result()

            return await asyncio.to_thread(answer_lines, items, recognize=recognize, write=write)
    except grpc.aio.AioRpcError as err:
        raise remote_failure("intent", target, err) from err


def evaluate(settings: Settings, *, cases: Sequence[Path], baseline: bool) -> list[Score]:
    """Score the recognizer, and Home Assistant's own matcher beside it, on `cases`."""
    loaded = [case for path in cases for case in load_cases(path)]
    home = load_settings_home(settings)
    recognizer, _ = build_recognizer(settings, home=home)
    scores = [score("slm-mesh", loaded, recognizer.recognize_batch)]
    if baseline:
        from slm_mesh.services.intent.templates import HassilBaseline

        hassil = HassilBaseline(home=home, language=home.language)

        def recognize(requests: Sequence[IntentRequest]) -> list[IntentResult]:
            return [hassil.match(r.text, area=home.find_area(r.area or "")) for r in requests]

        scores.append(score("home-assistant (strict+fuzzy)", loaded, recognize))
    return scores


def bench(settings: Settings, *, seconds: float, as_json: bool) -> int:
    from slm_mesh.tools.bench.intent import run_bench

    report = run_bench(settings, seconds=seconds)
    print(json.dumps(report.as_json(), indent=2) if as_json else report.format())
    return 0
