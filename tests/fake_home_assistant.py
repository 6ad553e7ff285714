"""A local server that speaks Home Assistant's WebSocket API as far as slm-mesh uses it:
`auth_required` / `auth` / `auth_ok` or `auth_invalid`, commands answered with `result`
messages, and `event` messages to `subscribe_events` subscribers. Its registries and states
are plain data a test changes, then announces with `fire`.

`home_assistant_shapes` writes a `Home` as Home Assistant's registries would hold it, so a
test can serve the demo home (or any) from "Home Assistant"."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve

from slm_mesh.services.home.model import Home

TOKEN = "test-long-lived-token-5f2c9a"
#: The server's frames hold the token too: its log stays above DEBUG, so a test that
#: looks for the token in the logs finds only what slm-mesh wrote.
_SERVER_LOG = logging.getLogger("tests.fake_home_assistant")
_SERVER_LOG.setLevel(logging.INFO)
HA_VERSION = "2026.11.1"


@dataclass
class HomeAssistantData:
    floors: list[dict[str, Any]] = field(default_factory=list)
    areas: list[dict[str, Any]] = field(default_factory=list)
    devices: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    states: list[dict[str, Any]] = field(default_factory=list)
    exposed: dict[str, dict[str, bool]] = field(default_factory=dict)

    def answer(self, command: str, message: dict[str, Any]) -> Any:
        if command == "homeassistant/expose_entity/list":
            return {"exposed_entities": self.exposed}
        if command == "homeassistant/expose_new_entities/get":
            return {"expose_new": True}
        if command == "config/entity_registry/get_entries":
            by_id = {entry["entity_id"]: entry for entry in self.entities}
            return {
                entity_id: {"aliases": [], **by_id[entity_id], "capabilities": None}
                if entity_id in by_id
                else None
                for entity_id in message["entity_ids"]
            }
        lists = {
            "config/floor_registry/list": self.floors,
            "config/area_registry/list": self.areas,
            "config/device_registry/list": self.devices,
            "config/entity_registry/list": [_partial(e) for e in self.entities],
            "get_states": self.states,
        }
        if command not in lists:
            raise KeyError(command)
        return lists[command]

    def state(self, entity_id: str) -> dict[str, Any]:
        return next(s for s in self.states if s["entity_id"] == entity_id)


def _partial(entry: dict[str, Any]) -> dict[str, Any]:
    """`config/entity_registry/list` leaves out the aliases (`get_entries` has them)."""
    return {key: value for key, value in entry.items() if key != "aliases"}


def home_assistant_shapes(home: Home) -> HomeAssistantData:
    """`home` as Home Assistant's registries and states hold it; every entity exposed to
    Assist, each on a device of its own in its area."""
    data = HomeAssistantData(
        floors=[
            {"floor_id": f.id, "name": f.name, "aliases": list(f.aliases), "level": None}
            for f in home.floors
        ],
        areas=[
            {"area_id": a.id, "name": a.name, "aliases": list(a.aliases), "floor_id": a.floor_id}
            for a in home.areas
        ],
    )
    for entity in home.entities:
        device_id = f"device-{entity.id}"
        data.devices.append({"id": device_id, "name": entity.name, "area_id": entity.area_id})
        data.entities.append(
            {
                "entity_id": entity.id,
                "device_id": device_id,
                "area_id": None,
                "name": None,
                "original_name": entity.name,
                "aliases": list(entity.aliases),
                "entity_category": None,
                "hidden_by": None,
                "options": {"conversation": {"should_expose": True}},
            }
        )
        attributes: dict[str, Any] = {"friendly_name": entity.name}
        if entity.device_class:
            attributes["device_class"] = entity.device_class
        data.states.append({"entity_id": entity.id, "state": "off", "attributes": attributes})
        data.exposed[entity.id] = {"conversation": True}
    return data


@dataclass
class FakeHomeAssistant:
    data: HomeAssistantData
    token: str = TOKEN
    port: int = 0
    garbage: bytes | None = None
    """Sent instead of `auth_required`, when set."""
    received: list[dict[str, Any]] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    _subscribers: dict[ServerConnection, dict[str, int]] = field(default_factory=dict)
    _server: Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def fire(self, event_type: str, data: dict[str, Any]) -> None:
        """An event to every session subscribed to its type."""
        for connection, subscriptions in list(self._subscribers.items()):
            if event_type in subscriptions:
                event = {"event_type": event_type, "data": data, "origin": "LOCAL"}
                message = {"id": subscriptions[event_type], "type": "event", "event": event}
                await connection.send(json.dumps(message))

    async def subscribed(self, count: int, timeout_s: float = 10.0) -> None:
        """Until `count` sessions have subscribed to state changes."""
        async with asyncio.timeout(timeout_s):
            while sum("state_changed" in s for s in self._subscribers.values()) < count:
                await asyncio.sleep(0.01)

    async def start(self) -> None:
        self._server = await serve(self._session, "127.0.0.1", self.port, logger=_SERVER_LOG)
        self.port = next(iter(self._server.sockets)).getsockname()[1]

    async def stop(self) -> None:
        """As Home Assistant restarting: every session closed, nothing listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self._subscribers.clear()

    async def _session(self, connection: ServerConnection) -> None:
        if self.garbage is not None:
            await connection.send(self.garbage)
            return
        await connection.send(json.dumps({"type": "auth_required", "ha_version": HA_VERSION}))
        auth = json.loads(await connection.recv())
        self.received.append(auth)
        if auth.get("access_token") != self.token:
            await connection.send(
                json.dumps({"type": "auth_invalid", "message": "Invalid access token or password"})
            )
            return
        await connection.send(json.dumps({"type": "auth_ok", "ha_version": HA_VERSION}))
        self._subscribers[connection] = {}
        try:
            async for raw in connection:
                message = json.loads(raw)
                self.received.append(message)
                await connection.send(json.dumps(self._answer(connection, message)))
        finally:
            self._subscribers.pop(connection, None)

    def _answer(self, connection: ServerConnection, message: dict[str, Any]) -> dict[str, Any]:
        command, command_id = message["type"], message["id"]
        self.commands.append(command)
        if command == "subscribe_events":
            self._subscribers[connection][message["event_type"]] = command_id
            return {"id": command_id, "type": "result", "success": True, "result": None}
        try:
            result = self.data.answer(command, message)
        except KeyError:
            error = {"code": "unknown_command", "message": "Unknown command."}
            return {"id": command_id, "type": "result", "success": False, "error": error}
        return {"id": command_id, "type": "result", "success": True, "result": result}


@asynccontextmanager
async def fake_home_assistant(
    data: HomeAssistantData, **fields: Any
) -> AsyncIterator[FakeHomeAssistant]:
    server = FakeHomeAssistant(data=data, **fields)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
