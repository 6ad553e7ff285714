"""Whether a snippet is fit to hand out: it parses in its format and names only what the
home (and Home Assistant) has. Pure and offline (a shell snippet is read by `bash -n`, never
run); whatever the text, the answer is a `Validation`, never an exception."""

from __future__ import annotations

from collections.abc import Callable

from slm_mesh.services.code_snippet.formats import Validation
from slm_mesh.services.code_snippet.validate_automation import automation_problems
from slm_mesh.services.code_snippet.validate_code import (
    micropython_problems,
    python_problems,
    shell_problems,
)
from slm_mesh.services.code_snippet.validate_esphome import esphome_problems
from slm_mesh.services.code_snippet.validate_names import esphome_name_problems, name_problems
from slm_mesh.services.contracts.code import FORMATS
from slm_mesh.services.home.model import Home

MAX_CODE_CHARS = 20_000
"""A snippet is a page or two; longer text is refused before it is parsed."""

_CHECKS: dict[str, Callable[[str, Home], list[str]]] = {
    "homeassistant-automation": automation_problems,
    "esphome": lambda code, home: [*esphome_problems(code), *esphome_name_problems(code, home)],
    "micropython": lambda code, home: [
        *micropython_problems(code),
        *name_problems(code, home, python=True),
    ],
    "python": lambda code, home: [*python_problems(code), *name_problems(code, home, python=True)],
    "shell": lambda code, home: [*shell_problems(code), *name_problems(code, home, python=False)],
}


def validate(code: str, fmt: str, home: Home) -> Validation:
    """The snippet's problems in format `fmt` (one of `FORMATS`), each naming where."""
    check = _CHECKS.get(fmt)
    if check is None:
        return Validation.of([f"{fmt!r:.40} is not a snippet format ({', '.join(FORMATS)})"])
    if len(code) > MAX_CODE_CHARS:
        return Validation.of(
            [f"the snippet is {len(code):,} characters long; the limit is {MAX_CODE_CHARS:,}"]
        )
    if not code.strip():
        return Validation.of(["the snippet is empty"])
    return Validation.of(check(code, home))
