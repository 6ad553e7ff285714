"""Which service instances are online, from their retained status messages (pure)."""

from __future__ import annotations

import json


class ServiceDirectory:
    def __init__(self) -> None:
        self._online: dict[str, set[str]] = {}

    def apply(self, topic: str, payload: bytes) -> None:
        """Take `<prefix>/status/<service>/<instance>`; an unreadable status means offline."""
        parts = topic.split("/")
        if len(parts) < 3:
            return
        service, instance = parts[-2], parts[-1]
        try:
            state = json.loads(payload).get("state") if payload else "offline"
        except (ValueError, AttributeError):
            state = "offline"
        instances = self._online.setdefault(service, set())
        if state == "online":
            instances.add(instance)
        else:
            instances.discard(instance)

    def online(self, service: str) -> int:
        return len(self._online.get(service, ()))
