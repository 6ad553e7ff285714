"""Who may do what on the embedded broker: one login per role, and the topics each role
may read and write (pure, but for the logins file).

    router        reads and writes everything: it alone publishes device commands, on
                  whatever topics the devices announced
    device        publishes events (<prefix>/event/#, <prefix>/ask, hermes/nlu/query);
                  reads only its own reply topic (<prefix>/reply/<its client id>) and Hermes
    <service>     one login per service (intent, sentiment, ...): reads its requests and
                  Home Assistant discovery; publishes its status and results only under
                  its own name, and replies under <prefix>/reply/#

The passwords are made on first start and kept in `<cache dir>/broker/logins.json`
(0600); the broker gets hashes (Mosquitto's PBKDF2-SHA512 `$7$` lines, amqtt's Argon2).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from slm_mesh.services.errors import SlmMeshError

ROUTER = "router"
DEVICE = "device"
BRIDGE = "bridge"
"""The firmware bridge: events for the devices it carries, their status, buttons and
sensors; the commands sent to them."""
_MOSQUITTO_ITERATIONS = 101  # what mosquitto_passwd writes


class LoginsError(SlmMeshError):
    """The logins file cannot be read or written; the message says which and why."""

    code = "misconfigured"


@dataclass(frozen=True)
class Login:
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Grant:
    """Topic filters a role may read (subscribe to) and write (publish to)."""

    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()


def role_grants(*, prefix: str, discovery_prefix: str, services: Iterable[str]) -> dict[str, Grant]:
    """Each role's rights; `%c` stands for the client's own id (Mosquitto's pattern)."""
    grants = {
        ROUTER: Grant(read=("#",), write=("#",)),
        DEVICE: Grant(
            read=(f"{prefix}/reply/%c", f"{prefix}/reply/%c/#", "hermes/#"),
            write=(f"{prefix}/event/#", f"{prefix}/ask", "hermes/nlu/query"),
        ),
        BRIDGE: Grant(
            read=(f"{prefix}/reply/%c", f"{prefix}/reply/%c/#", f"{prefix}/device/+/command/+"),
            write=(f"{prefix}/event/#", f"{prefix}/device/#", f"{prefix}/status/bridge/#"),
        ),
    }
    for service in services:
        grants[service] = Grant(
            read=(f"{prefix}/service/{service}/request", f"{discovery_prefix}/#"),
            write=(
                f"{prefix}/status/{service}/#",
                f"{prefix}/service/{service}/results",
                f"{prefix}/reply/#",
            ),
        )
    return grants


class BrokerLogins:
    """One login per role, by role name (the role is also the user name)."""

    def __init__(self, logins: dict[str, Login], *, path: Path | None = None) -> None:
        self._logins = logins
        self.path = path
        """Where they are kept, to tell users where to find a device's password."""

    @classmethod
    def load(cls, path: Path) -> BrokerLogins:
        """The logins kept in `path`."""
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise LoginsError(f"cannot read the broker logins {path}: {err}") from None
        if not isinstance(stored, dict) or not all(isinstance(v, str) for v in stored.values()):
            raise LoginsError(f"{path}: expected an object of role -> password")
        return cls({role: Login(role, password) for role, password in stored.items()}, path=path)

    @classmethod
    def load_or_create(cls, path: Path, roles: Sequence[str]) -> BrokerLogins:
        """The logins kept in `path`, with any role that has none yet added (0600)."""
        known = cls.load(path) if path.exists() else cls({})
        stored = {login.username: login.password for login in known}
        missing = [role for role in roles if role not in stored]
        if missing:
            stored.update({role: secrets.token_urlsafe(24) for role in missing})
            _write_private(path, json.dumps(stored, indent=2) + "\n")
        return cls({role: Login(role, password) for role, password in stored.items()}, path=path)

    def role(self, name: str) -> Login:
        try:
            return self._logins[name]
        except KeyError:
            raise LoginsError(f"no broker login for the role {name!r}") from None

    def __iter__(self) -> Iterator[Login]:
        return iter(self._logins.values())


@dataclass(frozen=True)
class BrokerAccess:
    """What the embedded broker enforces: who logs in, and what each may touch."""

    logins: BrokerLogins
    grants: dict[str, Grant]


def mosquitto_password_file(logins: Iterable[Login]) -> str:
    """`mosquitto_passwd` lines: PBKDF2-SHA512 with a 12-byte salt (`$7$`)."""
    lines = []
    for login in logins:
        salt = secrets.token_bytes(12)
        digest = hashlib.pbkdf2_hmac("sha512", login.password.encode(), salt, _MOSQUITTO_ITERATIONS)
        encoded = f"{base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
        lines.append(f"{login.username}:$7${_MOSQUITTO_ITERATIONS}${encoded}")
    return "\n".join(lines) + "\n"


def mosquitto_acl(grants: dict[str, Grant]) -> str:
    """Mosquitto's acl_file: a block per user; `%c` rules become `pattern` lines."""
    lines = []
    patterns = []
    for user, grant in grants.items():
        lines.append(f"user {user}")
        for access, filters in (("read", grant.read), ("write", grant.write)):
            for topic_filter in filters:
                if "%c" in topic_filter:
                    patterns.append(f"pattern {access} {topic_filter}")
                else:
                    lines.append(f"topic {access} {topic_filter}")
        lines.append("")
    # Patterns apply to every user; each names only the client's own reply topics.
    return "\n".join([*lines, *dict.fromkeys(patterns), ""])


def amqtt_acls(grants: dict[str, Grant]) -> dict[str, dict[str, list[str]]]:
    """amqtt's topic-check plugin settings: `publish_acl`, and `acl` for subscriptions.
    amqtt has no per-client patterns, so `%c` widens to `+`: there a device may read
    other devices' replies."""

    def widen(filters: tuple[str, ...]) -> list[str]:
        return [f.replace("%c", "+") for f in filters]

    return {
        "publish_acl": {user: widen(grant.write) for user, grant in grants.items()},
        "acl": {user: widen(grant.read) for user, grant in grants.items()},
    }


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read, replacing it whole."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    temporary.replace(path)
