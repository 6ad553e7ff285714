"""The pins a request gives a device: `GPIO4`, `GP22`, `pin 4`, `D2` (a D1 mini's label,
as its GPIO number), each for the parameter whose name or device is beside it ("relay on
GPIO26, button on GPIO25", "GPIO16 (dout)", "a DHT22 on GPIO4"). Pure."""

from __future__ import annotations

import re

from slm_mesh.services.code_snippet.library import Param

_D_PINS = {0: 16, 1: 5, 2: 4, 3: 0, 4: 2, 5: 14, 6: 12, 7: 13, 8: 15}
"""NodeMCU / Wemos D1 labels -> ESP8266 GPIO numbers."""
PIN = re.compile(r"\b(?:gpio|gp|pin)\s*(\d{1,2})\b|\bd(\d)\b(?!\s*mini)")


def _pin_named(param: Param, said: str, written: str = "") -> int | None:
    """The pin the request gives next to the parameter's own name ("relay on GPIO26,
    button on GPIO25", "GPIO16 (dout)"), in the same clause; `written` is the request as
    written (`said` has lost its brackets)."""
    words = [w for w in param.name.split("_") if w not in ("pin", "gpio")]
    if not words:
        return None
    name = r"\s*".join(re.escape(w) for w in words)
    # A bare number just after the name: "sda 21, scl 22".
    bare = re.search(rf"\b{name}s?\s*(?:=|:|on|at|to)?\s*(\d{{1,2}})\b", said)
    if bare is not None:
        return int(bare.group(1))
    # The name in brackets after its pin, as written: "GPIO16 (dout) and GPIO17 (clk)".
    match = re.search(rf"({PIN.pattern})\s*[(\[]\s*{name}s?\s*[)\]]", written.casefold())
    match = match or re.search(rf"\b{name}s?\b[^,;.]*?({PIN.pattern})", said)
    if match is None:
        return None
    found = pins(match.group(1))
    return found[0] if found else None


#: Devices a pin is given beside ("a relay on GPIO26"), each said by its own word.
_PIN_DEVICES = frozenset({
    "relay", "led", "button", "pir", "reed", "buzzer", "strip", "servo", "fan", "pump",
    "motion", "contact", "switch", "mosfet", "siren", "valve",
})  # fmt: skip


def _pin_described(param: Param, said: str) -> int | None:
    """Of several pins, the one beside the device the parameter's description names ("the
    GPIO the relay's input is on": a relay's), else the only one beside no device word ("a
    relay on GPIO26 and a DHT22 on GPIO4": 4, for a sensor's data pin); None when the
    request gives one pin or neither tells."""
    found = pin_mentions(said)
    if len({pin for pin, _ in found}) < 2:
        return None
    described = set(re.findall(r"[a-z]+", param.description.casefold())) & _PIN_DEVICES

    def near(context: str) -> set[str]:
        return {w.rstrip("s") for w in re.findall(r"[a-z]+", context)} & _PIN_DEVICES

    own = {pin for pin, context in found if described & near(context)}
    if not described:
        own = {pin for pin, context in found if not near(context)}
    return own.pop() if len(own) == 1 else None


def pins(said: str) -> list[int]:
    """The pins a request names, in order: `GPIO4`, `GP22`, `pin 4`, `D2` (a D1 mini's
    label, as its GPIO number)."""
    found = []
    for match in PIN.finditer(said):
        if match.group(1) is not None:
            found.append(int(match.group(1)))
            # "GPIO16, 17, 18 and 19": the numbers that run on from a GPIO are GPIOs too.
            more = _PIN_RUN.match(said, match.end())
            run = [int(n) for n in re.findall(r"\d+", more.group(0))] if more else []
            # One number and a plural ("GPIO4 and 2 relays") is a count, not a pin.
            if more is not None and len(run) == 1 and _COUNTED.match(said, more.end()):
                run = []
            found += run
        elif (gpio := _D_PINS.get(int(match.group(2)))) is not None:
            found.append(gpio)
    return found


_PIN_RUN = re.compile(
    r"(?:\s*(?:,|/|&|\band\b)?\s*(?:[1-3]?\d)\b(?!\s*(?:%|°|s\b|secs?\b|seconds?\b|ms\b|"
    r"min|v\b|volts?\b|degrees?\b|leds?\b|pixels?\b|[.:]\d)))+"
)
_COUNTED = re.compile(r"\s+[a-z]+s\b")


def pin_mentions(prompt: str) -> list[tuple[int, str]]:
    """Each pin the request gives, with the words just before it and after it in its clause,
    `@` where the pin is ("a relay on GPIO23 for the pump": 23, "a relay on @ for the
    pump")."""
    said = prompt.casefold()
    found = []
    for match in PIN.finditer(said):
        given = pins(match.group(0))
        if not given:
            continue
        start = max(said.rfind(sep, 0, match.start()) for sep in (",", ";", " and ", "+", "."))
        before = said[max(start + 1, match.start() - 40) : match.start()]
        after = re.split(r"[,;+.]| and ", said[match.end() : match.end() + 30])[0]
        found.append((given[0], f"{before} @ {after}"))
    return found


def read_pin(param: Param, said: str, written: str, order: int) -> int | None:
    """The pin for `param` (the `order`-th pin parameter of its snippet): the one beside its
    name, else beside its device, else the `order`-th the request gives; None when none."""
    named = _pin_named(param, said, written)
    if named is None and param.name == "pin":
        named = _pin_described(param, said)
    if named is not None:
        return named
    found = pins(said)
    return found[order] if order < len(found) else None
