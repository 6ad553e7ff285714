"""Which way a request turns a lock, read from its words.

A sentence encoder puts "lock the front door" and "unlock the front door" almost on top of
each other, and a lock moved the wrong way is a security problem, not a wrong light. So an
answer that would lock or unlock something must agree with the verb the person said; the
recognizer drops a label that contradicts it (and tries the next, or declines).
"""

from __future__ import annotations

import re

from slm_mesh.services.intent.result import SlotValue

_UNLOCK = re.compile(
    r"\b(?:unlock|unlocks|unlocking|unbolt|unlatch|let (?:me|us|them|him|her) in)\b"
)
_LOCK = re.compile(r"\b(?:lock|locks|locking|lock up|bolt|latch|secure)\b")
#: Home Assistant's convention: turning a lock on locks it, turning it off unlocks it.
_INTENT_LOCKS = {"HassTurnOn": True, "HassTurnOff": False}


def said_direction(text: str) -> bool | None:
    """True for "lock", False for "unlock", None when the words say neither or both."""
    words = text.casefold()
    unlock = _UNLOCK.search(words) is not None
    lock = _LOCK.search(_UNLOCK.sub(" ", words)) is not None
    if lock == unlock:
        return None
    return lock


def contradicts_words(text: str, intent: str, slots: dict[str, SlotValue]) -> bool:
    """True when `intent` would move a lock the other way from what `text` says."""
    locks = _INTENT_LOCKS.get(intent)
    if locks is None or slots.get("domain") != "lock":
        return False
    said = said_direction(text)
    return said is not None and said != locks
