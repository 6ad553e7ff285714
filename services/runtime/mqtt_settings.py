"""From the settings object to an MQTT client: one place that knows the mqtt_* options,
which broker login each role uses, the mesh's key and where replies may go."""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from dataclasses import replace
from pathlib import Path

from slm_mesh.services.runtime.broker_access import BrokerLogins
from slm_mesh.services.runtime.mesh_key import MeshKey
from slm_mesh.services.runtime.mqtt import BrokerUrl, MqttClient, Will
from slm_mesh.services.runtime.mqtt_rpc import ReplyTopics
from slm_mesh.services.runtime.topics import Topics
from slm_mesh.services.settings import Settings


def embedded_logins_path(settings: Settings) -> Path:
    """Where `slm-mesh up` keeps its embedded broker's logins."""
    return settings.cache_dir / "broker" / "logins.json"


def _on_this_machine(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _logins(settings: Settings, url: BrokerUrl) -> BrokerLogins | None:
    """The per-role logins: the file given, else the embedded broker's on this machine."""
    path = settings.mqtt.logins_file
    if path is None:
        default = embedded_logins_path(settings)
        if not (default.exists() and _on_this_machine(url.host)):
            return None
        path = default
    return BrokerLogins.load(path)


def broker_url(settings: Settings, *, role: str) -> BrokerUrl:
    """The broker, logged in as the URL says, else as `role` (see `broker_access`)."""
    if not settings.mqtt.url:
        raise ValueError("no broker configured: give --mqtt URL or set SLM_MESH_MQTT_URL")
    url = BrokerUrl.parse(settings.mqtt.url)
    if settings.mqtt.password is not None:
        url = replace(url, password=settings.mqtt.password.get_secret_value())
    if url.username is None:
        logins = _logins(settings, url)
        if logins is not None:
            login = logins.role(role)
            url = replace(url, username=login.username, password=login.password)
    return url


def topics(settings: Settings) -> Topics:
    return Topics(prefix=settings.mqtt.prefix)


def reply_topics(settings: Settings) -> ReplyTopics:
    """Where answers may go: the settings' filters, else `<prefix>/reply/#`."""
    filters = settings.reply_topics or [topics(settings).reply("#")]
    return ReplyTopics(filters=tuple(filters))


def mesh_key(settings: Settings) -> MeshKey:
    """The key services sign with: given, or kept in a file (made on first use)."""
    if settings.mesh.key is not None:
        return MeshKey.from_text(settings.mesh.key.get_secret_value())
    return MeshKey.load_or_create(settings.mesh.key_file or settings.cache_dir / "mesh.key")


def instance_id(service: str) -> str:
    """Unique per process and readable in `mosquitto_sub -t 'slm-mesh/status/#'`."""
    return f"{service}-{socket.gethostname()}-{os.getpid()}"


def mqtt_client(
    settings: Settings,
    *,
    client_id: str,
    role: str,
    will: Will | None = None,
    persistent_session_s: int = 0,
) -> MqttClient:
    return MqttClient(
        broker=broker_url(settings, role=role),
        # MQTT hands a session to whoever connects last with its client id: an id others
        # cannot guess (it is not the instance id the status shows) cannot be taken over.
        client_id=f"{client_id}-{secrets.token_hex(4)}",
        protocol=settings.mqtt.protocol,
        will=will,
        persistent_session_s=persistent_session_s,
        tls_ca_file=str(settings.mqtt.tls_ca_file) if settings.mqtt.tls_ca_file else None,
    )
