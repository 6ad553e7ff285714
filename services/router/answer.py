"""What the router gives back: one answer per request, saying which tier answered and why.

{"id", "text", "task", "site", "device", "area",
 "tier": "template" | "slm" | "llm" | "none",
 "intent": name or null, "slots": {...}, "confidence": 0-1,   (the first command's)
 "intents": [{"text", "intent", "slots", "confidence", "tier"}, ...],  (one per command)
 "answer": text or null,     (a model's reply, or why nobody can help)
 "result": null or {...},    (another service's whole answer: a summary's sentences, ...)
 "why": {"reason", "out_of_scope", "fallback", "budget"},
 "error": null or {"code", "message"},
 "elapsed_ms"}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slm_mesh.services.contracts.intent import IntentResult, Tier
from slm_mesh.services.redact import scrub
from slm_mesh.services.router.request import RouterRequest

_TIER_ORDER: dict[Tier, int] = {"template": 0, "slm": 1, "llm": 2, "none": 3}


@dataclass(frozen=True)
class Answer:
    request: RouterRequest
    task: str
    intents: tuple[IntentResult, ...] = ()
    text: str | None = None
    tier: Tier = "none"
    reason: str = ""
    out_of_scope: float | None = None
    fallback: str = "not configured"
    budget: dict[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None
    elapsed_ms: float = 0.0
    executed: tuple[dict[str, Any], ...] = field(default=())
    result: dict[str, Any] | None = None
    """Another service's whole answer (a summary's sentences and offsets, a sentiment's
    scores), beside the words in `text`."""

    @classmethod
    def for_intents(cls, request: RouterRequest, results: list[IntentResult], **why: Any) -> Answer:
        tier: Tier = max((r.tier for r in results), key=_TIER_ORDER.__getitem__, default="none")
        return cls(request=request, task="intent", intents=tuple(results), tier=tier, **why)

    @classmethod
    def error(cls, request: RouterRequest, task: str, code: str, message: str) -> Answer:
        return cls(
            request=request, task=task, error_code=code, error_message=message, reason=message
        )

    def as_json(self) -> dict[str, Any]:
        first = self.intents[0] if self.intents else None
        return {
            "id": self.request.id,
            "text": self.request.text,
            "task": self.task,
            **self.request.context_json(),
            "tier": self.tier,
            "intent": first.intent if first else None,
            "slots": dict(first.slots) if first else {},
            "confidence": round(first.confidence, 4) if first else 0.0,
            "intents": [result.as_json() for result in self.intents],
            "answer": scrub(self.text) if self.text else self.text,
            "why": {
                "reason": scrub(self.reason),
                "out_of_scope": None if self.out_of_scope is None else round(self.out_of_scope, 4),
                "fallback": self.fallback,
                "budget": self.budget,
            },
            "error": (
                {"code": self.error_code, "message": scrub(self.error_message or "")}
                if self.error_code
                else None
            ),
            "executed": list(self.executed),
            "result": self.result,
            "elapsed_ms": round(self.elapsed_ms, 2),
        }
