"""`slm-mesh health`: exit 0 when what runs here answers, for a container's healthcheck.

    slm-mesh health              the gRPC server on this machine (SLM_MESH_PORT): SERVING?
    slm-mesh health --wyoming    the router's Wyoming face (SLM_MESH_WYOMING_PORT): Info?

The gRPC check asks the standard health service, over TLS when the server here listens
with it (the same settings say so: `grpc_tls`), trusting the mesh's own CA, presenting the
client certificate and the token the settings give. It prints one line and exits 0
(healthy) or 1 (not), as Docker's HEALTHCHECK reads it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path

import grpc
from cryptography import x509
from grpc_health.v1 import health_pb2, health_pb2_grpc
from wyoming.event import async_read_event, async_write_event
from wyoming.info import Describe, Info

from slm_mesh.services.runtime.grpc_tls import (
    GrpcSettingsLike,
    GrpcTlsConfig,
    channel_security,
    config_from_settings,
    is_loopback,
    open_channel,
    target_host,
    uses_tls,
)
from slm_mesh.services.runtime.mesh_ca import GrpcTlsError

HEALTHY, UNHEALTHY = 0, 1


@dataclass(frozen=True)
class Outcome:
    healthy: bool
    line: str


def local_target(listen_host: str, port: int) -> str:
    """Where a process on this machine reaches a server listening on `listen_host`."""
    host = listen_host.strip("[]")
    if host in ("", "0.0.0.0", "::") or is_loopback(host):
        return f"127.0.0.1:{port}"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _certificate_name(cert_file: Path) -> str | None:
    """The first DNS name a user's certificate carries: what a local check verifies it
    for, when the certificate does not list loopback."""
    try:
        certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (OSError, ValueError, x509.ExtensionNotFound):
        return None
    dns = names.value.get_values_for_type(x509.DNSName)
    return dns[0] if dns else None


async def check_grpc(
    target: str, config: GrpcTlsConfig, *, tls: bool, service: str = "", timeout: float = 5.0
) -> Outcome:
    """The standard health service's answer for `service` ("" is the whole server)."""
    if tls and config.server_name is None and config.cert_file is not None:
        config = replace(config, server_name=_certificate_name(config.cert_file))
    try:
        security = channel_security(config, target=target, tls=tls)
    except GrpcTlsError as err:
        return Outcome(False, f"cannot check {target}: {err}")
    async with open_channel(target, security) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            # types-grpcio-health-checking declares `HealthStub` without its methods.
            response: health_pb2.HealthCheckResponse = await stub.Check(  # type: ignore[attr-defined]
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.aio.AioRpcError as err:
            details = " ".join((err.details() or "").split())
            return Outcome(False, f"{target}: {err.code().name}: {details}")
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    healthy = response.status == health_pb2.HealthCheckResponse.SERVING
    return Outcome(healthy, f"{target}{' ' + service if service else ''}: {status}")


async def check_wyoming(host: str, port: int, *, timeout: float = 5.0) -> Outcome:
    """Whether the Wyoming face answers `describe` with `info`, as Home Assistant asks."""
    where = f"{host}:{port}"
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                await async_write_event(Describe().event(), writer)
                event = await async_read_event(reader)
            finally:
                writer.close()
                await writer.wait_closed()
    except (OSError, TimeoutError) as err:
        return Outcome(False, f"wyoming {where}: {type(err).__name__}: {err}")
    if event is None or not Info.is_type(event.type):
        return Outcome(False, f"wyoming {where}: no info (got {event.type if event else 'EOF'})")
    return Outcome(True, f"wyoming {where}: info")


def health_command(
    *,
    grpc_settings: GrpcSettingsLike,
    cache_dir: Path,
    host: str,
    port: int,
    wyoming_host: str,
    wyoming_port: int,
    target: str | None = None,
    service: str = "",
    wyoming: bool = False,
    timeout: float = 5.0,
) -> int:
    """What `slm-mesh health` runs: prints the outcome, returns the exit code."""
    if wyoming:
        where = target or local_target(wyoming_host, wyoming_port)
        check_host, _, check_port = where.rpartition(":")
        if not check_port.isdigit() or int(check_port) == 0:
            print(f"unhealthy: no Wyoming port to check ({where})", flush=True)
            return UNHEALTHY
        outcome = asyncio.run(
            check_wyoming(check_host.strip("[]"), int(check_port), timeout=timeout)
        )
    else:
        try:
            config = config_from_settings(grpc_settings, cache_dir=cache_dir)
        except GrpcTlsError as err:
            print(f"unhealthy: {err}", flush=True)
            return UNHEALTHY
        where = target or local_target(host, port)
        # The server here listens as the settings say; a target given is dialled as its
        # own address says.
        tls = uses_tls(config, host if target is None else target_host(target))
        outcome = asyncio.run(check_grpc(where, config, tls=tls, service=service, timeout=timeout))
    print(("healthy: " if outcome.healthy else "unhealthy: ") + outcome.line, flush=True)
    return HEALTHY if outcome.healthy else UNHEALTHY
