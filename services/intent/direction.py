"""Which way a request moves a lock, a cover or a script, read from its words.

A sentence encoder puts "lock the front door" and "unlock the front door" almost on top of
each other, and "open the awning" next to "close the awning". A lock moved the wrong way is
a security problem, a cover moved the wrong way can be one too (a garage door, a gate), so
when the recognizer's answer turns a lock, a cover or a script on or off, the verb the
person said decides which of the two it is ("kick off my routine" runs it).
"""

from __future__ import annotations

import re

from slm_mesh.services.contracts.intent import SlotValue

#: Per domain: the words that turn it on, and the words that turn it off. Home Assistant's
#: convention: turning a lock on locks it, a cover on opens it, a script on runs it.
_WORDS = {
    "lock": (
        re.compile(r"\b(?:lock|locks|locking|lock up|bolt|latch|secure)\b"),
        re.compile(
            r"\b(?:unlock|unlocks|unlocking|unbolt|unlatch|let (?:me|us|them|him|her) in)\b"
        ),
    ),
    "cover": (
        re.compile(r"\b(?:open|opens|opening|raise|lift|extend|extends|roll (?:it |them )?out)\b"),
        re.compile(
            r"\b(?:close|closes|closing|shut|shuts|lower|retract|retracts|roll (?:it |them )?in"
            r"|bring(?: \w+){0,3} in)\b"
        ),
    ),
    "script": (
        re.compile(r"\b(?:start|starts|run|runs|launch|trigger|kick off|fire up|begin)\b"),
        re.compile(r"\b(?:stop|stops|cancel|abort|halt|kill)\b"),
    ),
}
_TURN_INTENTS = {True: "HassTurnOn", False: "HassTurnOff"}
TURN_INTENTS = frozenset(_TURN_INTENTS.values())
#: Domains whose words name a way only that kind of device moves ("start" and "stop" say
#: too little on their own to make a sentence a turn of something).
_UNMISTAKABLE = ("lock", "cover")


def said_direction(text: str, domain: str) -> bool | None:
    """True when the words turn `domain` on (lock, open), False when they turn it off
    (unlock, close), None when they say neither or both."""
    on_words, off_words = _WORDS[domain]
    words = text.casefold()
    off = off_words.search(words) is not None
    on = on_words.search(off_words.sub(" ", words)) is not None  # "unlock" holds "lock"
    if on == off:
        return None
    return on


def says_which_way(text: str) -> bool:
    """True when the words alone say a lock or a cover is to be turned one way."""
    return any(said_direction(text, domain) is not None for domain in _UNMISTAKABLE)


def intent_the_words_say(text: str, intent: str, slots: dict[str, SlotValue]) -> str:
    """`intent`, or its opposite when it turns a lock, cover or script the other way from what
    `text` says ("open the awning" answered with HassTurnOff becomes HassTurnOn)."""
    domain = slots.get("domain")
    if intent not in _TURN_INTENTS.values() or not isinstance(domain, str) or domain not in _WORDS:
        return intent
    said = said_direction(text, domain)
    return intent if said is None else _TURN_INTENTS[said]
