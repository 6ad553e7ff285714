"""One authenticated session with Home Assistant's WebSocket API (`/api/websocket`):
`auth_required` → `auth` → `auth_ok` (or `auth_invalid`), then commands answered by
`result` messages with the command's id, and the `event` messages of subscriptions.

Everything that can go wrong on the way becomes one of three errors, each with a message
that says what to do: `HomeAssistantAuthError` (the token was refused), `HomeAssistantDataError`
(an answer that is not the API's), `HomeAssistantError` (unreachable, or the connection
closed). The token is sent once, in the `auth` message, and is never in a message or log.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from slm_mesh.services.errors import UnreadablePayload
from slm_mesh.services.home.homeassistant.errors import (
    HomeAssistantAuthError,
    HomeAssistantDataError,
    HomeAssistantError,
    HomeAssistantSettingsError,
)
from slm_mesh.services.redact import redact_url
from slm_mesh.services.runtime.json_payload import load_json

API_PATH = "/api/websocket"
MAX_MESSAGE_BYTES = 32 * 2**20
"""`get_states` of a home with thousands of entities is a few MiB."""
MAX_BUFFERED_EVENTS = 10_000
"""Events that came while a command waited for its result; past it the session ends."""
COMMAND_TIMEOUT_S = 30.0

_SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}

#: websockets logs every frame at DEBUG, and the `auth` frame holds the token: this
#: connection's log never goes below INFO, whatever the process's level.
_WIRE_LOG = logging.getLogger("slm_mesh.homeassistant.websocket")
_WIRE_LOG.setLevel(logging.INFO)


def websocket_url(url: str) -> str:
    """The API's address from the one a user knows (`http://homeassistant.local:8123`)."""
    parts = urlsplit(url.strip())
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None or not parts.hostname:
        raise HomeAssistantSettingsError(
            f"{redact_url(url)!r} is not Home Assistant's address: give it as "
            "http://host:8123 (or https://, ws://, wss://)"
        )
    path = parts.path.rstrip("/")
    if not path.endswith(API_PATH):
        path += API_PATH
    return urlunsplit((scheme, parts.netloc, path, "", ""))


class HomeAssistantConnection:
    """Commands and events over one open, authenticated WebSocket."""

    def __init__(self, websocket: ClientConnection, *, where: str) -> None:
        self.where = where
        """The address, without secrets, for messages."""
        self.ha_version = ""
        self._websocket = websocket
        self._last_id = 0
        self._events: deque[dict[str, Any]] = deque()

    async def authenticate(self, token: str) -> None:
        first = await self._receive()
        if first.get("type") != "auth_required":
            raise HomeAssistantDataError("the connection", "it did not ask to authenticate first")
        await self._websocket.send(json.dumps({"type": "auth", "access_token": token}))
        answer = await self._receive()
        kind = answer.get("type")
        if kind == "auth_invalid":
            why = answer.get("message")
            raise HomeAssistantAuthError(
                f"Home Assistant at {self.where} refused the access token "
                f"({why if isinstance(why, str) else 'no reason given'}): create a long-lived "
                "access token on your Home Assistant profile page (Security tab) and give it "
                "as SLM_MESH_HOMEASSISTANT_TOKEN or in SLM_MESH_HOMEASSISTANT_TOKEN_FILE"
            )
        if kind != "auth_ok":
            raise HomeAssistantDataError("auth", f"answered {kind!r}, not auth_ok or auth_invalid")
        version = answer.get("ha_version")
        self.ha_version = version if isinstance(version, str) else ""

    async def command(self, command: str, **fields: Any) -> Any:
        """The command's `result`; `HomeAssistantDataError` when it failed."""
        self._last_id += 1
        command_id = self._last_id
        await self._websocket.send(json.dumps({"id": command_id, "type": command, **fields}))
        async with asyncio.timeout(COMMAND_TIMEOUT_S):
            while True:
                message = await self._receive()
                if message.get("type") == "event":
                    if len(self._events) >= MAX_BUFFERED_EVENTS:
                        raise HomeAssistantError(
                            f"over {MAX_BUFFERED_EVENTS:,} events came while waiting for "
                            f"{command}: reading the home again"
                        )
                    self._events.append(message)
                elif message.get("type") == "result" and message.get("id") == command_id:
                    return _result(command, message)

    async def subscribe(self, event_type: str) -> None:
        await self.command("subscribe_events", event_type=event_type)

    async def event(self) -> tuple[str, Any]:
        """The next event's type and data, from any subscription."""
        while True:
            message = self._events.popleft() if self._events else await self._receive()
            event = message.get("event") if message.get("type") == "event" else None
            if isinstance(event, dict) and isinstance(event.get("event_type"), str):
                return event["event_type"], event.get("data")

    async def _receive(self) -> dict[str, Any]:
        raw = await self._websocket.recv(decode=False)
        try:
            message = load_json(raw, max_bytes=MAX_MESSAGE_BYTES)
        except UnreadablePayload as err:
            raise HomeAssistantDataError("the connection", str(err)) from None
        if not isinstance(message, dict):
            raise HomeAssistantDataError("the connection", "a message is not a JSON object")
        return message


@asynccontextmanager
async def connected(
    url: str, token: str, *, open_timeout_s: float = 10.0
) -> AsyncIterator[HomeAssistantConnection]:
    """An authenticated session, closed when the context exits; every failure of the
    connection, here or in the body, is a `HomeAssistantError` saying what happened."""
    where = redact_url(url)
    address = websocket_url(url)
    try:
        async with connect(
            address, open_timeout=open_timeout_s, max_size=MAX_MESSAGE_BYTES, logger=_WIRE_LOG
        ) as websocket:
            session = HomeAssistantConnection(websocket, where=where)
            async with asyncio.timeout(open_timeout_s):
                await session.authenticate(token)
            yield session
    except InvalidStatus as err:
        raise HomeAssistantError(
            f"{where} answered HTTP {err.response.status_code}, not with Home Assistant's "
            "WebSocket API: check the address"
        ) from None
    except ConnectionClosed as err:
        raise HomeAssistantError(
            f"Home Assistant at {where} closed the connection ({err})"
        ) from None
    except WebSocketException as err:
        raise HomeAssistantError(f"{where} does not speak WebSocket as expected ({err})") from None
    except TimeoutError:
        raise HomeAssistantError(f"Home Assistant at {where} did not answer in time") from None
    except OSError as err:
        why = err.strerror or str(err) or type(err).__name__
        raise HomeAssistantError(f"cannot reach Home Assistant at {where} ({why})") from None


def _result(command: str, message: dict[str, Any]) -> Any:
    if message.get("success") is True:
        return message.get("result")
    error = message.get("error")
    error = error if isinstance(error, dict) else {}
    raise HomeAssistantDataError(
        command, f"it failed ({error.get('code', 'no code')}: {error.get('message', '')})"
    )
