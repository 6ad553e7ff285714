"""Long-running tasks that cannot die unseen.

Each serving loop runs in an `asyncio.TaskGroup` owned by the context that started it
(`running_router`, `running_service`, ...): if the loop dies, the group cancels the task
that entered the context, the context announces the instance offline on its way out, and
the error comes out of the context, so the process ends with a non-zero exit (`cli.main`)
instead of living on with a status that says "online" and nobody answering.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog

log = structlog.get_logger(__name__)


async def supervised(work: Coroutine[Any, Any, None], name: str) -> None:
    """Run `work`; if it dies, log why, with the traceback, and let the error through."""
    try:
        await work
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("a serving task died; stopping", task=name)
        raise
