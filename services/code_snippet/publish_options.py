"""What a request asks of an MQTT publish beyond its topic and payload: that the broker
retain it ("publish a retained ON to ..."). Pure.

The library's publishing commands send a plain message; a retained one is a flag away, and
a request that asks for it means it (a late subscriber must see the last state).
"""

from __future__ import annotations

import re

_RETAINED = re.compile(r"\bretain(?:ed|s)?\b", re.IGNORECASE)
_MOSQUITTO_PUB = re.compile(r"\bmosquitto_pub\b(?![^\n]*\s-r\b)")


def with_retain(code: str, prompt: str) -> str:
    """`code` with each `mosquitto_pub` retained (`-r`) when the request asks for it; as it
    is otherwise."""
    if not _RETAINED.search(prompt):
        return code
    return _MOSQUITTO_PUB.sub("mosquitto_pub -r", code)
