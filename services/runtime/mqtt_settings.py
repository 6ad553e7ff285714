"""From the settings object to an MQTT client: one place that knows the mqtt_* options."""

from __future__ import annotations

import os
import socket
from dataclasses import replace

from slm_mesh.services.runtime.mqtt import BrokerUrl, MqttClient, Will
from slm_mesh.services.runtime.topics import Topics
from slm_mesh.services.settings import Settings


def broker_url(settings: Settings) -> BrokerUrl:
    if not settings.mqtt_url:
        raise ValueError("no broker configured: give --mqtt URL or set SLM_MESH_MQTT_URL")
    url = BrokerUrl.parse(settings.mqtt_url)
    if settings.mqtt_password is not None:
        url = replace(url, password=settings.mqtt_password.get_secret_value())
    return url


def topics(settings: Settings) -> Topics:
    return Topics(prefix=settings.mqtt_prefix)


def instance_id(service: str) -> str:
    """Unique per process and readable in `mosquitto_sub -t 'slm-mesh/status/#'`."""
    return f"{service}-{socket.gethostname()}-{os.getpid()}"


def mqtt_client(
    settings: Settings,
    *,
    client_id: str,
    will: Will | None = None,
    persistent_session_s: int = 0,
) -> MqttClient:
    return MqttClient(
        broker=broker_url(settings),
        client_id=client_id,
        protocol=settings.mqtt_protocol,
        will=will,
        persistent_session_s=persistent_session_s,
        tls_ca_file=str(settings.mqtt_tls_ca_file) if settings.mqtt_tls_ca_file else None,
    )
