"""Times of day as a request says them, read as `HH:MM:SS`: "7am", "22:30", "midnight",
"half past six", "half eleven", "quarter to 7", "at 9 on Saturdays", "11:30 every night".
Pure."""

from __future__ import annotations

import re

_DAY_PART = r"morning|evening|night|afternoon|tonight"
#: A time of day as written once `as_clock` has put it in digits.
CLOCK_TIME = re.compile(
    rf"\b(?P<part1>{_DAY_PART})s?\s+at\s+(?P<hp1>\d{{1,2}})(?::(?P<mp1>\d{{2}}))?(?![\d:])"
    r"(?!\s*(?:am|pm|a\.m|p\.m))|"
    rf"\bat\s+(?P<hp2>\d{{1,2}})(?::(?P<mp2>\d{{2}}))?\s+(?:o'?clock\s+)?(?:in the\s+|at\s+)?"
    rf"(?P<part2>{_DAY_PART})\b|"
    r"\b(?:(?P<h24>\d{1,2}):(?P<m24>\d{2})(?:\s*(?P<half24>am|pm))?|"
    r"(?P<h12>\d{1,2})\s*(?P<half12>am|pm|a\.m|p\.m))\b|\b(?P<word>midnight|noon|midday)\b"
)


_HOUR_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
#: How many minutes past the hour: "half", "quarter", "ten", "10".
_MINUTES_PAST: dict[str, int] = {
    "half": 30, "quarter": 15, "five": 5, "ten": 10, "twenty": 20, "twenty-five": 25,
    **{str(n): n for n in range(60)},
}  # fmt: skip
_HOUR = rf"(\d{{1,2}}|{'|'.join(_HOUR_WORDS)})"
_PAST = re.compile(
    rf"\b(half|quarter|\d{{1,2}}|five|ten|twenty|twenty-five)\s+(?:minutes\s+)?past\s+{_HOUR}\b"
)
_TO = re.compile(rf"\bquarter\s+to\s+{_HOUR}\b")
_DOTTED = re.compile(r"\b(\d{1,2})\.(\d{2})\s*(am|pm|a\.m|p\.m)")
_OCLOCK = re.compile(rf"\b{_HOUR}\s+o'?clock\b")
#: "half eleven": half past, as it is said in Britain.
_HALF = re.compile(rf"\bhalf\s+{_HOUR}\b(?!\s*(?:%|percent|minutes?|mins?|hours?|seconds?))")
#: "11:30 every night", "7:15 in the evening": a time before the part of the day it is in.
_PART_AFTER = re.compile(
    r"\b(\d{1,2}):(\d{2})(?!\s*(?:am|pm))(?=\s+(?:every|each|at|in the|this|on)\s+(night|evening))"
)
#: "at 9" as a time: followed by nothing that makes it a count ("at 9 on weekends"); an
#: hour of the clock's face ("heat at 21," is a temperature).
_BARE_AT = re.compile(
    r"\bat\s+(1[0-2]|[1-9])(?=\s*(?:$|[,;!?]|\.(?!\d)|->|→|\b(?:on|every|each|daily|and|but|if|"
    r"when|then|sharp|unless|except|only|weekdays?|weekends?)\b))"
)


def _hour(word: str) -> int:
    return _HOUR_WORDS[word] if word in _HOUR_WORDS else int(word)


def _in_part(match: re.Match[str]) -> str:
    """A time before "every night" as a time of that night: "11:30" 23:30, "2:00" 2:00."""
    hour = int(match.group(1))
    late = match.group(3) == "evening" or hour >= 6
    return f"{match.group(1)}:{match.group(2)}{'pm' if late and hour < 12 else ''}"


def as_clock(said: str) -> str:
    """Times said another way, as digits the clock reads: "half past eleven" and "half
    eleven" (11:30), "quarter to 7" (6:45), "7.30am", "9 o'clock", "at 9 on Saturdays",
    "11:30 every night" (23:30)."""
    said = _DOTTED.sub(r"\1:\2\3", said)
    said = _PAST.sub(lambda m: f"{_hour(m.group(2))}:{_MINUTES_PAST[m.group(1)]:02d}", said)
    said = _HALF.sub(lambda m: f"{_hour(m.group(1))}:30", said)
    said = _TO.sub(lambda m: f"{(_hour(m.group(1)) - 1) % 12 or 12}:45", said)
    said = _PART_AFTER.sub(_in_part, said)
    said = _OCLOCK.sub(lambda m: f"{_hour(m.group(1))}:00", said)
    return _BARE_AT.sub(lambda m: f"at {m.group(1)}:00", said)


def clock_times(said: str) -> list[str]:
    """The times of day a request names, in order: `7am`, `7:30 pm`, `22:30`,
    `midnight`, "every evening at 9", "half past six" -> HH:MM:SS."""
    found = []
    for match in CLOCK_TIME.finditer(as_clock(said)):
        if match.group("word"):
            found.append("00:00:00" if match.group("word") == "midnight" else "12:00:00")
            continue
        part = match.group("part1") or match.group("part2")
        hour = int(
            match.group("h24") or match.group("h12") or match.group("hp1") or match.group("hp2")
        )
        minute = int(match.group("m24") or match.group("mp1") or match.group("mp2") or 0)
        half = match.group("half24") or match.group("half12")
        if part is not None:
            half = "am" if part == "morning" or (part == "night" and hour < 6) else "pm"
        if half and half.startswith("p") and hour < 12:
            hour += 12
        if half and half.startswith("a") and hour == 12:
            hour = 0
        if hour < 24 and minute < 60:
            found.append(f"{hour:02d}:{minute:02d}:00")
    return found
