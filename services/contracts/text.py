"""What every service accepts as text: the one rule set, so a text refused by one face or
one service is refused by all, with the same words."""

from __future__ import annotations

import unicodedata

from slm_mesh.services.errors import InvalidRequestError

CANNOT_HELP = "Sorry, I can't help with that here."
"""What the mesh says when no tier, local or remote, can answer."""

#: Line breaks and tabs belong in text; other control characters never do.
_ALLOWED_CONTROLS = frozenset("\t\n\r")


def check_text(text: str, *, max_chars: int, field: str = "text") -> None:
    """Refuse an empty, invisible, over-long or binary text, saying which."""
    if not text.strip():
        raise InvalidRequestError(f"{field} is empty", field=field)
    if len(text) > max_chars:
        raise InvalidRequestError(
            f"{field} is {len(text)} characters; the limit is {max_chars}", field=field
        )
    bad = next(
        (c for c in text if unicodedata.category(c) == "Cc" and c not in _ALLOWED_CONTROLS), None
    )
    if bad is not None:
        raise InvalidRequestError(
            f"{field} contains control character U+{ord(bad):04X}", field=field
        )
    if "\ufffd" in text or any(unicodedata.category(c) == "Cs" for c in text):
        raise InvalidRequestError(f"{field} is not valid UTF-8", field=field)
    # Zero-width and other format characters show nothing and say nothing: a text of only
    # them is as empty as one of spaces.
    if all(c.isspace() or unicodedata.category(c) == "Cf" for c in text):
        raise InvalidRequestError(f"{field} has no visible characters", field=field)
