"""The LLM fallback: asks an OpenAI-compatible model what the local tiers could not
answer, within a breaker, a budget and a deadline. It never raises for server trouble:
every failure becomes a "cannot help" answer that says why."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, replace
from typing import Any, Literal

import httpx
import structlog

from slm_mesh.services.contracts.intent import IntentResult
from slm_mesh.services.contracts.text import CANNOT_HELP
from slm_mesh.services.fallback import schema
from slm_mesh.services.fallback.breaker import BreakerState, CircuitBreaker
from slm_mesh.services.fallback.budget import CallBudget
from slm_mesh.services.fallback.cache import ResponseCache, cache_key
from slm_mesh.services.fallback.client import ChatClient
from slm_mesh.services.fallback.config import FallbackConfig
from slm_mesh.services.fallback.errors import FallbackError
from slm_mesh.services.fallback.validate import (
    ModelReply,
    Rejection,
    parse_reply,
    validate_intent,
)
from slm_mesh.services.home.model import Home

log = structlog.get_logger(__name__)

AnswerKind = Literal["intent", "answer", "cannot_help"]


@dataclass(frozen=True)
class FallbackAnswer:
    kind: AnswerKind
    result: IntentResult | None = None
    """The checked intent, when kind is "intent"."""
    answer_text: str | None = None
    """What to say: the model's answer, or for cannot_help its excuse or `CANNOT_HELP`."""
    reason: str = ""
    """Why: "breaker open", "budget spent: 20/min", "timeout after 2.0 s", "cached", ..."""
    budget: dict[str, int] | None = None
    breaker: BreakerState = "closed"

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "result": None if self.result is None else self.result.as_answer_json(),
            "answer": self.answer_text,
            "reason": self.reason,
            "budget": self.budget,
            "breaker": self.breaker,
        }


class LlmFallback:
    """Tier 2. Construct once per process; `ask` is safe to call concurrently."""

    def __init__(
        self,
        *,
        client: ChatClient,
        home: Home,
        breaker: CircuitBreaker,
        budget: CallBudget,
        cache: ResponseCache[FallbackAnswer],
        timeout_s: float = 10.0,
        max_text_chars: int = 4000,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, not {timeout_s}")
        if max_text_chars < 1:
            raise ValueError(f"max_text_chars must be at least 1, not {max_text_chars}")
        self.max_text_chars = max_text_chars
        self.client = client
        self.home = home
        self.breaker = breaker
        self.budget = budget
        self.cache = cache
        self.timeout_s = timeout_s
        self._response_format = schema.response_format(home)

    def use_home(self, home: Home) -> None:
        """The home as it is now: the model is shown its names, and answers kept for the
        old one are forgotten (they may name what is gone)."""
        self.home = home
        self._response_format = schema.response_format(home)
        self.cache.clear()

    @classmethod
    def from_config(
        cls, config: FallbackConfig, home: Home, *, http: httpx.AsyncClient | None = None
    ) -> LlmFallback:
        client = ChatClient(
            base_url=config.base_url, model=config.model, api_key=config.api_key, http=http
        )
        return cls(
            client=client,
            home=home,
            breaker=CircuitBreaker(
                failure_threshold=config.breaker_threshold,
                reset_after_s=config.breaker_cooldown_s,
            ),
            budget=CallBudget(per_minute=config.per_minute, per_day=config.per_day),
            cache=ResponseCache(max_entries=config.cache_size, ttl_s=config.cache_ttl_s),
            timeout_s=config.timeout_s,
            max_text_chars=config.max_text_chars,
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    def _answer(self, kind: AnswerKind, reason: str, **values: Any) -> FallbackAnswer:
        if kind == "cannot_help" and not values.get("answer_text"):
            values["answer_text"] = CANNOT_HELP
        return FallbackAnswer(
            kind=kind,
            reason=reason,
            budget=self.budget.state(),
            breaker=self.breaker.state,
            **values,
        )

    async def ask(self, text: str, *, area: str | None = None, deadline_s: float) -> FallbackAnswer:
        """Ask the model about `text`, said by a device in `area`, within `deadline_s`."""
        if len(text) > self.max_text_chars:
            return self._answer(
                "cannot_help", f"the text is over {self.max_text_chars} characters: not sent"
            )
        key = cache_key(text, area)
        cached = self.cache.get(key)
        if cached is not None:
            return replace(cached, reason="cached", budget=self.budget.state())
        timeout_s = min(self.timeout_s, deadline_s)
        if not math.isfinite(timeout_s) or timeout_s <= 0:
            return self._answer("cannot_help", f"no time left (deadline {deadline_s:.1f} s)")
        refusal = self.budget.refusal()
        if refusal is not None:
            return self._answer("cannot_help", refusal)
        if not self.breaker.allow():
            return self._answer("cannot_help", "breaker open")
        self.budget.spend()
        try:
            content = await self.client.complete(
                schema.messages(self.home, text, area=area),
                timeout_s=timeout_s,
                response_format=self._response_format,
            )
            reply = parse_reply(content)
        except FallbackError as err:
            self.breaker.record_failure()
            log.warning("llm fallback failed", reason=str(err), breaker=self.breaker.state)
            return self._answer("cannot_help", str(err))
        except asyncio.CancelledError:
            # Cut short from outside: we cannot tell whether the server was to blame, and a
            # half-open trial must not stay in flight for ever.
            self.breaker.record_failure()
            raise
        self.breaker.record_success()
        answer = self._read(reply, text)
        if answer.kind != "cannot_help":
            self.cache.put(key, answer)
        return answer

    def _read(self, reply: ModelReply, text: str) -> FallbackAnswer:
        if reply.kind == "answer":
            return self._answer("answer", "the model answered", answer_text=reply.answer)
        if reply.kind == "cannot_help":
            return self._answer("cannot_help", "the model cannot help", answer_text=reply.answer)
        checked = validate_intent(reply, self.home, text=text)
        if isinstance(checked, Rejection):
            log.info("llm intent rejected", reason=checked.reason)
            return self._answer("cannot_help", checked.reason)
        return self._answer("intent", checked.reason, result=checked)
