"""What a request asks of one ESPHome node beyond the snippet written for its first device:
the other devices it puts on it ("a DS18B20 on GPIO4 and a relay on GPIO23"): each pin the
request gives that the snippet does not use becomes a GPIO switch (relay, LED, buzzer) or a
GPIO binary sensor (button, PIR, reed contact), by the word next to it; a change its
sensors report only on ("only send when the temperature changes by 0.5"), as a `delta`
filter; and two of its relays that must never be on together, as an `interlock`. Pure.

The library writes one device per snippet; what a board carries is any mix of them, and the
simple ones are a few lines each.
"""

from __future__ import annotations

import re

from slm_mesh.services.code_snippet.request_pins import pin_mentions

#: What a pin drives, by the word next to it.
_OUTPUTS = re.compile(
    r"\b(relays?|leds?|buzzers?|sirens?|pumps?|valves?|solenoids?|heaters?|lamps?|lights?|"
    r"outputs?|mosfets?|plugs?)\b"
)
#: What a pin reads, by the word next to it, and its device class.
_INPUTS = (
    (re.compile(r"\b(pir|motion)\b"), "motion"),
    (re.compile(r"\b(reed|door|contact|window)\b"), "door"),
    (re.compile(r"\b(leak|flood|rain)\b"), "moisture"),
    (re.compile(r"\b(float|level switch)\b"), None),
    (re.compile(r"\b(buttons?|push ?buttons?|switch input|inputs?)\b"), None),
)
_SECTION = re.compile(r"^(switch|binary_sensor):\n", re.MULTILINE)
_TOP_KEY = re.compile(r"^\S[^\n]*:\s*$", re.MULTILINE)


def with_extras(code: str, prompt: str) -> str:
    """`code` with a GPIO switch or binary sensor for each pin the request names that the
    code does not use and whose words say what is on it, and the change its sensors report
    on; as it is when the request asks neither."""
    return _with_interlock(_with_delta(_with_devices(code, prompt), prompt), prompt)


def _with_devices(code: str, prompt: str) -> str:
    used = {int(p) for p in re.findall(r"\bGPIO(\d+)\b", code)}
    for pin, words in pin_mentions(prompt):
        if pin in used:
            continue
        item = _item(pin, words)
        if item is None:
            continue
        section, lines = item
        code = _append(code, section, lines)
        used.add(pin)
    return code


def _item(pin: int, words: str) -> tuple[str, list[str]] | None:
    """What is on the pin, by the word nearest to it (`@` in `words`): a GPIO switch or a
    GPIO binary sensor; None when no word says."""
    at = words.index("@") if "@" in words else len(words)
    found: list[tuple[re.Match[str], str | None, bool]]
    found = [(m, None, True) for m in _OUTPUTS.finditer(words)]
    found += [(m, cls, False) for pattern, cls in _INPUTS for m in pattern.finditer(words)]
    if not found:
        return None
    nearest, device_class, output = min(
        found, key=lambda f: at - f[0].end() if f[0].end() <= at else f[0].start() - at
    )
    name = nearest.group(1).rstrip("s").capitalize()
    if output:
        return "switch", [
            "  - platform: gpio",
            f"    pin: GPIO{pin}",
            f'    name: "{name} GPIO{pin}"',
            f"    id: {name.casefold().replace(' ', '_')}_{pin}",
        ]
    lines = [
        "  - platform: gpio",
        "    pin:",
        f"      number: GPIO{pin}",
        "      mode: INPUT" if device_class == "motion" else "      mode: INPUT_PULLUP",
        *([] if device_class == "motion" else ["      inverted: true"]),
        f'    name: "{name} GPIO{pin}"',
    ]
    if device_class is not None:
        lines.append(f"    device_class: {device_class}")
    return "binary_sensor", lines


def _append(code: str, section: str, lines: list[str]) -> str:
    """`lines` at the end of the top-level `section`, or in a new one at the end."""
    text = "\n".join(lines) + "\n"
    found = next((m for m in _SECTION.finditer(code) if m.group(1) == section), None)
    if found is None:
        return code.rstrip("\n") + f"\n\n{section}:\n" + text
    after = _TOP_KEY.search(code, found.end())
    end = after.start() if after is not None else len(code)
    body = code[found.end() : end].rstrip("\n") + "\n"
    return code[: found.end()] + body + text + ("\n" + code[end:] if after is not None else "")


#: A change a sensor reports only on: "changes by 0.5", "on a 0.2 change", "delta of 1".
_DELTA = re.compile(
    r"\b(?:chang(?:es|e|ed)\s+(?:by|of)(?:\s+(?:more than|at least))?|(?:delta|difference)"
    r"(?:\s+of)?|moves?\s+by)\s+(\d+(?:\.\d+)?)|\b(\d+(?:\.\d+)?)\s*(?:°\s*c?|%|degrees?)?"
    r"\s+(?:change|delta|difference)\b",
    re.IGNORECASE,
)
_QUANTITIES = ("temperature", "humidity", "pressure", "moisture", "distance", "illuminance")


def _with_delta(code: str, prompt: str) -> str:
    """A `delta` filter on each sensor of the `sensor:` section (on those of the quantity
    the request names, when it names one the code has), so it reports only on that much
    change; `code` as it is when the request asks no such thing."""
    found = _DELTA.search(prompt)
    if found is None:
        return code
    delta = found.group(1) or found.group(2)
    lines = code.split("\n")
    section = next((i for i, line in enumerate(lines) if line == "sensor:"), None)
    if section is None:
        return code
    end = next(
        (i for i in range(section + 1, len(lines)) if lines[i] and not lines[i][0].isspace()),
        len(lines),
    )
    names = [i for i in range(section + 1, end) if lines[i].lstrip().startswith("name:")]
    said = [q for q in _QUANTITIES if q in prompt.casefold()]
    picked = [i for i in names if any(q in _block_text(lines, i, end).casefold() for q in said)]
    for at in reversed(picked or names):
        lines = _add_filter(lines, at, end, f"- delta: {delta}")
    return "\n".join(lines)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _block(lines: list[str], at: int, end: int) -> tuple[int, int]:
    """The lines of the mapping that `lines[at]` (a key) is in: from after the last line
    less indented before it, to before the next one after it."""
    depth = _indent(lines[at])
    start = at
    while start - 1 > 0 and (not lines[start - 1].strip() or _indent(lines[start - 1]) >= depth):
        start -= 1
    if lines[start - 1].lstrip().startswith("- ") and _indent(lines[start - 1]) + 2 == depth:
        start -= 1  # "- platform: adc" starts the same mapping
    stop = at + 1
    while stop < end and (not lines[stop].strip() or _indent(lines[stop]) >= depth):
        stop += 1
    return start, stop


def _block_text(lines: list[str], at: int, end: int) -> str:
    """What says which quantity a sensor is: its name, and the key it is under
    ("temperature:" of a DHT)."""
    start, _ = _block(lines, at, end)
    return f"{lines[start - 1]} {lines[at]}"


def _add_filter(lines: list[str], at: int, end: int, item: str) -> list[str]:
    """`item` in the `filters:` list of the mapping whose `name:` is `lines[at]`, which
    gets one when it has none."""
    depth = _indent(lines[at])
    start, stop = _block(lines, at, end)
    filters = next(
        (
            i
            for i in range(start, stop)
            if _indent(lines[i]) == depth and lines[i].strip() == "filters:"
        ),
        None,
    )
    if filters is not None:
        # Last: a delta is of the value as reported, after any calibration.
        last = filters + 1
        while last < stop and (not lines[last].strip() or _indent(lines[last]) > depth):
            last += 1
        while not lines[last - 1].strip():
            last -= 1
        return [*lines[:last], " " * (depth + 2) + item, *lines[last:]]
    added = [" " * depth + "filters:", " " * (depth + 2) + item]
    return [*lines[: at + 1], *added, *lines[at + 1 :]]


_INTERLOCK = re.compile(r"\binterlock|\bnever (?:both )?on (?:together|at the same time)|"
                        r"\bnot both on\b|\bnever both on\b", re.IGNORECASE)  # fmt: skip
_PAIR = re.compile(
    r"\b(?:relays?|channels?|outputs?)\s*(\d)\s*(?:and|&|\+|/)\s*(?:relay\s*)?(\d)\b"
)
_SWITCH_ID = re.compile(r"^(    )id: (\w+)$", re.MULTILINE)


def _with_interlock(code: str, prompt: str) -> str:
    """The two relays the request says must never be on together ("relays 1 and 2", else
    the first two) interlocked, when the code's switches are not already."""
    if not _INTERLOCK.search(prompt) or "interlock:" in code:
        return code
    section = re.search(r"^switch:\n((?:[ \t]+[^\n]*\n|\n)+)", code, re.MULTILINE)
    if section is None:
        return code
    ids = [m.group(2) for m in _SWITCH_ID.finditer(section.group(1))]
    pair = _PAIR.search(prompt.casefold())
    chosen = (int(pair.group(1)) - 1, int(pair.group(2)) - 1) if pair else (0, 1)
    if len(ids) < 2 or max(chosen) >= len(ids) or chosen[0] == chosen[1]:
        return code
    first, second = ids[chosen[0]], ids[chosen[1]]
    body = section.group(1)
    for mine, other in ((first, second), (second, first)):
        body = body.replace(
            f"    id: {mine}\n",
            f"    id: {mine}\n    interlock: [{other}]\n    interlock_wait_time: 200ms\n",
            1,
        )
    return code[: section.start(1)] + body + code[section.end(1) :]
