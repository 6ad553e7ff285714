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

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "intent": self.intent,
            "slots": dict(self.slots),
            "confidence": round(self.confidence, 4),
            "tier": self.tier,
        }
