"""Home Assistant's Wyoming conversation agent over TCP: each connection's events go to the
router, one at a time, and its answers come back as the events Home Assistant reads.

A connection that sends what cannot be read gets an `error` event and is closed; one that
sends nothing is closed after IDLE_TIMEOUT_S; past MAX_CONNECTIONS new ones are closed at
once. Whatever one connection does costs that connection only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog
from wyoming.error import Error
from wyoming.event import Event, async_write_event
from wyoming.info import Describe
from wyoming.ping import Ping, Pong

from slm_mesh.services.errors import InvalidRequestError, UnreadablePayload
from slm_mesh.services.router.router import Router
from slm_mesh.services.wyoming.events import answer_events, describe, is_request, request_from
from slm_mesh.services.wyoming.events import not_handled as not_handled_event
from slm_mesh.services.wyoming.reader import MAX_LINE_BYTES, read_event

log = structlog.get_logger(__name__)

IDLE_TIMEOUT_S = 30.0
MAX_CONNECTIONS = 64


@dataclass
class WyomingCounts:
    connections: int = 0
    answered: int = 0
    refused: int = 0
    """Requests answered with `not-handled` because they were not valid."""
    unreadable: int = 0
    """Connections closed because an event could not be read."""
    turned_away: int = 0
    """Connections closed at once: MAX_CONNECTIONS were open."""


@dataclass
class WyomingServer:
    router: Router
    info: Event
    counts: WyomingCounts
    port: int = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.counts.connections += 1
        try:
            while (event := await self._next(reader, writer)) is not None:
                await self._answer(event, writer)
        except (ConnectionError, TimeoutError) as err:
            log.debug("wyoming connection ended", reason=repr(err))
        except Exception:
            log.exception("wyoming connection failed; closing it")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _next(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> Event | None:
        try:
            async with asyncio.timeout(IDLE_TIMEOUT_S):
                return await read_event(reader)
        except UnreadablePayload as err:
            self.counts.unreadable += 1
            log.info("wyoming event unreadable; closing the connection", reason=str(err))
            await async_write_event(Error(text=str(err), code="invalid_request").event(), writer)
            return None

    async def _answer(self, event: Event, writer: asyncio.StreamWriter) -> None:
        if Describe.is_type(event.type):
            await async_write_event(self.info, writer)
        elif Ping.is_type(event.type):
            await async_write_event(Pong(text=event.data.get("text")).event(), writer)
        elif is_request(event):
            try:
                request = request_from(event)
            except InvalidRequestError as err:
                self.counts.refused += 1
                await async_write_event(not_handled_event(str(err)), writer)
                return
            answer = await self.router.handle(request)
            self.counts.answered += 1
            for reply in answer_events(answer):
                await async_write_event(reply, writer)
        else:
            unknown = f"slm-mesh takes describe, transcript and recognize, not {event.type!r}"
            await async_write_event(Error(text=unknown, code="unknown_event").event(), writer)


@contextlib.asynccontextmanager
async def running_wyoming(
    router: Router, *, host: str, port: int, version: str, plugin: str
) -> AsyncIterator[WyomingServer]:
    """Serves until the context exits; `port` is then the one it listens on."""
    server = WyomingServer(
        router=router, info=describe(version=version, plugin=plugin).event(), counts=WyomingCounts()
    )
    open_connections: set[asyncio.StreamWriter] = set()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(open_connections) >= MAX_CONNECTIONS:
            server.counts.turned_away += 1
            writer.close()
            return
        open_connections.add(writer)
        try:
            await server.serve(reader, writer)
        finally:
            open_connections.discard(writer)

    listening = await asyncio.start_server(connected, host=host, port=port, limit=MAX_LINE_BYTES)
    server.port = listening.sockets[0].getsockname()[1]
    log.info("serving", service="wyoming", address=f"{host}:{server.port}")
    try:
        yield server
    finally:
        listening.close()
        for writer in list(open_connections):
            writer.close()
        await listening.wait_closed()
