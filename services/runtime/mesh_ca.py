"""The mesh's own certificate authority, for gRPC across the LAN (`grpc_tls`): on first
start a CA and a server certificate in `<cache dir>/tls/` (0700; keys 0600), made under a
lock so two processes do not race; the server certificate issued again, from the same CA,
when it nears its end or lacks a name clients dial; client certificates on request."""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import ipaddress
import os
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from slm_mesh.services.errors import EXIT_BAD_INPUT, SlmMeshError

log = structlog.get_logger(__name__)

#: The mesh's own CA lives this long; its server certificates less, and are issued again.
CA_DAYS = 3650
SERVER_DAYS = 825
RENEW_DAYS = 60


class GrpcTlsError(SlmMeshError):
    """Settings or files that cannot make a secure gRPC server or channel; says why."""

    code = "misconfigured"
    exit_code = EXIT_BAD_INPUT


@dataclass(frozen=True)
class MeshCertificates:
    ca_file: Path
    cert_file: Path
    key_file: Path
    ca_sha256: str
    cert_sha256: str
    made_ca: bool
    """Whether this start made the CA (clients must be given it)."""
    issued: bool
    """Whether this start issued the server certificate."""


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 over the DER bytes, as `openssl x509 -fingerprint -sha256` shows it."""
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


def pem_fingerprint(pem: bytes) -> str:
    return fingerprint(x509.load_pem_x509_certificate(pem))


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _write_private(path: Path, data: bytes, mode: int) -> None:
    """Written whole (a temporary file renamed), readable as `mode` says from the start."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.replace(temporary, path)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def cert_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "slm-mesh"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
    ])  # fmt: skip


def _usage(*, sign_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=sign_certificates,
        crl_sign=sign_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def make_ca(common_name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A self-signed CA (ECDSA P-256) that may sign end certificates only."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(sign_certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name.strip("[]")))
    except ValueError:
        return x509.DNSName(name)


def issue(
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    *,
    common_name: str,
    names: Sequence[str] = (),
    client: bool = False,
    days: int = SERVER_DAYS,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """An end certificate from `ca`: for a server (with `names`), or for a client."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(min(now + datetime.timedelta(days=days), ca.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign_certificates=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if names:
        unique = list(dict.fromkeys(_general_name(name) for name in names))
        builder = builder.add_extension(x509.SubjectAlternativeName(unique), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def server_names(extra: Sequence[str] = (), *, listen_host: str | None = None) -> list[str]:
    """What the mesh's server certificate carries: this machine's name, localhost,
    loopback, the listen address when it names one, and `extra`."""
    names = ["localhost", socket.gethostname(), "127.0.0.1", "::1", *extra]
    if listen_host and listen_host.strip("[]") not in ("", "0.0.0.0", "::"):
        names.append(listen_host.strip("[]"))
    return list(dict.fromkeys(name for name in names if name))


def _carries(certificate: x509.Certificate, names: Sequence[str]) -> bool:
    try:
        alternatives = certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        ).value
    except x509.ExtensionNotFound:
        return False
    carried = set(alternatives)
    return all(_general_name(name) in carried for name in names)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One process at a time makes or renews the files (replicas may share a volume)."""
    descriptor = os.open(directory / ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def ensure_mesh_certificates(
    tls_dir: Path, names: Sequence[str], *, now: datetime.datetime | None = None
) -> MeshCertificates:
    """The mesh's CA and a server certificate for `names`, made or renewed as needed."""
    try:
        tls_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(tls_dir, 0o700)
    except OSError as err:
        raise GrpcTlsError(f"cannot keep the mesh's certificates in {tls_dir}: {err}") from None
    ca_file, ca_key_file = tls_dir / "ca.pem", tls_dir / "ca.key"
    cert_file, key_file = tls_dir / "server.pem", tls_dir / "server.key"
    made_ca = issued = False
    with _locked(tls_dir):
        try:
            if ca_file.exists() and ca_key_file.exists():
                ca = x509.load_pem_x509_certificate(ca_file.read_bytes())
                ca_key = serialization.load_pem_private_key(ca_key_file.read_bytes(), None)
            else:
                ca, ca_key = make_ca(f"slm-mesh CA {socket.gethostname()}")
                _write_private(ca_key_file, key_pem(ca_key), 0o600)
                _write_private(ca_file, cert_pem(ca), 0o644)
                made_ca = True
            if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
                raise GrpcTlsError(f"{ca_key_file}: not the mesh's own CA key (ECDSA)")
            current = (
                x509.load_pem_x509_certificate(cert_file.read_bytes())
                if cert_file.exists() and key_file.exists() and not made_ca
                else None
            )
        except (OSError, ValueError) as err:
            raise GrpcTlsError(f"cannot use the mesh's certificates in {tls_dir}: {err}") from None
        renew_by = (now or _now()) + datetime.timedelta(days=RENEW_DAYS)
        if (
            current is None
            or current.issuer != ca.subject
            or current.not_valid_after_utc < renew_by
            or not _carries(current, names)
        ):
            current, key = issue(ca, ca_key, common_name=socket.gethostname(), names=names)
            _write_private(key_file, key_pem(key), 0o600)
            _write_private(cert_file, cert_pem(current), 0o644)
            issued = True
    return MeshCertificates(
        ca_file=ca_file,
        cert_file=cert_file,
        key_file=key_file,
        ca_sha256=fingerprint(ca),
        cert_sha256=fingerprint(current),
        made_ca=made_ca,
        issued=issued,
    )


def issue_client_certificate(tls_dir: Path, name: str, out_dir: Path) -> tuple[Path, Path]:
    """A client certificate from the mesh's CA, for a server whose `client_ca_file` is
    `<tls_dir>/ca.pem`: `<out_dir>/<name>.pem` and `<name>.key` (0600)."""
    try:
        ca = x509.load_pem_x509_certificate((tls_dir / "ca.pem").read_bytes())
        ca_key = serialization.load_pem_private_key((tls_dir / "ca.key").read_bytes(), None)
    except (OSError, ValueError) as err:
        raise GrpcTlsError(f"no mesh CA in {tls_dir} to sign with: {err}") from None
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise GrpcTlsError(f"{tls_dir / 'ca.key'}: not the mesh's own CA key (ECDSA)")
    certificate, key = issue(ca, ca_key, common_name=name, client=True)
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    cert_path, key_path = out_dir / f"{name}.pem", out_dir / f"{name}.key"
    _write_private(key_path, key_pem(key), 0o600)
    _write_private(cert_path, cert_pem(certificate), 0o644)
    return cert_path, key_path
