"""Compound commands: "turn off the kitchen lights and lock the front door" is two intents.

Pure. Splitting is proposed here and accepted by the router only when every part is
understood on its own, so "turn on the kitchen and hallway lights" stays one command.
A part without a verb ("… and the fan") borrows the first part's verb.
"""

from __future__ import annotations

import re

_SEPARATOR = re.compile(
    r"\s*(?:,\s*)?\b(?:and then|and also|and|then|also|plus)\b\s*|\s*[;,]\s*", re.IGNORECASE
)
_LEADING_VERB = re.compile(
    r"^\s*((?:please\s+)?(?:turn|switch|shut|power)\s+(?:on|off)|open|close|lock|unlock|"
    r"start|stop|pause|resume|dim|brighten|mute|unmute|raise|lower)\b",
    re.IGNORECASE,
)
_HAS_VERB = re.compile(
    r"\b(turn|switch|shut|power|set|make|open|close|lock|unlock|start|stop|pause|resume|dim|"
    r"brighten|mute|unmute|raise|lower|add|put|cancel|play|skip|is|are|what|how|tell|"
    r"broadcast|announce|kill|clean|vacuum)\b",
    re.IGNORECASE,
)
MAX_PARTS = 4


def split_command(text: str) -> list[str] | None:
    """The parts of a compound command, or None when there is nothing to split."""
    parts = [part.strip() for part in _SEPARATOR.split(text) if part and part.strip()]
    if len(parts) < 2 or len(parts) > MAX_PARTS:
        return None
    verb = _LEADING_VERB.match(parts[0])
    if verb:
        parts = [
            part if i == 0 or _HAS_VERB.search(part) else f"{verb.group(1)} {part}"
            for i, part in enumerate(parts)
        ]
    return parts
