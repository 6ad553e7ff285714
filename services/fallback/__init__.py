"""The optional LLM fallback (tier 2): an OpenAI-compatible chat-completions client behind
a circuit breaker, a call budget and a response cache, whose device intents are checked
against the home before anything acts on them."""

from slm_mesh.services.fallback.breaker import BreakerState, CircuitBreaker
from slm_mesh.services.fallback.budget import CallBudget
from slm_mesh.services.fallback.cache import ResponseCache, cache_key
from slm_mesh.services.fallback.client import ChatClient
from slm_mesh.services.fallback.config import API_KEY_ENV, FallbackConfig
from slm_mesh.services.fallback.errors import (
    FallbackConfigError,
    FallbackError,
    FallbackGarbage,
    FallbackTimeout,
    FallbackUnavailable,
)
from slm_mesh.services.fallback.fallback import FallbackAnswer, LlmFallback
from slm_mesh.services.fallback.schema import INTENTS, reply_schema, response_format
from slm_mesh.services.fallback.validate import ModelReply, Rejection, parse_reply, validate_intent

__all__ = [
    "API_KEY_ENV",
    "INTENTS",
    "BreakerState",
    "CallBudget",
    "ChatClient",
    "CircuitBreaker",
    "FallbackAnswer",
    "FallbackConfig",
    "FallbackConfigError",
    "FallbackError",
    "FallbackGarbage",
    "FallbackTimeout",
    "FallbackUnavailable",
    "LlmFallback",
    "ModelReply",
    "Rejection",
    "ResponseCache",
    "cache_key",
    "parse_reply",
    "reply_schema",
    "response_format",
    "validate_intent",
]
