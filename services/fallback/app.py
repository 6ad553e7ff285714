"""Wiring: from settings to a ready LLM fallback, closed when the mesh stops."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog

from slm_mesh.services.fallback.config import FallbackConfig
from slm_mesh.services.fallback.fallback import LlmFallback
from slm_mesh.services.home.model import Home
from slm_mesh.services.redact import redact_url
from slm_mesh.services.settings import Settings

log = structlog.get_logger(__name__)


@asynccontextmanager
async def running_fallback(settings: Settings, *, home: Home) -> AsyncIterator[LlmFallback]:
    if not settings.llm.url:
        raise ValueError("no LLM server configured: give --llm-url or set SLM_MESH_LLM_URL")
    config = FallbackConfig.from_values(
        base_url=settings.llm.url,
        model=settings.llm.model,
        api_key=settings.llm.api_key,
        api_key_file=settings.llm.api_key_file,
        timeout_s=settings.llm.timeout_s,
        per_minute=settings.llm.per_minute,
        per_day=settings.llm.per_day,
        max_text_chars=settings.llm.max_text_chars,
    )
    fallback = LlmFallback.from_config(config, home)
    log.info(
        "llm fallback ready",
        url=redact_url(settings.llm.url),
        model=settings.llm.model,
        budget=f"{settings.llm.per_minute}/min, {settings.llm.per_day}/day",
    )
    try:
        yield fallback
    finally:
        await fallback.aclose()
