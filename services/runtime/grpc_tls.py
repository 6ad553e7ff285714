"""gRPC across the LAN: server TLS, optional client certificates, an optional bearer token.

Wearables and gateways reach the services from other machines; a loopback listener stays
plain unless asked (`auto`, the default). Beyond loopback the server speaks TLS with:

- the certificate and key the user gives (`cert_file`, `key_file`), or
- one the mesh makes: on first start it makes its own certificate authority and a server
  certificate in `<cache dir>/tls/` (0700; keys 0600), and logs both SHA-256 fingerprints.
  Clients trust `<cache dir>/tls/ca.pem` (copy it to them) or check the fingerprint. The
  server certificate is issued again, from the same CA, when it nears its end or lacks a
  name it must carry (`names`: the names and addresses clients on the LAN dial).

`client_ca_file` makes the server require client certificates signed by that CA
(`mesh_ca.issue_client_certificate` makes one from the mesh's CA). A `token` makes every call but
the standard health checks carry `authorization: Bearer <token>` (compared in constant
time); clients send it as call credentials over TLS, and as metadata only to loopback.

Everything here works from `GrpcTlsConfig`, a plain dataclass; `config_from_settings`
builds it from the settings' `grpc` group.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypeAlias, cast

import grpc
import structlog
from pydantic import SecretStr

from slm_mesh.services.runtime.mesh_ca import (
    GrpcTlsError,
    ensure_mesh_certificates,
    pem_fingerprint,
    server_names,
)

log = structlog.get_logger(__name__)

Mode = Literal["auto", "on", "off"]
MODES: tuple[Mode, ...] = ("auto", "on", "off")

#: Calls that need no token: a container's or a load balancer's health probe.
OPEN_METHODS = frozenset({"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"})
MIN_TOKEN_CHARS = 16

_Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"


@dataclass(frozen=True)
class GrpcTlsConfig:
    """What secures gRPC, for a server and for its clients."""

    tls_dir: Path
    """Where the mesh keeps its own CA and server certificate: `<cache dir>/tls`."""
    mode: Mode = "auto"
    """auto: TLS unless the listen address (a client: the target) is loopback."""
    cert_file: Path | None = None
    """Server: your certificate chain (PEM); none: the mesh's own CA issues one."""
    key_file: Path | None = None
    """Server: its private key (PEM)."""
    names: tuple[str, ...] = ()
    """Server: DNS names and IP addresses the mesh's certificate carries besides this
    machine's name, localhost and loopback (what clients on the LAN dial)."""
    client_ca_file: Path | None = None
    """Server: require client certificates signed by this CA."""
    ca_file: Path | None = None
    """Client: the CA to trust; none: the mesh's own (when on this machine), else the
    system's roots."""
    client_cert_file: Path | None = None
    """Client: the certificate to present where the server asks for one."""
    client_key_file: Path | None = None
    server_name: str | None = None
    """Client: the name to check the server's certificate for, when it differs from the
    target's host (an IP address the certificate does not list)."""
    token: str | None = field(default=None, repr=False)
    """Bearer token every call but health checks must carry (never logged)."""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise GrpcTlsError(f"grpc tls mode {self.mode!r}: expected one of {MODES}")
        if (self.cert_file is None) != (self.key_file is None):
            raise GrpcTlsError("give the gRPC certificate and its key together, or neither")
        if (self.client_cert_file is None) != (self.client_key_file is None):
            raise GrpcTlsError("give the client certificate and its key together, or neither")
        if self.token is not None:
            check_token(self.token)


def check_token(token: str) -> None:
    if len(token) < MIN_TOKEN_CHARS:
        raise GrpcTlsError(f"a gRPC token needs at least {MIN_TOKEN_CHARS} characters")
    if not token.isascii() or not token.isprintable() or " " in token:
        raise GrpcTlsError("a gRPC token is printable ASCII without spaces")


class GrpcSettingsLike(Protocol):
    """The settings' `grpc` group, as this module reads it."""

    @property
    def tls(self) -> str: ...
    @property
    def cert_file(self) -> Path | None: ...
    @property
    def key_file(self) -> Path | None: ...
    @property
    def names(self) -> Sequence[str]: ...
    @property
    def client_ca_file(self) -> Path | None: ...
    @property
    def ca_file(self) -> Path | None: ...
    @property
    def client_cert_file(self) -> Path | None: ...
    @property
    def client_key_file(self) -> Path | None: ...
    @property
    def server_name(self) -> str | None: ...
    @property
    def token(self) -> SecretStr | None: ...
    @property
    def token_file(self) -> Path | None: ...


def config_from_settings(grpc_settings: GrpcSettingsLike, *, cache_dir: Path) -> GrpcTlsConfig:
    """`config_from_settings(settings.grpc, cache_dir=settings.cache_dir)`."""
    token = grpc_settings.token.get_secret_value() if grpc_settings.token else None
    if token is None and grpc_settings.token_file is not None:
        try:
            token = grpc_settings.token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as err:
            raise GrpcTlsError(f"cannot read the gRPC token file: {err}") from None
    if grpc_settings.tls not in MODES:
        raise GrpcTlsError(f"grpc tls mode {grpc_settings.tls!r}: expected one of {MODES}")
    return GrpcTlsConfig(
        tls_dir=cache_dir / "tls",
        mode=grpc_settings.tls,
        cert_file=grpc_settings.cert_file,
        key_file=grpc_settings.key_file,
        names=tuple(grpc_settings.names),
        client_ca_file=grpc_settings.client_ca_file,
        ca_file=grpc_settings.ca_file,
        client_cert_file=grpc_settings.client_cert_file,
        client_key_file=grpc_settings.client_key_file,
        server_name=grpc_settings.server_name,
        token=token or None,
    )


# Where TLS applies.


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host` (a listen address or a target's host)."""
    host = host.strip("[]")
    if host == "localhost" or host.startswith("unix:"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def target_host(target: str) -> str:
    """The host of a gRPC target: `host:port`, `[::1]:50051`, `dns:///host:port`."""
    if target.startswith("unix:"):
        return target
    rest = target.split("///", 1)[-1] if target.startswith("dns:") else target
    if rest.startswith("["):
        return rest[1 : rest.find("]")]
    host, sep, port = rest.rpartition(":")
    return host if sep and port.isdigit() else rest


def uses_tls(config: GrpcTlsConfig, host: str) -> bool:
    """TLS for a server listening on `host`, or a client dialling it."""
    if config.mode == "auto":
        return not is_loopback(host)
    return config.mode == "on"


# The server.


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise GrpcTlsError(f"cannot read the {what} {path}: {err.strerror or err}") from None


@dataclass(frozen=True)
class ServerSecurity:
    """What `GrpcServer` needs: credentials for a TLS port (None: plain) and interceptors."""

    credentials: grpc.ServerCredentials | None
    token: str | None = field(default=None, repr=False)
    cert_sha256: str | None = None
    ca_sha256: str | None = None
    ca_file: Path | None = None
    """The CA clients trust, when the mesh made it."""
    client_certificates: bool = False

    def interceptors(self) -> list[grpc.aio.ServerInterceptor]:
        return [TokenAuth(self.token)] if self.token else []


def server_security(config: GrpcTlsConfig, *, host: str) -> ServerSecurity | None:
    """How a server listening on `host` is secured; None: plain and open, as on loopback
    by default. Logs what it chose, with the fingerprints clients check."""
    if not uses_tls(config, host):
        if not is_loopback(host):
            log.warning(
                "gRPC IS PLAIN TEXT BEYOND LOOPBACK (grpc_tls=off): anyone on the network "
                "can read the calls" + (" and the token" if config.token else ""),
                address=host,
            )
        return ServerSecurity(credentials=None, token=config.token) if config.token else None
    made = None
    if config.cert_file is not None and config.key_file is not None:
        chain = _read(config.cert_file, "gRPC certificate")
        key = _read(config.key_file, "gRPC key")
        try:
            cert_sha256 = pem_fingerprint(chain)
        except ValueError as err:
            raise GrpcTlsError(f"{config.cert_file}: not a PEM certificate: {err}") from None
        ca_sha256 = ca_file = None
    else:
        made = ensure_mesh_certificates(
            config.tls_dir, server_names(config.names, listen_host=host)
        )
        chain, key = made.cert_file.read_bytes(), made.key_file.read_bytes()
        cert_sha256, ca_sha256, ca_file = made.cert_sha256, made.ca_sha256, made.ca_file
    client_ca = (
        _read(config.client_ca_file, "client CA") if config.client_ca_file is not None else None
    )
    credentials = grpc.ssl_server_credentials(
        [(key, chain)], root_certificates=client_ca, require_client_auth=client_ca is not None
    )
    if made is not None and made.made_ca:
        log.warning(
            "made a certificate authority for this mesh's gRPC services: give clients its "
            "certificate, or check its SHA-256 fingerprint",
            ca=str(made.ca_file),
            ca_sha256=made.ca_sha256,
        )
    log.info(
        "gRPC TLS",
        address=host,
        certificate_sha256=cert_sha256,
        certificate="mesh CA" if made is not None else str(config.cert_file),
        **({"ca": str(ca_file), "ca_sha256": ca_sha256} if made is not None else {}),
        client_certificates="required" if client_ca is not None else "no",
        token="required" if config.token else "no",
    )
    return ServerSecurity(
        credentials=credentials,
        token=config.token,
        cert_sha256=cert_sha256,
        ca_sha256=ca_sha256,
        ca_file=ca_file,
        client_certificates=client_ca is not None,
    )


def _bearer(token: str) -> bytes:
    return f"Bearer {token}".encode()


class TokenAuth(grpc.aio.ServerInterceptor):
    """Every call but the health checks carries `authorization: Bearer <token>`, or ends
    UNAUTHENTICATED before its handler runs."""

    def __init__(self, token: str) -> None:
        check_token(token)
        self._expected = _bearer(token)

    def _authorized(self, details: grpc.HandlerCallDetails) -> bool:
        given = b""
        for key, value in details.invocation_metadata or ():
            if key == "authorization":
                given = value.encode() if isinstance(value, str) else value
        return hmac.compare_digest(given, self._expected)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[_Handler | None]],
        details: grpc.HandlerCallDetails,
    ) -> _Handler | None:
        handler = await continuation(details)
        if handler is None or details.method in OPEN_METHODS or self._authorized(details):
            return handler
        return _refusing(handler)


async def _refuse(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
    await context.abort(grpc.StatusCode.UNAUTHENTICATED, "a valid bearer token is required")


def _refusing(handler: _Handler) -> _Handler:
    """A handler of the same kind that refuses the call (the real one never runs)."""
    parse, write = handler.request_deserializer, handler.response_serializer
    refuse = cast(Any, _refuse)
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(refuse, parse, write)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(refuse, parse, write)
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(refuse, parse, write)
    return grpc.stream_stream_rpc_method_handler(refuse, parse, write)


# The client.


@dataclass(frozen=True)
class ChannelSecurity:
    """How a client dials: TLS credentials (None: plain), the token, the name to check."""

    credentials: grpc.ChannelCredentials | None
    token: str | None = field(default=None, repr=False)
    server_name: str | None = None


def channel_security(
    config: GrpcTlsConfig, *, target: str, tls: bool | None = None
) -> ChannelSecurity:
    """For dialling `target`; `tls` overrides the mode (a health check knows how the
    server on this machine listens)."""
    secure = uses_tls(config, target_host(target)) if tls is None else tls
    if not secure:
        if config.token and not is_loopback(target_host(target)):
            raise GrpcTlsError(
                f"refusing to send the gRPC token in plain text to {target}: use TLS"
            )
        return ChannelSecurity(credentials=None, token=config.token)
    own_ca = config.tls_dir / "ca.pem"
    ca_file = config.ca_file or (own_ca if own_ca.exists() else None)
    roots = _read(ca_file, "CA") if ca_file is not None else None
    key = chain = None
    if config.client_cert_file is not None and config.client_key_file is not None:
        chain = _read(config.client_cert_file, "client certificate")
        key = _read(config.client_key_file, "client key")
    credentials = grpc.ssl_channel_credentials(
        root_certificates=roots, private_key=key, certificate_chain=chain
    )
    if config.token:
        credentials = grpc.composite_channel_credentials(
            credentials, grpc.access_token_call_credentials(config.token)
        )
    return ChannelSecurity(credentials=credentials, token=None, server_name=config.server_name)


class _TokenMetadata:
    """The token as metadata, for a plain channel to loopback (call credentials need TLS).
    grpc.aio files an interceptor under its first kind only: one class per kind."""

    def __init__(self, token: str) -> None:
        self._entry = ("authorization", f"Bearer {token}")

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()), self._entry)
        return grpc.aio.ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
        )


class _UnaryToken(_TokenMetadata, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(
        self, continuation: Any, client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        return await continuation(self._details(client_call_details), request)


class _StreamToken(_TokenMetadata, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(
        self, continuation: Any, client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        return await continuation(self._details(client_call_details), request)


def open_channel(
    target: str,
    security: ChannelSecurity | None = None,
    *,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.aio.Channel:
    """A grpc.aio channel to `target`, secured as `security` says (None: plain)."""
    if security is None:
        return grpc.aio.insecure_channel(target, options=list(options))
    if security.credentials is None:
        interceptors: list[grpc.aio.ClientInterceptor] | None = (
            [_UnaryToken(security.token), _StreamToken(security.token)] if security.token else None
        )
        return grpc.aio.insecure_channel(target, options=list(options), interceptors=interceptors)
    settings = list(options)
    if security.server_name:
        settings.append(("grpc.ssl_target_name_override", security.server_name))
    return grpc.aio.secure_channel(target, security.credentials, options=settings)
