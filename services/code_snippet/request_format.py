"""Which format a request wants, when it does not say: read from the words it uses
("an ESPHome config", "MicroPython on a Pico", "a bash one-liner"); a request that names
none is a Home Assistant automation, what integrators ask for most. Pure."""

from __future__ import annotations

import re

#: Tried in order: the first format whose words the request uses is the one.
_WORDS = (
    ("micropython", r"\bmicro ?python\b|\bumqtt\b|\bpico w?\b|\brp2040\b"),
    ("python", r"\bpython\b|\bpaho\b|\.py\b"),
    ("shell", r"\bshell\b|\bbash\b|\bone[- ]liner\b|\bmosquitto_(?:sub|pub)\b|\bcurl\b|"
              r"\bcommand line\b|\bterminal\b|\bcron\b"),
    ("esphome", r"\besp ?home\b|\besp32\b|\besp8266\b|\bwemos\b|\bnodemcu\b|\bsonoff\b|"
                r"\bgpio ?\d+|\bpin ?\d+"),
    ("homeassistant-automation", r"\bautomation\b|\bhome assistant\b|\bblueprint\b"),
)  # fmt: skip
DEFAULT_FORMAT = "homeassistant-automation"


def format_of(prompt: str) -> str:
    said = prompt.casefold()
    for name, words in _WORDS:
        if re.search(words, said):
            return name
    return DEFAULT_FORMAT
