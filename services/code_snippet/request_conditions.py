"""The conditions a request puts around an automation by the clock and the calendar, the
sun and who is home: "only between 11pm and 6am", "on weekdays", "except on Sundays",
"after dark", "if nobody is home", "while we're both out". Pure.
"""

from __future__ import annotations

import re
from typing import Any

from slm_mesh.services.code_snippet.request_clock import clock_times
from slm_mesh.services.code_snippet.trigger_kind import BOUND, WINDOW, schedule_window
from slm_mesh.services.home.model import Home

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_WORDS = {
    "monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu", "friday": "fri",
    "saturday": "sat", "sunday": "sun",
}  # fmt: skip
_DARK = re.compile(r"\b(after dark|after sunset|(?:when|while|if|once) it(?:'?s| is) dark|"
                   r"sun is down|sun'?s down)\b", re.IGNORECASE)  # fmt: skip
SUN_EVENTS = {"sunset": "sunset", "dusk": "sunset", "sunrise": "sunrise", "dawn": "sunrise"}
_SUN_WINDOW = re.compile(
    r"\b(?:between|from)\s+(sunset|dusk|sunrise|dawn)\s+(?:and|to|until|till)\s+"
    r"(?:\d{1,2}(?::\d{2})?\s*(?:am|pm)?|midnight)",
    re.IGNORECASE,
)
_NOBODY_HOME = re.compile(
    r"\b(nobody|no one|noone|neither .+? nor .+?) (?:is |are )?(?:at )?home\b"
    r"|\bnobody'?s home\b|\beveryone(?: is|'s)? (?:out|away)\b"
    r"|\bwe(?:'re| are) (?:both |all )?(?:out|away|not home)\b",
    re.IGNORECASE,
)


_SOMEONE_HOME = re.compile(
    r"\b(?:someone|somebody|anyone|anybody|one of us)(?:'s| is| are)? (?:at )?home\b",
    re.IGNORECASE,
)


def _mentions_people(conditions: list[Any]) -> bool:
    """Whether a condition already says who is home."""
    return "person." in str(conditions)


def asked_conditions(
    prompt: str, triggers: list[Any], present: list[Any], home: Home
) -> list[dict[str, Any]]:
    """The conditions `prompt` names of the kinds the automation has not (`present`, and
    its `triggers`): a time window or bound, the days, the sun, who is home."""
    kinds = {c.get("condition") for c in present if isinstance(c, dict)}
    trigger_kinds = {t.get("trigger", t.get("platform")) for t in triggers if isinstance(t, dict)}
    added: list[dict[str, Any]] = []
    window = _window(prompt)
    if window is not None and "time" not in kinds and not schedule_window(prompt):
        after, before = window
        added.append({"condition": "time", "after": after, "before": before})
    elif "time" not in kinds and "time" not in trigger_kinds:
        bound = BOUND.search(prompt)
        times = clock_times(bound.group(0).casefold()) if bound is not None else []
        if bound is not None and times:
            side = "after" if bound.group(1).casefold() in ("after", "from", "past") else "before"
            added.append({"condition": "time", side: times[0]})
    days = weekdays(prompt)
    if days and not any("weekday" in c for c in present if isinstance(c, dict)):
        merged = next((c for c in added if c["condition"] == "time"), None)
        if merged is not None:
            merged["weekday"] = days
        else:
            added.append({"condition": "time", "weekday": days})
    sun_window = _SUN_WINDOW.search(prompt)
    if sun_window is not None and "sun" not in kinds and "sun" not in trigger_kinds:
        # "between sunset and 11pm": after the sun event, before the time.
        event = SUN_EVENTS[sun_window.group(1).casefold()]
        times = clock_times(sun_window.group(0).casefold())
        added.append({"condition": "sun", "after": event})
        if times and "time" not in kinds:
            added.append({"condition": "time", "before": times[0]})
    elif _DARK.search(prompt) and "sun" not in kinds and "sun" not in trigger_kinds:
        added.append({"condition": "sun", "after": "sunset", "before": "sunrise"})
    people = [e.id for e in home.entities if e.domain == "person"]
    if _SOMEONE_HOME.search(prompt) and people and not _mentions_people(present):
        added.append(
            {
                "condition": "or",
                "conditions": [
                    {"condition": "state", "entity_id": p, "state": "home"} for p in people
                ],
            }
        )
    if _NOBODY_HOME.search(prompt) and not any(
        c.get("entity_id", "").startswith("person.")
        for c in present
        if isinstance(c, dict) and isinstance(c.get("entity_id"), str)
    ):
        people = [e.id for e in home.entities if e.domain == "person"]
        if people:
            added.append({"condition": "state", "entity_id": people, "state": "not_home"})
    return added


def weekdays(prompt: str) -> list[str]:
    """The days a request names: "weekdays", "weekends", "Mondays and Fridays"."""
    said = prompt.casefold()
    if re.search(r"\bweek ?days?\b|\bmonday to friday\b|\bmon-fri\b", said):
        return list(_DAYS[:5])
    if re.search(r"\bweek ?ends?\b", said):
        # "but not on weekends": the other days.
        return list(_DAYS[:5]) if _EXCEPT.search(said) else ["sat", "sun"]
    named = [short for word, short in _DAY_WORDS.items() if re.search(rf"\b{word}s?\b", said)]
    # Days written short ("on sat and sun"): "sun" and "wed" are other words too, so only
    # after "on" or "every", or two of them together.
    short = re.findall(r"\b(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)s?\b", said)
    led = re.search(r"\b(?:on|every)\s+(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)s?\b", said)
    if led is not None or len(set(short)) > 1:
        named += [day[:3] for day in short if day[:3] not in named]
    if named and _EXCEPT.search(said):
        # "except on Sundays": every other day.
        return [day for day in _DAYS if day not in named]
    return sorted(named, key=_DAYS.index)


_EXCEPT = re.compile(
    r"\b(?:except|but not|not on|apart from|other than|excluding)\s+(?:on\s+)?(?:a\s+)?"
    r"(?:mon|tue|wed|thu|fri|sat|sun|week ?end)"
)


def _window(prompt: str) -> tuple[str, str] | None:
    """The times of "between 11pm and 6am" (not of "between 5 and 10": that may be
    anything)."""
    match = WINDOW.search(prompt)
    times = clock_times(match.group(0).casefold()) if match is not None else []
    return (times[0], times[1]) if len(times) == 2 else None
