"""The embedded broker's logins and topic rights: what each role may do, checked on the
real brokers (Mosquitto, and amqtt where Mosquitto is not installed), and `slm-mesh up`'s
mesh running behind them."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from slm_mesh.services.broker_files import default_acl, write_broker_files
from slm_mesh.services.mesh import running_mesh, where_to_connect
from slm_mesh.services.mesh_client import mesh_client
from slm_mesh.services.runtime.broker import (
    BrokerKind,
    EmbeddedBroker,
    find_mosquitto,
    free_port,
)
from slm_mesh.services.runtime.broker_access import (
    BrokerAccess,
    BrokerLogins,
    Login,
    LoginsError,
    mosquitto_acl,
    mosquitto_password_file,
    role_grants,
)
from slm_mesh.services.runtime.mqtt import BrokerError, BrokerUrl, MqttClient
from slm_mesh.services.runtime.mqtt_settings import broker_url
from slm_mesh.services.runtime.topics import Topics
from slm_mesh.services.settings import Settings

SERVICES = ("intent", "summarize")
GRANTS = role_grants(prefix="slm-mesh", discovery_prefix="homeassistant", services=SERVICES)
ROLES = ["router", "device", "bridge", *SERVICES]


def test_logins_are_made_once_and_kept_where_only_their_owner_reads(tmp_path: Path) -> None:
    path = tmp_path / "broker" / "logins.json"
    first = BrokerLogins.load_or_create(path, ROLES)
    again = BrokerLogins.load_or_create(path, [*ROLES, "code"])
    assert first.role("device") == again.role("device")
    assert again.role("code").password
    assert path.stat().st_mode & 0o777 == 0o600
    assert "password" not in repr(first.role("device"))
    with pytest.raises(LoginsError, match="no broker login for the role 'visitor'"):
        first.role("visitor")


def test_an_unreadable_logins_file_is_refused_saying_which(tmp_path: Path) -> None:
    path = tmp_path / "logins.json"
    path.write_text("[1, 2]")
    with pytest.raises(LoginsError, match=r"logins\.json"):
        BrokerLogins.load(path)


def test_password_lines_are_mosquitto_pbkdf2_sha512() -> None:
    (line,) = mosquitto_password_file([Login("device", "s3cret")]).splitlines()
    user, _, iterations, salt, digest = line.split("$")
    expected = hashlib.pbkdf2_hmac("sha512", b"s3cret", base64.b64decode(salt), int(iterations))
    assert user == "device:" and base64.b64decode(digest) == expected


def test_the_acl_gives_each_role_its_own_topics() -> None:
    acl = mosquitto_acl(GRANTS)
    assert "user device\ntopic read hermes/#\ntopic write slm-mesh/event/#" in acl
    assert "topic write slm-mesh/status/intent/#" in acl
    assert "pattern read slm-mesh/reply/%c" in acl
    assert acl.count("user ") == len(ROLES)


def _kinds() -> list[BrokerKind]:
    return ["mosquitto", "amqtt"] if find_mosquitto() else ["amqtt"]


@asynccontextmanager
async def guarded_broker(data_dir: Path, kind: BrokerKind) -> AsyncIterator[EmbeddedBroker]:
    logins = BrokerLogins.load_or_create(data_dir / "logins.json", ROLES)
    access = BrokerAccess(logins=logins, grants=GRANTS)
    async with EmbeddedBroker(data_dir=data_dir / "broker", port=0, kind=kind, access=access) as b:
        yield b


def as_role(broker: EmbeddedBroker, role: str, client_id: str | None = None) -> MqttClient:
    assert broker.access is not None
    login = broker.access.logins.role(role)
    url = replace(broker.url, username=login.username, password=login.password)
    return MqttClient(
        broker=url,
        client_id=client_id or f"{role}-{uuid.uuid4().hex[:6]}",
        protocol=broker.features.protocol,
        connect_timeout_s=3,
    )


async def drain(client: MqttClient) -> list[str]:
    topics = []
    while True:
        try:
            topics.append((await client.receive(0.3)).topic)
        except TimeoutError:
            return topics


@pytest.mark.integration
@pytest.mark.parametrize("kind", _kinds())
def test_no_one_gets_in_without_a_login(tmp_path: Path, kind: BrokerKind) -> None:
    async def body() -> None:
        async with guarded_broker(tmp_path, kind) as broker:
            wrong = replace(broker.url, username="device", password="guess")
            for url in (broker.url, wrong):
                client = MqttClient(broker=url, client_id="intruder", connect_timeout_s=3,
                                    protocol=broker.features.protocol)  # fmt: skip
                with pytest.raises(BrokerError, match="refused us"):
                    async with client:
                        pass

    asyncio.run(body())


@pytest.mark.integration
@pytest.mark.parametrize("kind", _kinds())
def test_each_role_reaches_only_its_own_topics(tmp_path: Path, kind: BrokerKind) -> None:
    async def body() -> None:
        async with (
            guarded_broker(tmp_path, kind) as broker,
            as_role(broker, "router") as router,
            as_role(broker, "device", "phone") as device,
            as_role(broker, "device", "tablet") as other_device,
            as_role(broker, "intent") as intent,
        ):
            await router.subscribe("#")
            await other_device.subscribe("slm-mesh/reply/phone")
            await other_device.subscribe("slm-mesh/service/intent/request")
            await asyncio.sleep(0.2)
            await device.publish("slm-mesh/event/phone", b'{"text": "lights off"}')
            await device.publish("slm-mesh/status/summarize/evil-1", b"{}", retain=True)
            await device.publish("zigbee2mqtt/front_lock/set", b"UNLOCK")
            await intent.publish("slm-mesh/status/intent/i1", b"{}")
            await intent.publish("slm-mesh/status/summarize/i1", b"{}")
            await intent.publish("zigbee2mqtt/front_lock/set", b"UNLOCK")
            await router.publish("slm-mesh/reply/phone", b"{}")
            await router.publish("slm-mesh/service/intent/request", b"{}")
            seen_by_router = await drain(router)
            assert sorted(seen_by_router) == [
                "slm-mesh/event/phone",
                "slm-mesh/reply/phone",
                "slm-mesh/service/intent/request",
                "slm-mesh/status/intent/i1",
            ]
            # amqtt has no per-client patterns: there a device may read another's replies
            # (`slm-mesh up` says so at start), but never the services' requests.
            others = [] if kind == "mosquitto" else ["slm-mesh/reply/phone"]
            assert await drain(other_device) == others

    asyncio.run(body())


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(find_mosquitto() is None, reason="needs mosquitto (.ci/run installs it)")
def test_up_s_mesh_runs_behind_logins_and_devices_use_theirs(cache_dir: Path) -> None:
    """`slm-mesh up` with its embedded broker: the mesh logs in by role, a device with the
    device login is answered, and the start-up text says where that login is kept."""
    settings = Settings(cache_dir=cache_dir, port=0).updated(broker_port=0)

    async def body() -> None:
        async with running_mesh(settings) as mesh:
            assert "user `device`, its password in" in where_to_connect(mesh)
            url = broker_url(mesh.settings, role="device")
            assert url.username == "device"
            async with mesh_client(url, topics=Topics(), protocol="5") as client:
                answer = await client.ask("lights off", area="Lounge")
            assert answer["intent"] == "HassTurnOff"
            logins = json.loads(Path(str(mesh.settings.mqtt.logins_file)).read_text())
            assert set(logins) >= {"router", "device", "intent"}

    asyncio.run(body())


def test_the_shipped_acl_is_the_one_the_embedded_broker_enforces() -> None:
    shipped = Path(__file__).resolve().parent.parent / "deploy" / "mosquitto" / "acl"
    assert shipped.read_text() == default_acl(Settings()), (
        "regenerate it: slm-mesh broker-files DIR, then copy DIR/acl to deploy/mosquitto/acl"
    )


@pytest.mark.integration
@pytest.mark.skipif(find_mosquitto() is None, reason="needs mosquitto (.ci/run installs it)")
def test_broker_files_make_a_mosquitto_that_requires_the_logins(tmp_path: Path) -> None:
    """`slm-mesh broker-files` for a user's own Mosquitto, started as they would start it."""
    files = tmp_path / "mosquitto"
    write_broker_files(files, Settings())
    port = free_port()
    conf = (files / "mosquitto.conf").read_text().replace("listener 1883", f"listener {port}")
    (files / "mosquitto.conf").write_text(conf + ("user root\n" if os.geteuid() == 0 else ""))
    process = subprocess.Popen([str(find_mosquitto()), "-c", str(files / "mosquitto.conf")])
    device = BrokerLogins.load(files / "logins.json").role("device")

    async def body() -> None:
        url = BrokerUrl(host="127.0.0.1", port=port)
        for _ in range(100):
            try:
                async with MqttClient(
                    broker=replace(url, username="device", password=device.password),
                    client_id="phone",
                    connect_timeout_s=1,
                ):
                    break
            except BrokerError:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError("the device login was never accepted")
        with pytest.raises(BrokerError, match="refused us"):
            async with MqttClient(broker=url, client_id="anonymous", connect_timeout_s=3):
                pass

    try:
        asyncio.run(body())
    finally:
        process.terminate()
        process.wait(10)
