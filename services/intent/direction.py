"""Which way a request moves a lock or a cover, read from its words.

A sentence encoder puts "lock the front door" and "unlock the front door" almost on top of
each other, and "open the awning" next to "close the awning". A lock moved the wrong way is
a security problem, a cover moved the wrong way can be one too (a garage door, a gate), so
an answer that would turn a lock or a cover on or off must agree with the verb the person
said; the recognizer drops a label that contradicts it (and tries the next, or declines).
"""

from __future__ import annotations

import re

from slm_mesh.services.intent.result import SlotValue

#: Per domain: the words that turn it on, and the words that turn it off. Home Assistant's
#: convention: turning a lock on locks it, turning a cover on opens it.
_WORDS = {
    "lock": (
        re.compile(r"\b(?:lock|locks|locking|lock up|bolt|latch|secure)\b"),
        re.compile(
            r"\b(?:unlock|unlocks|unlocking|unbolt|unlatch|let (?:me|us|them|him|her) in)\b"
        ),
    ),
    "cover": (
        re.compile(r"\b(?:open|opens|opening|raise|lift)\b"),
        re.compile(r"\b(?:close|closes|closing|shut|shuts|lower)\b"),
    ),
}
_INTENT_TURNS_ON = {"HassTurnOn": True, "HassTurnOff": False}


def said_direction(text: str, domain: str = "lock") -> bool | None:
    """True when the words turn `domain` on (lock, open), False when they turn it off
    (unlock, close), None when they say neither or both."""
    on_words, off_words = _WORDS[domain]
    words = text.casefold()
    off = off_words.search(words) is not None
    on = on_words.search(off_words.sub(" ", words)) is not None  # "unlock" holds "lock"
    if on == off:
        return None
    return on


def contradicts_words(text: str, intent: str, slots: dict[str, SlotValue]) -> bool:
    """True when `intent` would move a lock or a cover the other way from what `text` says."""
    turns_on = _INTENT_TURNS_ON.get(intent)
    domain = slots.get("domain")
    if turns_on is None or not isinstance(domain, str) or domain not in _WORDS:
        return False
    said = said_direction(text, domain)
    return said is not None and said != turns_on
