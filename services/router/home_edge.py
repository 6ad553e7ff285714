"""The router's Home Assistant and Rhasspy faces: Hermes NLU queries, discovered devices,
and opt-in execution of resolved intents on their command topics."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import structlog

from slm_mesh.services.contracts.intent import IntentResult
from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.home.discovery import DiscoveredEntity
from slm_mesh.services.home.follow import HomeFollower
from slm_mesh.services.home.model import Home
from slm_mesh.services.router.answer import Answer
from slm_mesh.services.router.command_trust import commandable
from slm_mesh.services.router.execute import plan_commands
from slm_mesh.services.router.hermes import answer_messages, parse_query
from slm_mesh.services.router.request import RouterRequest
from slm_mesh.services.router.router import Router
from slm_mesh.services.runtime.mqtt import Message, MqttClient

log = structlog.get_logger(__name__)


@dataclass
class HomeEdge:
    client: MqttClient
    router: Router
    base_home: Home
    follower: HomeFollower | None = None
    """The process's follower of discovery, when discovery is on."""
    execute_domains: frozenset[str] = frozenset()
    reserved_topics: tuple[str, ...] = ()
    """Topic filters no device command may go to (the mesh's, discovery's, Hermes')."""
    _devices: dict[str, DiscoveredEntity | str] | None = field(default=None, repr=False)
    _devices_version: int = field(default=-1, repr=False)

    @property
    def home(self) -> Home:
        """The home file's entities plus every device discovered so far."""
        return self.follower.home if self.follower is not None else self.base_home

    @property
    def devices(self) -> dict[str, DiscoveredEntity | str]:
        """By entity id, what may command it, or why nothing may (worked out again only
        when discovery changed the home)."""
        version = self.follower.version if self.follower is not None else 0
        if self._devices is None or self._devices_version != version:
            announcements = self.follower.registry.announcements if self.follower else ()
            self._devices = commandable(announcements, reserved=self.reserved_topics)
            self._devices_version = version
        return self._devices

    async def execute(self, answer: Answer) -> Answer:
        """Send each resolved intent to its devices, where the domain is opted in."""
        if not self.execute_domains or self.follower is None or not answer.intents:
            return answer
        executed: list[dict[str, Any]] = []
        for result in answer.intents:
            plan = plan_commands(
                result, self.home, self.devices, allowed_domains=self.execute_domains
            )
            for command in plan.commands:
                await self.client.publish(
                    command.topic, command.payload, qos=command.qos, retain=command.retain
                )
                executed.append({"entity_id": command.entity_id, "topic": command.topic})
            executed += [{"entity_id": s.entity_id, "skipped": s.reason} for s in plan.skipped]
        return Answer(**{**answer.__dict__, "executed": tuple(executed)})

    async def answer_hermes(self, message: Message) -> None:
        """A Rhasspy satellite's `hermes/nlu/query`, answered the Hermes way."""
        try:
            query = parse_query(message.payload)
        except InvalidRequestError as err:
            log.warning("hermes query dropped", why=str(err))
            return
        request = RouterRequest(
            id=query.id or query.session_id or "hermes",
            text=query.input,
            site=query.site_id,
            device=query.site_id,
        )
        answer = await self.execute(await self.router.handle(request))
        first = answer.intents[0] if answer.intents else IntentResult(query.input, None)
        for topic, body in answer_messages(query, first):
            await self.client.publish(topic, json.dumps(body, ensure_ascii=False))
