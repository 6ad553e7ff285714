"""Scoring the code-snippet service on labelled requests (the shape of
tests/data/code_requests.yaml), on the home they were written for.

A case passes when its snippet is valid for its format and contains every expected entity
id, the expected trigger type (automations) and every expected string, case-insensitively:

    slm-mesh eval code --cases tests/data/code_requests.yaml \\
        --home tests/data/code_eval_home.yaml [--mistakes 10] [--json]
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from slm_mesh.services.code_snippet.snippet_yaml import load_yaml
from slm_mesh.services.contracts.code import CodeAnswer, CodeRequest
from slm_mesh.services.errors import SlmMeshError
from slm_mesh.services.kit.service import Core
from slm_mesh.services.kit.shared import Shared
from slm_mesh.services.settings import Settings


@dataclass(frozen=True)
class Case:
    prompt: str
    format: str
    trigger: str | None = None
    entities: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Score:
    cases: int
    passed: int
    valid: int
    by_format: dict[str, tuple[int, int]]
    """Format -> (cases, passed)."""
    by_tier: dict[str, int]
    mistakes: list[tuple[Case, CodeAnswer, tuple[str, ...]]] = field(default_factory=list)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.cases if self.cases else float("nan")

    def as_json(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "passed": self.passed,
            "pass_rate": round(self.pass_rate, 4),
            "valid": self.valid,
            "by_format": {f: {"cases": c, "passed": p} for f, (c, p) in self.by_format.items()},
            "by_tier": self.by_tier,
        }


def load_cases(path: Path) -> list[Case]:
    try:
        items = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise SlmMeshError(f"{path}: cannot read the cases ({err})") from None
    if not isinstance(items, list):
        raise SlmMeshError(f"{path}: the cases are a list of {{prompt, format, expect}}")
    cases = []
    for index, item in enumerate(items):
        try:
            expect = item.get("expect") or {}
            cases.append(
                Case(
                    prompt=str(item["prompt"]),
                    format=str(item["format"]),
                    trigger=expect.get("trigger"),
                    entities=tuple(expect.get("entities") or ()),
                    contains=tuple(str(s) for s in expect.get("contains") or ()),
                )
            )
        except (AttributeError, KeyError, TypeError) as err:
            raise SlmMeshError(f"{path}: case {index} is malformed ({err!r})") from None
    return cases


def misses(case: Case, answer: CodeAnswer) -> tuple[str, ...]:
    """What the answer lacks for the case to pass; empty when it passes."""
    found = []
    if not answer.valid:
        found.append("not valid: " + "; ".join(answer.problems[:2]))
    code = answer.code.casefold()
    found += [f"no {e}" for e in case.entities if e.casefold() not in code]
    found += [f"no {s!r}" for s in case.contains if s.casefold() not in code]
    if case.trigger is not None and case.trigger not in _trigger_types(answer.code):
        found.append(f"no {case.trigger} trigger")
    return tuple(found)


def _trigger_types(code: str) -> set[str]:
    data, _ = load_yaml(code)
    automations = data if isinstance(data, list) else [data]
    types = set()
    for automation in automations:
        if not isinstance(automation, dict):
            continue
        triggers = automation.get("triggers", automation.get("trigger")) or []
        for trigger in triggers if isinstance(triggers, list) else [triggers]:
            if isinstance(trigger, dict):
                types.add(str(trigger.get("trigger", trigger.get("platform"))))
    return types


def score(cases: Sequence[Case], answers: Sequence[CodeAnswer]) -> Score:
    per_format: Counter[str] = Counter()
    passed_format: Counter[str] = Counter()
    mistakes = []
    for case, answer in zip(cases, answers, strict=True):
        per_format[case.format] += 1
        missing = misses(case, answer)
        if missing:
            mistakes.append((case, answer, missing))
        else:
            passed_format[case.format] += 1
    return Score(
        cases=len(cases),
        passed=len(cases) - len(mistakes),
        valid=sum(answer.valid for answer in answers),
        by_format={f: (n, passed_format[f]) for f, n in sorted(per_format.items())},
        by_tier=dict(Counter(answer.tier for answer in answers)),
        mistakes=mistakes,
    )


async def answer_all(
    core: Core[CodeRequest, CodeAnswer], cases: Sequence[Case]
) -> list[CodeAnswer]:
    return list(await core.handle([CodeRequest(c.prompt, c.format) for c in cases]))


def report(result: Score, *, mistakes: int, as_json: bool) -> str:
    if as_json:
        return json.dumps(result.as_json(), indent=2)
    lines = [
        f"cases {result.cases}: passed {result.passed} ({result.pass_rate:.1%}), "
        f"valid {result.valid}; tiers {result.by_tier}",
        *(f"  {fmt:26} {p}/{n}" for fmt, (n, p) in result.by_format.items()),
    ]
    for case, answer, missing in result.mistakes[:mistakes]:
        lines.append(f"- {case.prompt!r} [{answer.source}]: {'; '.join(missing)}")
    return "\n".join(lines)


async def evaluate(settings: Settings, cases: Sequence[Case]) -> Score:
    """The service, started as the settings say (their home, their plugin), on `cases`."""
    from slm_mesh.services.code_snippet.service import SERVICE

    async with Shared(settings) as shared, SERVICE.start(settings, shared) as started:
        return score(cases, await answer_all(started.core, cases))
