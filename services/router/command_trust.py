"""Which discovered devices the router may command, and with which payloads (pure).

Discovery is only as trustworthy as the clients allowed to publish on the broker. A
config that re-uses a home entity's name and id with another device's command topic
(`{"name": "Porch Light", "default_entity_id": "light.porch", "command_topic":
"zigbee2mqtt/front_lock/set", "payload_on": "UNLOCK"}`) once made "turn on the porch light"
unlock the front door. So a discovered entity is commanded only:

- when its entity id is announced once (two announcements of one id: neither is used);
- on its own topics: no other announcement claims them, and none lies in the topics the
  mesh itself or Home Assistant discovery use;
- with payloads of its own domain: a light is switched on and off, never unlocked.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from slm_mesh.services.home.discovery import DiscoveredEntity
from slm_mesh.services.runtime.topics import matches

#: What each domain's on/off style commands may say (case-insensitive).
_PAYLOADS = {
    "light": frozenset({"on", "off", "1", "0", "true", "false"}),
    "switch": frozenset({"on", "off", "1", "0", "true", "false"}),
    "fan": frozenset({"on", "off", "1", "0", "true", "false"}),
    "scene": frozenset({"on", "1", "true", "activate"}),
    "lock": frozenset({"lock", "unlock"}),
    "cover": frozenset({"open", "close", "stop"}),
    "valve": frozenset({"open", "close", "stop"}),
    "button": frozenset({"press"}),
}


def command_topics(found: DiscoveredEntity) -> tuple[str, ...]:
    """Every topic the router could publish to for this entity."""
    topics = (
        found.command_topic,
        found.brightness_command_topic,
        found.set_position_topic,
        found.temperature_command_topic,
    )
    return tuple(topic for topic in topics if topic)


def commandable(
    announcements: Iterable[DiscoveredEntity], *, reserved: Sequence[str]
) -> dict[str, DiscoveredEntity | str]:
    """By entity id: the announcement to command it by, or why it may not be commanded.

    `reserved` are topic filters no device command may be published on (the mesh's own
    tree, discovery, Hermes)."""
    found = list(announcements)
    ids = Counter(item.entity.id for item in found)
    claims = Counter(
        topic for item in found for topic in {*command_topics(item), item.state_topic} if topic
    )
    verdicts: dict[str, DiscoveredEntity | str] = {}
    for item in found:
        entity_id = item.entity.id
        if ids[entity_id] > 1:
            verdicts[entity_id] = f"announced by {ids[entity_id]} discovery configs; none is used"
            continue
        verdicts[entity_id] = _topic_problem(item, claims, reserved) or item
    return verdicts


def _topic_problem(
    item: DiscoveredEntity, claims: Mapping[str, int], reserved: Sequence[str]
) -> str | None:
    for topic in command_topics(item):
        if any(matches(topic, topic_filter) for topic_filter in reserved):
            return f"its command topic {topic!r} lies in the mesh's own topics"
        if claims[topic] > 1:  # each announcement counts a topic once
            return f"its command topic {topic!r} is also announced by another entity"
    return None


def payload_fits(domain: str, payload: str) -> bool:
    """Whether `payload` is one the domain's devices take: a word of the domain's own
    vocabulary, alone or as a JSON `{"state": ...}` object."""
    allowed = _PAYLOADS.get(domain)
    if allowed is None:
        return False
    word = payload.strip()
    if word.startswith("{"):
        try:
            body = json.loads(word)
        except (ValueError, RecursionError):
            return False
        if not isinstance(body, dict) or set(body) != {"state"}:
            return False
        word = str(body["state"])
    return word.casefold() in allowed
