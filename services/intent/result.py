"""What the intent core takes and gives: small frozen values, no wire types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Tier = Literal["template", "slm", "llm", "none"]
SlotValue = str | int | float


@dataclass(frozen=True)
class IntentRequest:
    text: str
    area: str | None = None
    """The requesting device's area (its name, alias or id), used as context."""


@dataclass(frozen=True)
class IntentResult:
    text: str
    intent: str | None
    """Home Assistant intent name, or None when nothing local should answer."""
    slots: dict[str, SlotValue] = field(default_factory=dict)
    confidence: float = 0.0
    tier: Tier = "none"
    reason: str = ""
    """Why this tier answered, or why none did (for logs and the router)."""
    out_of_scope: float | None = None
    """The SLM's probability that the request is outside what the home can do (None when
    a template answered and the SLM did not run)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "intent": self.intent,
            "slots": dict(self.slots),
            "confidence": round(self.confidence, 4),
            "tier": self.tier,
        }

    def as_answer_json(self) -> dict[str, Any]:
        """The fuller form services send over MQTT: also why, and the out-of-scope score."""
        out_of_scope = None if self.out_of_scope is None else round(self.out_of_scope, 4)
        return {**self.as_json(), "reason": self.reason, "out_of_scope": out_of_scope}

    @classmethod
    def from_answer_json(cls, body: dict[str, Any]) -> IntentResult:
        """The inverse of `as_answer_json` (for a router that trusts its own services)."""
        return cls(
            text=str(body["text"]),
            intent=body.get("intent"),
            slots=dict(body.get("slots") or {}),
            confidence=float(body.get("confidence") or 0.0),
            tier=body.get("tier", "none"),
            reason=str(body.get("reason", "")),
            out_of_scope=body.get("out_of_scope"),
        )
