"""What a validation says about a snippet. (The formats, and the language each is written
in, are the contract's: `contracts/code.py`.)"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_PROBLEMS = 20
"""Problems listed per snippet; hostile text may have thousands, and the first few say it."""


@dataclass(frozen=True)
class Validation:
    valid: bool
    problems: tuple[str, ...] = ()
    """Each a sentence naming what is wrong and where; empty when valid."""

    @classmethod
    def of(cls, problems: Iterable[str]) -> Validation:
        """Valid when there are no problems; repeats dropped, the list cut at MAX_PROBLEMS."""
        unique = list(dict.fromkeys(problems))
        if len(unique) > MAX_PROBLEMS:
            unique[MAX_PROBLEMS:] = [f"... and {len(unique) - MAX_PROBLEMS} more problems"]
        return cls(valid=not unique, problems=tuple(unique))
