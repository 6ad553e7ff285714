"""Which service instances are online, from their retained status messages, and which
instances the router believes at all (pure).

A status, and an answer, counts only when it is signed with the mesh's key (`mesh_key`),
and, when `allowed_instances` is set, only from an instance id those patterns
(`fnmatch`: `intent-gateway-*`) name. Anything else is counted and ignored: a client on
the broker cannot announce itself as a service, nor answer in one's name.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import Any

import structlog

from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.runtime.json_payload import load_json_object
from slm_mesh.services.runtime.mesh_key import MeshKey
from slm_mesh.services.runtime.mqtt import Message
from slm_mesh.services.runtime.mqtt_rpc import correlation_of

log = structlog.get_logger(__name__)


class ServiceDirectory:
    def __init__(self, *, key: MeshKey, allowed_instances: Sequence[str] = ()) -> None:
        self._key = key
        self._allowed = tuple(allowed_instances)
        self._online: dict[str, set[str]] = {}
        self.ignored_statuses = 0
        """Statuses not signed with the mesh key, from instances not allowed, or unreadable."""

    def allows(self, instance: object) -> bool:
        """Whether `instance` is an id the allow-list names (any id, without one)."""
        if not isinstance(instance, str) or not instance:
            return False
        return not self._allowed or any(fnmatch.fnmatchcase(instance, p) for p in self._allowed)

    def apply(self, topic: str, payload: bytes) -> None:
        """Take `<prefix>/status/<service>/<instance>`, if it is to be believed."""
        parts = topic.split("/")
        if len(parts) < 3:
            return
        service, instance = parts[-2], parts[-1]
        why = self._distrust(topic, payload, instance)
        if why is not None:
            self.ignored_statuses += 1
            log.warning("service status ignored", topic=topic, why=why)
            return
        state = load_json_object(payload).get("state")
        instances = self._online.setdefault(service, set())
        if state == "online":
            instances.add(instance)
        else:
            instances.discard(instance)

    def _distrust(self, topic: str, payload: bytes, instance: str) -> str | None:
        if not self.allows(instance):
            return f"instance {instance!r} is not in the allowed instances"
        if not self._key.verify(payload, context=topic.encode()):
            return "not signed with this mesh's key (give every instance the same mesh key)"
        try:
            load_json_object(payload)
        except InvalidRequestError as err:
            return str(err)
        return None

    def online(self, service: str) -> int:
        return len(self._online.get(service, ()))

    def accepts_reply(self, message: Message, body: dict[str, Any]) -> bool:
        """Whether a service's answer is signed for its request by an allowed instance."""
        context = correlation_of(message, body) or b""
        return self.allows(body.get("instance")) and self._key.verify(
            message.payload, context=context
        )
