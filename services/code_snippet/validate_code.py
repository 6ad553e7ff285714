"""Python, MicroPython and shell snippets checked without running them: Python is compiled
(never executed); MicroPython imports only modules MicroPython has; shell passes `bash -n`
(read, not run)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess

BASH_TIMEOUT_S = 5.0

MICROPYTHON_MODULES = frozenset({
    # Built in (the `u` names are the older spellings, still on many boards).
    "array", "asyncio", "binascii", "bluetooth", "btree", "builtins", "cmath", "collections",
    "cryptolib", "deflate", "dht", "errno", "esp", "esp32", "espnow", "framebuf", "gc",
    "hashlib", "heapq", "io", "json", "machine", "math", "micropython", "neopixel",
    "network", "ntptime", "onewire", "ds18x20", "os", "platform", "random", "re", "rp2",
    "select", "socket", "ssl", "struct", "sys", "time", "tls", "uctypes", "vfs", "webrepl",
    "_thread", "uarray", "uasyncio", "ubinascii", "ubluetooth", "ucollections", "ucryptolib",
    "uerrno", "uhashlib", "uheapq", "uio", "ujson", "umachine", "uos", "urandom", "ure",
    "uselect", "usocket", "ussl", "ustruct", "usys", "utime", "uzlib", "zlib", "pyb", "mip",
    # micropython-lib, installed with mip.
    "umqtt.simple", "umqtt.robust", "urequests", "requests", "aioble", "base64", "datetime",
    "functools", "hmac", "itertools", "logging", "ssd1306", "sdcard", "typing", "abc",
    "contextlib", "copy", "operator", "string", "types", "__future__",
    # Sensor and display drivers people copy onto the board (one file each).
    "bme280", "bmp280", "bme680", "bh1750", "sht30", "sht31", "ahtx0", "aht10", "hcsr04",
    "mpu6050", "ina219", "max7219", "sh1106", "vl53l0x", "hx711", "ds1307", "scd30",
})  # fmt: skip
"""Modules a MicroPython board has or gets from micropython-lib, and the common one-file
drivers copied onto it; `umqtt` only as its `simple` and `robust` clients."""


def python_problems(code: str) -> list[str]:
    problems, _ = _compiled(code)
    return problems


def micropython_problems(code: str) -> list[str]:
    problems, tree = _compiled(code)
    if tree is None:
        return problems
    return [f"line {line}: {why}" for line, why in _imports(tree)]


def shell_problems(code: str) -> list[str]:
    bash = shutil.which("bash")
    if bash is None:
        return ["bash is not installed here, so the shell snippet could not be checked"]
    # No startup files and no BASH_ENV: `bash -n` must read the snippet and nothing else.
    env = {"PATH": os.environ.get("PATH", os.defpath), "LC_ALL": "C"}
    try:
        done = subprocess.run(
            [bash, "--norc", "--noprofile", "-n"],
            input=code.encode("utf-8", "replace"),
            capture_output=True,
            timeout=BASH_TIMEOUT_S,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return [f"bash -n did not finish within {BASH_TIMEOUT_S:g} s"]
    except OSError as err:
        return [f"bash could not be run ({err.strerror})"]
    errors = done.stderr.decode("utf-8", "replace").splitlines()
    problems = [line.removeprefix(f"{bash}: ").removeprefix("bash: ") for line in errors]
    if done.returncode != 0 and not problems:
        problems = [f"bash -n failed (exit status {done.returncode})"]
    return [problem for problem in problems if problem.strip()]


def _compiled(code: str) -> tuple[list[str], ast.Module | None]:
    """The snippet's syntax tree, once the compiler took it; else why not, with the line."""
    try:
        tree = ast.parse(code, "<snippet>")
        compile(tree, "<snippet>", "exec", dont_inherit=True)
    except SyntaxError as err:
        line = f"line {err.lineno}: " if err.lineno else ""
        return [f"{line}{err.msg}"], None
    except (ValueError, RecursionError, MemoryError, OverflowError) as err:
        # NUL bytes (ValueError); nesting past what the compiler's stack takes.
        return [f"Python cannot compile the snippet ({type(err).__name__}: {err})"], None
    return [], tree


def _imports(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, problem) for each import MicroPython cannot satisfy."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            missing = [alias.name for alias in node.names if not _has(alias.name)]
        elif isinstance(node, ast.ImportFrom) and node.level:
            found.append((node.lineno, "a snippet is one file: it cannot import relatively"))
            continue
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            # `from umqtt import simple` imports the module umqtt.simple.
            submodules = all(
                f"{module}.{alias.name}" in MICROPYTHON_MODULES for alias in node.names
            )
            missing = [] if _has(module) or submodules else [module]
        else:
            continue
        found += [(node.lineno, f"MicroPython has no module `{name}`") for name in missing]
    return sorted(found)


def _has(module: str) -> bool:
    return module in MICROPYTHON_MODULES or module.split(".")[0] in MICROPYTHON_MODULES
