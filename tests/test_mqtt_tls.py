"""`mqtts://` against a real Mosquitto with a TLS listener and a private CA."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from slm_mesh.services.runtime.broker import find_mosquitto, free_port
from slm_mesh.services.runtime.mqtt import BrokerError, BrokerUrl, MqttClient

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        find_mosquitto() is None or shutil.which("openssl") is None,
        reason="needs the mosquitto and openssl binaries",
    ),
]


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _certificates(folder: Path) -> None:
    """A private CA, and a certificate it signed for 127.0.0.1."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
             "/CN=slm-mesh test CA", "-keyout", "ca.key", "-out", "ca.pem", cwd=folder)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", "server.key", "-out", "server.csr", cwd=folder)  # fmt: skip
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", "san.cnf", "-out", "server.pem",
             cwd=folder)  # fmt: skip


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    folder = tmp_path_factory.mktemp("tls")
    _certificates(folder)
    port = free_port()
    config = folder / "mosquitto.conf"
    # Mosquitto started as root drops to its own user, which cannot read these files.
    as_root = "user root\n" if os.geteuid() == 0 else ""
    config.write_text(
        f"{as_root}listener {port} 127.0.0.1\nallow_anonymous true\n"
        f"cafile {folder / 'ca.pem'}\ncertfile {folder / 'server.pem'}\n"
        f"keyfile {folder / 'server.key'}\n"
    )
    mosquitto = find_mosquitto()
    assert mosquitto is not None
    process = subprocess.Popen(
        [mosquitto, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield port, folder / "ca.pem"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_messages_go_both_ways_over_tls_with_a_private_ca(tls_broker: tuple[int, Path]) -> None:
    port, ca_file = tls_broker

    async def round_trip() -> bytes:
        url = BrokerUrl.parse(f"mqtts://127.0.0.1:{port}")
        async with MqttClient(broker=url, client_id="tls-test", tls_ca_file=str(ca_file)) as client:
            await client.subscribe("tls/echo")
            await client.publish("tls/echo", b"over tls")
            async with asyncio.timeout(5):
                async for message in client.messages():
                    return message.payload
        raise AssertionError("no message")

    assert asyncio.run(round_trip()) == b"over tls"


# paho leaves the socket of a failed TLS handshake to the garbage collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_broker_certificate_the_ca_did_not_sign_is_refused_saying_why(
    tls_broker: tuple[int, Path],
) -> None:
    port, _ = tls_broker

    async def connect() -> None:
        url = BrokerUrl.parse(f"mqtts://127.0.0.1:{port}")
        async with MqttClient(broker=url, client_id="tls-untrusted", connect_timeout_s=1.5):
            pass

    with pytest.raises(BrokerError, match="CERTIFICATE_VERIFY_FAILED"):
        asyncio.run(connect())
