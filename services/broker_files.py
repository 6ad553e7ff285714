"""`slm-mesh broker-files DIR`: logins and topic rights for your own Mosquitto, from the
same table the embedded broker enforces (`runtime/broker_access.py`).

Writes into DIR: `logins.json` (each role's password, 0600: give each part of the mesh its
own), `passwords` (Mosquitto's hashed `password_file`), `acl` (its `acl_file`) and
`mosquitto.conf` (a listener that requires them). Running it again keeps the passwords.
"""

from __future__ import annotations

import os
from pathlib import Path

from slm_mesh.services.router.request import TASKS
from slm_mesh.services.runtime.broker_access import (
    BRIDGE,
    DEVICE,
    ROUTER,
    BrokerLogins,
    mosquitto_acl,
    mosquitto_password_file,
    role_grants,
)
from slm_mesh.services.settings import Settings


def default_acl(settings: Settings) -> str:
    """The ACL for the settings' topic prefix and discovery prefix."""
    return mosquitto_acl(
        role_grants(
            prefix=settings.mqtt.prefix, discovery_prefix=settings.discovery_prefix, services=TASKS
        )
    )


def write_broker_files(directory: Path, settings: Settings) -> list[Path]:
    """The four files, written in `directory`; returns their paths."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    logins = BrokerLogins.load_or_create(
        directory / "logins.json", [ROUTER, DEVICE, BRIDGE, *TASKS]
    )
    files = {
        "passwords": mosquitto_password_file(logins),
        "acl": default_acl(settings),
        "mosquitto.conf": "\n".join([
            "listener 1883",
            "allow_anonymous false",
            f"password_file {directory.resolve() / 'passwords'}",
            f"acl_file {directory.resolve() / 'acl'}",
            "",
        ]),
    }  # fmt: skip
    written = [directory / "logins.json"]
    for name, text in files.items():
        path = directory / name
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        written.append(path)
    return written
