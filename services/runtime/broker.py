"""The embedded broker `slm-mesh up` and the tests start: Mosquitto when it is installed,
the pure-Python amqtt otherwise.

Mosquitto speaks MQTT 5 with shared subscriptions and keeps sessions and queued messages
in a persistence file across restarts. amqtt speaks MQTT 3.1.1 only and has no shared
subscriptions, so with it the mesh carries reply addresses in the payload and runs one
replica per service; it is the fallback that needs nothing but pip.

With `access` (`broker_access`), both require a login and enforce each role's topics;
without, they let anyone in, as an unconfigured broker does.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import structlog
import yaml

from slm_mesh.services.runtime.broker_access import (
    BrokerAccess,
    amqtt_acls,
    mosquitto_acl,
    mosquitto_password_file,
)
from slm_mesh.services.runtime.mqtt import BrokerError, BrokerUrl, Protocol

log = structlog.get_logger(__name__)

BrokerKind = Literal["auto", "mosquitto", "amqtt"]
_MOSQUITTO_PATHS = (
    "/usr/sbin/mosquitto",
    "/usr/local/sbin/mosquitto",
    "/opt/homebrew/sbin/mosquitto",
)


def find_mosquitto() -> str | None:
    """The Mosquitto binary: on PATH, or where Debian and Homebrew put it (often not on PATH)."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return next((path for path in _MOSQUITTO_PATHS if os.access(path, os.X_OK)), None)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class BrokerFeatures:
    """What the clients of this broker may rely on."""

    protocol: Protocol
    shared_subscriptions: bool


class EmbeddedBroker:
    """A broker process on `host:port`, with its state under `data_dir`.

    `stop()` and `start()` may be called again on the same object: the port and the
    persistence file stay, which is how the fault tests restart the broker under load.
    """

    def __init__(
        self,
        *,
        data_dir: Path,
        host: str = "127.0.0.1",
        port: int = 1883,
        kind: BrokerKind = "auto",
        access: BrokerAccess | None = None,
    ) -> None:
        mosquitto = find_mosquitto()
        if kind == "mosquitto" and mosquitto is None:
            raise BrokerError("no mosquitto binary found; install it (apt install mosquitto)")
        self.kind: Literal["mosquitto", "amqtt"] = (
            "mosquitto" if kind == "mosquitto" or (kind == "auto" and mosquitto) else "amqtt"
        )
        self._mosquitto = mosquitto
        self.data_dir = data_dir
        self.host = host
        self.port = port or free_port(host)
        self.access = access
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> BrokerUrl:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return BrokerUrl(host=host, port=self.port)

    @property
    def features(self) -> BrokerFeatures:
        if self.kind == "mosquitto":
            return BrokerFeatures(protocol="5", shared_subscriptions=True)
        return BrokerFeatures(protocol="3.1.1", shared_subscriptions=False)

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self, *, timeout_s: float = 10.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = self._mosquitto_command() if self.kind == "mosquitto" else self._amqtt_command()
        log_file = (self.data_dir / f"{self.kind}.log").open("ab")
        # A session of its own: Ctrl-C on a terminal reaches the whole foreground group, and
        # the broker must outlive the services that say goodbye to it; `stop` ends it last.
        self._process = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
        log_file.close()
        await self._wait_listening(timeout_s)
        log.info("broker started", kind=self.kind, url=str(self.url), pid=self._process.pid)

    async def stop(self, *, timeout_s: float = 10.0) -> None:
        """Stop gracefully (Mosquitto saves its persistence file on SIGTERM)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
        log.info("broker stopped", kind=self.kind, url=str(self.url))

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def _write_private(self, name: str, text: str) -> Path:
        path = self.data_dir / name
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        return path

    def _mosquitto_access(self) -> list[str]:
        if self.access is None:
            return ["allow_anonymous true"]
        passwords = self._write_private("passwords", mosquitto_password_file(self.access.logins))
        acl = self._write_private("acl", mosquitto_acl(self.access.grants))
        return ["allow_anonymous false", f"password_file {passwords}", f"acl_file {acl}"]

    def _mosquitto_command(self) -> list[str]:
        config = self.data_dir / "mosquitto.conf"
        config.write_text(
            "\n".join(
                [
                    f"listener {self.port} {self.host}",
                    *self._mosquitto_access(),
                    "set_tcp_nodelay true",
                    "persistence true",
                    f"persistence_location {self.data_dir}/",
                    "max_queued_messages 10000",
                    "max_inflight_messages 100",
                    "log_type error",
                    "log_type warning",
                    # As root, Mosquitto drops to user `mosquitto`, which cannot write the
                    # persistence file in our data dir: sessions would not survive a restart.
                    *(["user root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
                    "",
                ]
            )
        )
        assert self._mosquitto is not None
        return [self._mosquitto, "-c", str(config)]

    def _amqtt_plugins(self) -> dict[str, Any]:
        if self.access is None:
            return {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}
        from pwdlib import PasswordHash
        from pwdlib.hashers.argon2 import Argon2Hasher

        hasher = PasswordHash((Argon2Hasher(),))
        lines = [f"{login.username}:{hasher.hash(login.password)}" for login in self.access.logins]
        passwords = self._write_private("amqtt-passwords", "\n".join(lines) + "\n")
        return {
            "amqtt.plugins.authentication.FileAuthPlugin": {"password_file": str(passwords)},
            "amqtt.plugins.topic_checking.TopicAccessControlListPlugin": amqtt_acls(
                self.access.grants
            ),
        }

    def _amqtt_command(self) -> list[str]:
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": self._amqtt_plugins(),
        }
        config_path = self.data_dir / "amqtt.yaml"
        config_path.write_text(yaml.safe_dump(config))
        script = Path(sys.executable).with_name("amqtt")
        if not script.exists():
            raise BrokerError(
                "neither mosquitto nor amqtt is installed; install one "
                "(apt install mosquitto, or pip install amqtt)"
            )
        return [str(script), "-c", str(config_path)]

    async def _wait_listening(self, timeout_s: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise BrokerError(
                    f"{self.kind} exited at start (code {self._process.returncode}); "
                    f"see {self.data_dir / (self.kind + '.log')} (is port {self.port} taken?)"
                )
            try:
                _, writer = await asyncio.open_connection(self.url.host, self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise BrokerError(f"{self.kind} did not listen on {self.url} within {timeout_s:g} s")
