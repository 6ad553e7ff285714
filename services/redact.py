"""Secrets out of everything the mesh says: URLs lose their passwords before they are
logged, answered or stored.

A URL such as `http://user:password@host/v1` names a secret in its user-info part; the
fallback's error messages, the start-up log and the router's answers all used to carry it
(answers go to `slm-mesh/results`, which every client on the broker may read).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

REDACTED = "***"

# scheme://user:password@ — the password is anything up to the `@` that ends the user info.
_USERINFO = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/@:]*):(?P<secret>[^\s/@]*)@")


def redact_url(url: str) -> str:
    """`url` with its password replaced (the user name stays: it tells which login)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address goes back in brackets
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    netloc = f"{parts.username or ''}:{REDACTED}@{host}{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def scrub(text: str) -> str:
    """Every URL password in free text replaced; cheap when there is none."""
    if "@" not in text or "://" not in text:
        return text
    return _USERINFO.sub(rf"\g<head>:{REDACTED}@", text)
