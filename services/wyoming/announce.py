"""The Wyoming face announced over zeroconf (mDNS `_wyoming._tcp`), which is how Home
Assistant's Wyoming integration finds services, so a user adds slm-mesh without typing an
address. The announcement is a convenience: where it cannot be made, a warning says so and
the mesh serves on (Home Assistant can still be given the address by hand)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from zeroconf import InterfaceChoice, IPVersion, NonUniqueNameException
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

log = structlog.get_logger(__name__)

SERVICE_TYPE = "_wyoming._tcp.local."
_MDNS_GROUP = "224.0.0.251"


def reachable_address(host: str) -> str | None:
    """The IPv4 address others reach a server listening on `host` at; None when only this
    machine can (loopback) or none can be found."""
    if host in ("", "0.0.0.0"):
        return _lan_address()
    try:
        address = ipaddress.ip_address(socket.gethostbyname(host))
    except OSError as err:
        log.warning("zeroconf: cannot resolve the Wyoming host", host=host, reason=str(err))
        return None
    if address.is_loopback:
        log.info("zeroconf: not announced, Wyoming listens on this machine only", host=host)
        return None
    return str(address)


def _lan_address() -> str | None:
    """The address this machine sends multicast from (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((_MDNS_GROUP, 1))
        except OSError as err:
            log.warning("zeroconf: this machine has no network to announce on", reason=str(err))
            return None
        address: str = probe.getsockname()[0]
        return address


def instance_name() -> str:
    """What Home Assistant shows for the discovered service (an mDNS label: 63 bytes)."""
    return f"slm-mesh-{socket.gethostname()}"[:63]


@asynccontextmanager
async def announced(
    *,
    name: str,
    address: str,
    port: int,
    interfaces: InterfaceChoice | list[str] = InterfaceChoice.All,
) -> AsyncIterator[None]:
    """`name` announced at `address`:`port` until the context exits."""
    info = AsyncServiceInfo(
        SERVICE_TYPE,
        f"{name}.{SERVICE_TYPE}",
        addresses=[socket.inet_aton(address)],
        port=port,
    )
    try:
        zeroconf = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
    except OSError as err:
        _cannot_announce(address, port, err)
        yield
        return
    try:
        await zeroconf.async_register_service(info)
    except (OSError, NonUniqueNameException) as err:
        _cannot_announce(address, port, err)
        await zeroconf.async_close()
        yield
        return
    log.info("zeroconf: Wyoming service announced", name=name, address=f"{address}:{port}")
    try:
        yield
    finally:
        await zeroconf.async_unregister_service(info)
        await zeroconf.async_close()


def _cannot_announce(address: str, port: int, err: Exception) -> None:
    log.warning(
        "zeroconf: cannot announce the Wyoming service; add it in Home Assistant by address",
        address=f"{address}:{port}",
        reason=repr(err),
    )
