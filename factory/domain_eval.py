"""Measuring the domain-tuned model on the development sets, guided and free, beside the
encoder SLM; and whether it earns a router tier.

Every case is asked twice: guided (its answer held to the home's JSON schema, as a service
would run it) and free. An answer "hallucinates" when it names an intent, device, area,
floor or domain the home lacks; one that is not the JSON asked for is counted apart
(invalid). As a router tier the model would answer only what the encoder declines, so the
decision compares the encoder alone with the encoder followed by the model: the tier goes
on only when that raises natural-phrasing accuracy and accepts no more out-of-scope
requests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slm_mesh.factory.domain_data import DECLINE, DomainData, answer_schema, prompt_messages
from slm_mesh.services.contracts.intent import IntentRequest, IntentResult
from slm_mesh.services.errors import SlmMeshError
from slm_mesh.services.home.model import Home
from slm_mesh.services.intent.evaluate import Case, score
from slm_mesh.services.progress import Progress
from slm_mesh.services.runtime.generator import GenerativeModel, Guidance

Recognize = Callable[[Sequence[IntentRequest]], list[IntentResult]]
#: Seconds one answer may take: far above the ~0.5 s a real one takes on two cores.
TIME_LIMIT_S = 30.0


@dataclass(frozen=True)
class Reply:
    text: str
    answer: dict[str, Any] | None
    """The JSON object written, or None when it is not one with an intent."""
    seconds: float
    tokens: int


def ask(
    model: GenerativeModel,
    cases: Sequence[Case],
    *,
    guidance: Guidance | None,
    max_new_tokens: int,
    label: str,
) -> list[Reply]:
    """The model's answer to each case, greedy."""
    replies = []
    with Progress(label, total=len(cases)) as bar:
        for case in cases:
            prompt = model.chat_prompt(prompt_messages(case.text, case.area))
            started, tokens = time.perf_counter(), 0
            try:
                generation = model.stream(
                    prompt,
                    max_new_tokens=max_new_tokens,
                    time_limit_s=TIME_LIMIT_S,
                    guidance=guidance,
                )
                text = "".join(generation)
                tokens = generation.stats.tokens
            except SlmMeshError as err:  # a time limit, or an answer onnxruntime-genai refused
                text = f"<{type(err).__name__}: {err}>"
            replies.append(Reply(text, _parsed(text), time.perf_counter() - started, tokens))
            bar.advance()
    return replies


def _parsed(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("intent"), str):
        return None
    return value


def as_result(case: Case, reply: Reply) -> IntentResult:
    """The reply as the recognizer's answer: a declined or invalid one is no intent."""
    answer = reply.answer
    if answer is None or answer["intent"] == DECLINE:
        return IntentResult(text=case.text, intent=None, tier="slm", reason="declined or invalid")
    slots = answer.get("slots")
    return IntentResult(
        text=case.text,
        intent=answer["intent"],
        slots={k: v for k, v in slots.items() if isinstance(v, str | int | float)}
        if isinstance(slots, dict)
        else {},
        tier="slm",
        reason="domain-tuned generator",
    )


def hallucinates(answer: dict[str, Any], home: Home, data: DomainData) -> bool:
    """True when the answer names an intent, device, area, floor or domain the home lacks."""
    known = {
        "name": {n.casefold() for e in home.entities for n in e.names},
        "area": {n.casefold() for a in home.areas for n in (a.name, *a.aliases)},
        "floor": {n.casefold() for f in home.floors for n in (f.name, *f.aliases)},
        "domain": set(data.domains),
    }
    if answer["intent"] not in data.intents:
        return True
    slots = answer.get("slots")
    if not isinstance(slots, dict):
        return False
    return any(
        str(value).casefold() not in known[name] for name, value in slots.items() if name in known
    )


def _figures(
    home: Home,
    data: DomainData,
    natural: Sequence[Case],
    declined: Sequence[Case],
    replies: Sequence[Reply],
) -> dict[str, Any]:
    cases = [*natural, *declined]
    results = [as_result(c, r) for c, r in zip(cases, replies, strict=True)]
    answered = [r.answer for r in replies if r.answer is not None]
    seconds = sum(r.seconds for r in replies)
    return {
        **_scores(natural, declined, results),
        "hallucination_rate": _round(
            sum(hallucinates(a, home, data) for a in answered) / len(replies)
        ),
        "invalid_rate": _round(1 - len(answered) / len(replies)),
        "mean_answer_ms": round(1000 * seconds / len(replies), 1),
        "tokens_per_second": round(sum(r.tokens for r in replies) / seconds, 1) if seconds else 0.0,
    }


def _scores(
    natural: Sequence[Case], declined: Sequence[Case], results: list[IntentResult]
) -> dict[str, float]:
    """Intent and slot accuracy on the natural cases (first in `results`), and the share of
    out-of-scope cases given an intent."""
    natural_score = score("natural", natural, _fixed(results[: len(natural)]))
    declined_score = score("out of scope", declined, _fixed(results[len(natural) :]))
    return {
        "natural_intent_accuracy": _round(natural_score.intent_accuracy),
        "natural_slot_accuracy": _round(natural_score.slot_accuracy),
        "oos_acceptance": _round(1 - declined_score.oos_recall),
    }


def _fixed(results: list[IntentResult]) -> Recognize:
    def recognize(requests: Sequence[IntentRequest]) -> list[IntentResult]:
        return results

    return recognize


def _round(value: float) -> float:
    return round(value, 4)


def measure(
    model: GenerativeModel,
    *,
    home: Home,
    data: DomainData,
    natural: Sequence[Case],
    out_of_scope: Sequence[Case],
    max_new_tokens: int,
    encoder: Recognize | None,
) -> dict[str, Any]:
    """The card's metrics: the model guided and free, the encoder, the two in series, and
    the router decision with its reason."""
    cases = [*natural, *out_of_scope]
    guidance = Guidance.json_schema(answer_schema(home, data))
    started = time.perf_counter()
    guided = ask(
        model, cases, guidance=guidance, max_new_tokens=max_new_tokens, label="guided answers"
    )
    free = ask(model, cases, guidance=None, max_new_tokens=max_new_tokens, label="free answers")
    metrics: dict[str, Any] = {
        "cases": {"natural": len(natural), "out_of_scope": len(out_of_scope)},
        "guided": _figures(home, data, natural, out_of_scope, guided),
        "unguided": _figures(home, data, natural, out_of_scope, free),
    }
    if encoder is None:
        metrics["router_tier"] = "off"
        metrics["router_reason"] = "not measured against the encoder SLM (--no-baseline)"
    else:
        metrics.update(against_encoder(encoder, natural, out_of_scope, guided))
    metrics["measure_seconds"] = round(time.perf_counter() - started, 1)
    return metrics


def against_encoder(
    encoder: Recognize,
    natural: Sequence[Case],
    out_of_scope: Sequence[Case],
    guided: Sequence[Reply],
) -> dict[str, Any]:
    cases = [*natural, *out_of_scope]
    alone = encoder([IntentRequest(text=c.text, area=c.area) for c in cases])
    series = [
        result if result.intent is not None else as_result(case, reply)
        for case, result, reply in zip(cases, alone, guided, strict=True)
    ]
    figures = {
        "encoder": _scores(natural, out_of_scope, alone),
        "encoder_then_model": _scores(natural, out_of_scope, series),
    }
    before, after = figures["encoder"], figures["encoder_then_model"]
    raises = after["natural_intent_accuracy"] > before["natural_intent_accuracy"]
    accepts_more = after["oos_acceptance"] > before["oos_acceptance"]
    on = raises and not accepts_more
    problems = [
        *([] if raises else ["no gain in natural accuracy"]),
        *(["more out-of-scope requests accepted"] if accepts_more else []),
    ]
    reason = (
        f"with the model answering what the encoder declines, natural intent accuracy "
        f"{before['natural_intent_accuracy']:.1%} -> {after['natural_intent_accuracy']:.1%} and "
        f"out-of-scope accepted {before['oos_acceptance']:.1%} -> {after['oos_acceptance']:.1%}: "
        + ("; ".join(problems) or "more natural requests right, no more out-of-scope accepted")
    )
    return {**figures, "router_tier": "on" if on else "off", "router_reason": reason}
