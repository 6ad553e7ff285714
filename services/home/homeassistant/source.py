"""The home read from Home Assistant and followed while the process runs.

At start the home is read once (`first_home`), waiting for a Home Assistant that is still
starting; a refused token ends the start with a message that says how to make one. Then
`follow` keeps a session open, subscribed to the registries' events and to state changes,
and reads the home again after each change that matters (a state alone does not), once
changes have been quiet for `settle_s`. When Home Assistant restarts or the network drops,
the home read last stays in use and the session is opened again, with a growing pause; a
token refused later is logged as an error and tried again every `AUTH_RETRY_S`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NoReturn

import structlog

from slm_mesh.services.errors import HomeFileError
from slm_mesh.services.home.homeassistant import registries
from slm_mesh.services.home.homeassistant.connection import (
    HomeAssistantConnection,
    connected,
    websocket_url,
)
from slm_mesh.services.home.homeassistant.errors import (
    HomeAssistantAuthError,
    HomeAssistantDataError,
    HomeAssistantError,
    HomeAssistantSettingsError,
)
from slm_mesh.services.home.homeassistant.registries import Snapshot
from slm_mesh.services.home.model import Home
from slm_mesh.services.settings import Settings

log = structlog.get_logger(__name__)

RETRY_S = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
"""Pauses between tries while Home Assistant cannot be reached; the last repeats."""
MAX_SETTLE_S = 10.0
"""The longest a change waits for the changes after it, before the home is read again."""
AUTH_RETRY_S = 300.0
"""Home Assistant bans an address after repeated failed logins: try a refused token rarely."""

Listener = Callable[[Home], Awaitable[None]]


@dataclass
class HomeAssistantSource:
    url: str
    token: str = field(repr=False)
    settle_s: float = 1.0
    open_timeout_s: float = 10.0
    retry_s: tuple[float, ...] = RETRY_S
    reads: int = field(default=0, init=False)
    """Times the home was read."""
    failures: int = field(default=0, init=False)
    """Sessions that failed (unreachable, closed, refused, garbage)."""
    _skipped: tuple[str, ...] = field(default=(), init=False, repr=False)

    def __post_init__(self) -> None:
        websocket_url(self.url)  # an address that is not one fails now, not at each try

    async def read(self) -> Home:
        """The home, in one session."""
        async with connected(self.url, self.token, open_timeout_s=self.open_timeout_s) as session:
            home = await self._read(session)
            log.info(
                "home read from home assistant",
                url=session.where,
                version=session.ha_version,
                areas=len(home.areas),
                entities=len(home.entities),
            )
            return home

    async def first_home(self) -> Home:
        """The home, once Home Assistant answers; a refused token raises at once."""
        attempt = 0
        while True:
            try:
                return await self.read()
            except HomeAssistantSettingsError:
                raise
            except HomeAssistantError as err:
                await self._pause(err, attempt, "waiting for home assistant")
                attempt += 1

    async def follow(self, on_change: Listener, *, home: Home) -> NoReturn:
        """Read the home again after each change, calling `on_change` when it differs
        from the one read last; runs until cancelled."""
        attempt = 0
        while True:
            try:
                async with connected(
                    self.url, self.token, open_timeout_s=self.open_timeout_s
                ) as session:
                    for event_type in (*registries.REGISTRY_EVENTS, registries.STATE_CHANGED):
                        await session.subscribe(event_type)
                    attempt = 0
                    while True:
                        fresh = await self._read(session)
                        if fresh != home:
                            home = fresh
                            log.info(
                                "home updated from home assistant",
                                areas=len(home.areas),
                                entities=len(home.entities),
                            )
                            await on_change(home)
                        await self._next_change(session)
            except HomeAssistantAuthError as err:
                self.failures += 1
                log.error(
                    "home assistant refused the token; keeping the home read last",
                    why=str(err),
                    retry_in_s=AUTH_RETRY_S,
                )
                await asyncio.sleep(AUTH_RETRY_S)
            except HomeAssistantError as err:
                await self._pause(
                    err, attempt, "home assistant connection lost; keeping the home read last"
                )
                attempt += 1

    async def _read(self, session: HomeAssistantConnection) -> Home:
        read = registries.home_from(await read_snapshot(session))
        self.reads += 1
        if read.skipped and read.skipped != self._skipped:
            log.warning(
                "home assistant: some of the home left out",
                count=len(read.skipped),
                why=list(read.skipped[:10]),
            )
        self._skipped = read.skipped
        return read.home

    async def _next_change(self, session: HomeAssistantConnection) -> None:
        """Until a change that matters, then until such changes have been quiet for
        `settle_s` (a restored backup renames hundreds at once), or `MAX_SETTLE_S` passed;
        state changes that do not matter never hold it up."""
        while not _matters(*await session.event()):
            pass
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + MAX_SETTLE_S
        quiet_at = loop.time() + self.settle_s
        while (left := min(quiet_at, give_up_at) - loop.time()) > 0:
            try:
                async with asyncio.timeout(left):
                    if _matters(*await session.event()):
                        quiet_at = loop.time() + self.settle_s
            except TimeoutError:
                return

    async def _pause(self, err: HomeAssistantError, attempt: int, what: str) -> None:
        self.failures += 1
        pause = self.retry_s[min(attempt, len(self.retry_s) - 1)]
        log.warning(what, why=str(err), retry_in_s=pause)
        await asyncio.sleep(pause)


async def read_snapshot(session: HomeAssistantConnection) -> Snapshot:
    """Everything the home is made of, in one session. What an older Home Assistant or a
    non-admin token cannot answer (floors before 2024.4, exposure settings) is logged and
    left to its default."""
    floors = await _optional(session, registries.FLOORS, [])
    areas = await session.command(registries.AREAS)
    devices = await session.command(registries.DEVICES)
    entities = await session.command(registries.ENTITIES)
    states = await session.command(registries.STATES)
    exposed = await _optional(session, registries.EXPOSED, None)
    expose_new = await _optional(session, registries.EXPOSE_NEW, {}, assistant=registries.ASSISTANT)
    snapshot = Snapshot(
        floors=floors,
        areas=areas,
        devices=devices,
        entities=entities,
        states=states,
        exposed=exposed,
        expose_new=expose_new.get("expose_new", True) if isinstance(expose_new, Mapping) else True,
    )
    wanted = registries.exposed_ids(snapshot)
    details = await _optional(session, registries.ENTITY_DETAILS, {}, entity_ids=wanted)
    if isinstance(details, Mapping):
        aliases = {
            entity_id: entry.get("aliases")
            for entity_id, entry in details.items()
            if isinstance(entry, Mapping)
        }
        snapshot = replace(snapshot, aliases=aliases)
    return snapshot


async def _optional(
    session: HomeAssistantConnection, command: str, default: Any, **fields: Any
) -> Any:
    try:
        return await session.command(command, **fields)
    except HomeAssistantDataError as err:
        log.warning("home assistant: read without it", command=command, why=str(err))
        return default


def _matters(event_type: str, data: Any) -> bool:
    if event_type == registries.STATE_CHANGED:
        return registries.state_change_matters(data)
    return event_type in registries.REGISTRY_EVENTS


def source_from(settings: Settings) -> HomeAssistantSource | None:
    """The source the settings name; None when they name none (the home file is read)."""
    config = settings.homeassistant
    if not config.url:
        return None
    if settings.home is not None:
        raise HomeFileError(
            "give a home file (SLM_MESH_HOME) or Home Assistant's address "
            "(SLM_MESH_HOMEASSISTANT_URL), not both"
        )
    return HomeAssistantSource(url=config.url, token=access_token(config.token, config.token_file))


def access_token(token: Any, token_file: Path | None) -> str:
    """The long-lived access token, from the settings or the file they name."""
    if token is not None and token_file is not None:
        raise HomeAssistantSettingsError(
            "give Home Assistant's access token or a file holding it, not both"
        )
    if token_file is not None:
        try:
            text = token_file.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise HomeAssistantSettingsError(
                f"homeassistant_token_file {token_file}: {err.strerror or err}"
            ) from None
        except UnicodeDecodeError:
            raise HomeAssistantSettingsError(
                f"homeassistant_token_file {token_file} is not UTF-8 text"
            ) from None
    else:
        text = token.get_secret_value().strip() if token is not None else ""
    if not text:
        raise HomeAssistantSettingsError(
            "reading the home from Home Assistant needs a long-lived access token: create one "
            "on your Home Assistant profile page (Security tab) and set "
            "SLM_MESH_HOMEASSISTANT_TOKEN or SLM_MESH_HOMEASSISTANT_TOKEN_FILE"
        )
    return text
