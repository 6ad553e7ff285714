"""The board a request names, put into an ESPHome snippet written for another: "NodeMCU",
"D1 mini", "ESP32-C3", "Sonoff". Pure.

The library writes each device once, mostly for an ESP32 dev board; what changes for
another board is the platform block, so a snippet answers for every board that has the
pins it uses and none of the ESP32's own components.
"""

from __future__ import annotations

import re

#: What a request calls a board -> its platform and board id (None: keep the snippet's
#: board when it is of that platform). Most specific first.
_BOARDS = (
    (re.compile(r"\bd1[ _-]?mini\b|\bwemos\b"), "esp8266", "d1_mini"),
    (re.compile(r"\bnode ?mcu\b"), "esp8266", "nodemcuv2"),
    (re.compile(r"\besp-?01\b|\bsonoff\b"), "esp8266", "esp01_1m"),
    (re.compile(r"\besp-?32-?c3\b"), "esp32", "esp32-c3-devkitm-1"),
    (re.compile(r"\besp-?32-?s3\b"), "esp32", "esp32-s3-devkitc-1"),
    (re.compile(r"\besp-?32-?s2\b"), "esp32", "esp32-s2-saola-1"),
    (re.compile(r"\besp-?8266\b"), "esp8266", None),
    (re.compile(r"\besp-?32\b"), "esp32", None),
)
_DEFAULT = {"esp8266": "d1_mini", "esp32": "esp32dev"}
_BLOCK = re.compile(r"^(esp32|esp8266):\n(?:[ \t]+[^\n]*\n)+", re.MULTILINE)
#: Components only an ESP32 has: such a snippet is no answer for an ESP8266.
_ESP32_ONLY = re.compile(r"\besp32_\w+|\bbluetooth_proxy\b|\besp32_touch\b")
_GPIO = re.compile(r"\bGPIO(\d+)\b")
#: The ESP8266's GPIOs stop at 16.
_ESP8266_PINS = 16
_ESP8266_I2C = {"sda": 4, "scl": 5}
_I2C = re.compile(r"\b(sda|scl): GPIO\d+")
#: A pin the request gives: then the snippet's pins are its, not defaults to move.
_PIN_SAID = re.compile(r"\b(?:gpio|gp|pin|d|sda|scl)\s*\d+\b(?![ _-]?mini)")


def with_board(code: str, prompt: str) -> str:
    """`code` with the platform block of the board `prompt` names (and, for an ESP8266,
    its I2C pins, when the request gives none); as it is when the request names none, the
    snippet's board is already that, or the board cannot run it (an ESP32-only component,
    a pin the ESP8266 lacks)."""
    said = prompt.casefold()
    wanted = next(((p, b) for pattern, p, b in _BOARDS if pattern.search(said)), None)
    block = _BLOCK.search(code)
    if wanted is None or block is None:
        return code
    platform, board = wanted
    if platform == block.group(1) and board is None:
        return code
    if platform == "esp8266" and block.group(1) == "esp32":
        if not _PIN_SAID.search(said):
            # The ESP32's I2C pins as the ESP8266 boards have them (D2 and D1).
            code = _I2C.sub(lambda m: f"{m.group(1)}: GPIO{_ESP8266_I2C[m.group(1)]}", code)
            block = _BLOCK.search(code) or block
        pins = [int(pin) for pin in _GPIO.findall(code)]
        if _ESP32_ONLY.search(code) or any(pin > _ESP8266_PINS for pin in pins):
            return code
    lines = [f"{platform}:\n", f"  board: {board or _DEFAULT[platform]}\n"]
    if platform == block.group(1):
        # Keep what else the block says (a framework), less its board.
        lines += [line + "\n" for line in block.group(0).splitlines()[1:] if "board:" not in line]
    return code[: block.start()] + "".join(lines) + code[block.end() :]
