"""structlog set-up: readable on a terminal, JSON in containers; always to stderr,
because stdout carries answers (`slm-mesh ask` writes JSON lines there). Every value
logged, tracebacks included, has its URL passwords scrubbed (`redact.scrub`)."""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.typing import EventDict, WrappedLogger

from slm_mesh.services.redact import scrub


def scrub_secrets(logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
    """Passwords in URLs never reach a log line, whoever logged them."""
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = scrub(value)
    return event


def configure_logging(*, level: str = "info", fmt: str = "auto") -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            scrub_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
