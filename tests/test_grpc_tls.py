"""gRPC across the LAN: real TLS channels on loopback, with the mesh's own CA or the user's
certificate, client certificates and a bearer token, and the ones that must be refused."""

from __future__ import annotations

import asyncio
import datetime
import os
import stat
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from cryptography import x509
from pydantic import SecretStr

from slm_mesh.services.contracts.info import ServiceInfo
from slm_mesh.services.contracts.intent import CONTRACT, IntentRequest, IntentResult
from slm_mesh.services.kit.grpc_client import ServiceClient, remote_failure
from slm_mesh.services.kit.grpc_face import GrpcFace
from slm_mesh.services.runtime import mesh_ca
from slm_mesh.services.runtime.grpc_server import GrpcServer
from slm_mesh.services.runtime.grpc_tls import (
    ChannelSecurity,
    GrpcTlsConfig,
    channel_security,
    config_from_settings,
    open_channel,
    server_security,
    target_host,
    uses_tls,
)
from slm_mesh.services.runtime.health_check import check_grpc, health_command
from slm_mesh.services.runtime.mesh_ca import (
    GrpcTlsError,
    ensure_mesh_certificates,
    issue_client_certificate,
    server_names,
)

TOKEN = "t0ken-for-the-tests-0123456789"
INFO = ServiceInfo(name="intent", version="0.1.0", models=())


class Echo:
    async def handle(self, requests: Sequence[IntentRequest]) -> list[IntentResult]:
        return [
            IntentResult(r.text, "HassTurnOn", confidence=1.0, tier="template") for r in requests
        ]


@asynccontextmanager
async def serving(config: GrpcTlsConfig, host: str = "127.0.0.1") -> AsyncIterator[int]:
    face = GrpcFace(contract=CONTRACT, core=Echo(), info=INFO)
    security = server_security(config, host=host)
    async with GrpcServer(register=face.register, host=host, security=security) as server:
        await server.set_serving(True)
        yield server.port


async def ask(port: int, security: ChannelSecurity | None) -> list[IntentResult]:
    target = f"127.0.0.1:{port}"
    async with ServiceClient(CONTRACT, target=target, timeout=5.0, security=security) as client:
        return await client.call([IntentRequest("lights on")])


def tls_config(tmp_path: Path, **changes: object) -> GrpcTlsConfig:
    return replace(GrpcTlsConfig(tls_dir=tmp_path / "tls", mode="on"), **changes)  # type: ignore[arg-type]


# Where TLS applies.


def test_loopback_stays_plain_by_default_and_the_lan_gets_tls(tmp_path: Path) -> None:
    auto = GrpcTlsConfig(tls_dir=tmp_path)
    assert [uses_tls(auto, h) for h in ("127.0.0.1", "localhost", "::1", "[::1]")] == [False] * 4
    assert [uses_tls(auto, h) for h in ("0.0.0.0", "::", "192.168.1.20", "gateway")] == [True] * 4
    assert uses_tls(replace(auto, mode="on"), "127.0.0.1")
    assert not uses_tls(replace(auto, mode="off"), "0.0.0.0")
    assert server_security(auto, host="127.0.0.1") is None, "plain and open: nothing to add"
    assert [target_host(t) for t in ("gw:50051", "[::1]:50051", "dns:///gw.local:443")] == [
        "gw",
        "::1",
        "gw.local",
    ]


def test_settings_that_cannot_work_are_refused_saying_why(tmp_path: Path) -> None:
    with pytest.raises(GrpcTlsError, match="together"):
        GrpcTlsConfig(tls_dir=tmp_path, cert_file=tmp_path / "a.pem")
    with pytest.raises(GrpcTlsError, match="at least 16"):
        GrpcTlsConfig(tls_dir=tmp_path, token="short")
    with pytest.raises(GrpcTlsError, match="plain text"):
        channel_security(
            GrpcTlsConfig(tls_dir=tmp_path, mode="off", token=TOKEN), target="192.168.1.20:50051"
        )
    with pytest.raises(GrpcTlsError, match="cannot read the gRPC certificate"):
        server_security(
            tls_config(tmp_path, cert_file=tmp_path / "none.pem", key_file=tmp_path / "none.key"),
            host="0.0.0.0",
        )


def test_the_config_is_built_from_the_settings_group_and_a_token_file(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    group = SimpleNamespace(
        tls="auto",
        cert_file=None,
        key_file=None,
        names=["gateway.local"],
        client_ca_file=None,
        ca_file=None,
        client_cert_file=None,
        client_key_file=None,
        server_name=None,
        token=None,
        token_file=token_file,
    )
    config = config_from_settings(group, cache_dir=tmp_path)
    assert (config.tls_dir, config.names, config.token) == (
        tmp_path / "tls",
        ("gateway.local",),
        TOKEN,
    )
    assert TOKEN not in repr(config)
    given = config_from_settings(
        replace_ns(group, token=SecretStr(TOKEN + "x")), cache_dir=tmp_path
    )
    assert given.token == TOKEN + "x", "the token itself wins over its file"
    with pytest.raises(GrpcTlsError, match="expected one of"):
        config_from_settings(replace_ns(group, tls="maybe"), cache_dir=tmp_path)


def replace_ns(namespace: SimpleNamespace, **changes: object) -> SimpleNamespace:
    return SimpleNamespace(**{**vars(namespace), **changes})


# The mesh's own CA.


def test_the_mesh_makes_its_ca_once_with_keys_only_it_reads(tmp_path: Path) -> None:
    tls_dir = tmp_path / "tls"
    first = ensure_mesh_certificates(tls_dir, server_names(["gateway.local"]))
    assert first.made_ca and first.issued
    assert stat.S_IMODE(tls_dir.stat().st_mode) == 0o700
    for key in ("ca.key", "server.key"):
        assert stat.S_IMODE((tls_dir / key).stat().st_mode) == 0o600, key
    assert len(first.ca_sha256.split(":")) == 32 and first.ca_sha256.isupper()

    again = ensure_mesh_certificates(tls_dir, server_names(["gateway.local"]))
    assert (again.made_ca, again.issued) == (False, False)
    assert (again.ca_sha256, again.cert_sha256) == (first.ca_sha256, first.cert_sha256)

    named = ensure_mesh_certificates(tls_dir, server_names(["gateway.local", "192.168.1.20"]))
    assert named.issued and named.ca_sha256 == first.ca_sha256, "a new name: same CA"
    certificate = x509.load_pem_x509_certificate((tls_dir / "server.pem").read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "gateway.local" in names.get_values_for_type(x509.DNSName)
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} >= {
        "127.0.0.1",
        "192.168.1.20",
    }

    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=800)
    renewed = ensure_mesh_certificates(tls_dir, server_names(["gateway.local"]), now=later)
    assert renewed.issued and renewed.ca_sha256 == first.ca_sha256, "near its end: renewed"


def test_the_fingerprint_is_logged_when_the_server_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    security = server_security(tls_config(tmp_path), host="0.0.0.0")
    assert security is not None and security.credentials is not None
    assert security.ca_file == tmp_path / "tls" / "ca.pem"
    captured = capsys.readouterr()
    logged = captured.out + captured.err  # structlog: stderr under the CLI, stdout here
    assert security.ca_sha256 is not None and security.ca_sha256 in logged
    assert security.cert_sha256 is not None and security.cert_sha256 in logged
    assert "made a certificate authority" in logged


# Real channels.


@pytest.mark.integration
def test_a_client_that_trusts_the_mesh_ca_gets_an_answer_over_tls(tmp_path: Path) -> None:
    config = tls_config(tmp_path)

    async def body() -> None:
        async with serving(config) as port:
            answers = await ask(port, channel_security(config, target=f"127.0.0.1:{port}"))
            assert [a.intent for a in answers] == ["HassTurnOn"]
            health = await check_grpc(f"127.0.0.1:{port}", config, tls=True)
            assert health.healthy, health.line

    asyncio.run(body())


@pytest.mark.integration
def test_a_client_without_the_ca_or_without_tls_is_refused(tmp_path: Path) -> None:
    config = tls_config(tmp_path)
    stranger = GrpcTlsConfig(tls_dir=tmp_path / "elsewhere", mode="on")  # system roots only

    async def body() -> None:
        async with serving(config) as port:
            target = f"127.0.0.1:{port}"
            for security in (channel_security(stranger, target=target), None):
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    async with asyncio.timeout(10):
                        await ask(port, security)
                assert caught.value.code() == grpc.StatusCode.UNAVAILABLE

    asyncio.run(body())


@pytest.mark.integration
def test_the_users_own_certificate_is_served(tmp_path: Path) -> None:
    """A certificate from the user's own CA (made here with the same helpers), for a name
    the client checks instead of the address it dials."""
    ca, ca_key = mesh_ca.make_ca("home CA")
    certificate, key = mesh_ca.issue(ca, ca_key, common_name="gw", names=["gateway.example"])
    files = {name: tmp_path / name for name in ("ca.pem", "gw.pem", "gw.key")}
    files["ca.pem"].write_bytes(mesh_ca.cert_pem(ca))
    files["gw.pem"].write_bytes(mesh_ca.cert_pem(certificate))
    files["gw.key"].write_bytes(mesh_ca.key_pem(key))
    config = tls_config(
        tmp_path,
        cert_file=files["gw.pem"],
        key_file=files["gw.key"],
        ca_file=files["ca.pem"],
        server_name="gateway.example",
    )

    async def body() -> None:
        async with serving(config) as port:
            security = channel_security(config, target=f"127.0.0.1:{port}")
            assert [a.text for a in await ask(port, security)] == ["lights on"]
            health = await check_grpc(
                f"127.0.0.1:{port}", replace(config, server_name=None), tls=True
            )
            assert health.healthy, f"the health check verifies the certificate's name: {health}"

    asyncio.run(body())
    assert not (tmp_path / "tls").exists(), "no CA of the mesh's own is made"


@pytest.mark.integration
def test_with_client_certificates_required_only_a_client_with_one_gets_in(tmp_path: Path) -> None:
    ensure_mesh_certificates(tmp_path / "tls", server_names())
    cert, key = issue_client_certificate(tmp_path / "tls", "watch", tmp_path / "clients")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    server = tls_config(tmp_path, client_ca_file=tmp_path / "tls" / "ca.pem")
    with_cert = replace(server, client_cert_file=cert, client_key_file=key)

    async def body() -> None:
        async with serving(server) as port:
            target = f"127.0.0.1:{port}"
            assert await ask(port, channel_security(with_cert, target=target))
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                async with asyncio.timeout(10):
                    await ask(port, channel_security(server, target=target))
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE

    asyncio.run(body())


@pytest.mark.integration
@pytest.mark.parametrize("tls", [True, False], ids=["tls", "plain-loopback"])
def test_with_a_token_required_a_call_without_it_is_unauthenticated(
    tmp_path: Path, tls: bool
) -> None:
    config = tls_config(tmp_path, mode="on" if tls else "auto", token=TOKEN)
    no_token = replace(config, token=None)
    wrong = replace(config, token=TOKEN[::-1])

    async def body() -> None:
        async with serving(config) as port:
            target = f"127.0.0.1:{port}"
            refused = [channel_security(c, target=target) for c in (no_token, wrong)]
            for security in refused:
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await ask(port, security)
                assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
                assert "token" in str(remote_failure("intent", target, caught.value))
            answers = await ask(port, channel_security(config, target=target))
            assert [a.intent for a in answers] == ["HassTurnOn"]
            # A container's health probe needs no token.
            health = await check_grpc(target, no_token, tls=tls)
            assert health.healthy, health.line

    asyncio.run(body())


@pytest.mark.integration
def test_the_health_command_checks_the_server_here_as_it_listens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`slm-mesh health`: TLS because the settings say the server here uses it; exit 0
    while SERVING, 1 when nothing answers."""
    config = tls_config(tmp_path, token=TOKEN)
    group = SimpleNamespace(
        tls="on",
        cert_file=None,
        key_file=None,
        names=[],
        client_ca_file=None,
        ca_file=None,
        client_cert_file=None,
        client_key_file=None,
        server_name=None,
        token=SecretStr(TOKEN),
        token_file=None,
    )
    codes: list[int] = []

    async def body() -> None:
        async with serving(config) as port:
            codes.append(await asyncio.to_thread(check, port))
        codes.append(await asyncio.to_thread(check, port))

    def check(port: int) -> int:
        return health_command(
            grpc_settings=group,
            cache_dir=tmp_path,
            host="0.0.0.0",
            port=port,
            wyoming_host="0.0.0.0",
            wyoming_port=0,
            timeout=3.0,
        )

    asyncio.run(body())
    assert codes == [0, 1]
    lines = [line for line in capsys.readouterr().out.splitlines() if "healthy: " in line]
    assert lines[0].startswith("healthy: 127.0.0.1:") and lines[0].endswith("SERVING")
    assert lines[1].startswith("unhealthy: 127.0.0.1:")
    assert os.listdir(tmp_path / "tls")


@pytest.mark.integration
@pytest.mark.parametrize("tls", [True, False], ids=["tls", "plain-loopback"])
def test_a_streaming_call_carries_the_token_too(tmp_path: Path, tls: bool) -> None:
    """Server streaming (the code service's pieces): refused without the token, answered
    with it, over TLS (call credentials) and on plain loopback (metadata)."""
    config = tls_config(tmp_path, mode="on" if tls else "auto", token=TOKEN)

    async def count(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> Any:
        for piece in (b"1", b"2"):
            yield piece

    def register(server: grpc.aio.Server) -> list[str]:
        handler: grpc.RpcMethodHandler[bytes, bytes] = grpc.unary_stream_rpc_method_handler(count)
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("test.Pieces", {"Count": handler}),)
        )
        return ["test.Pieces"]

    async def pieces(port: int, with_token: GrpcTlsConfig) -> list[bytes]:
        target = f"127.0.0.1:{port}"
        async with open_channel(target, channel_security(with_token, target=target)) as channel:
            call: grpc.aio.UnaryStreamMultiCallable[bytes, bytes] = channel.unary_stream(
                "/test.Pieces/Count"
            )
            return [piece async for piece in call(b"", timeout=5)]

    async def body() -> None:
        security = server_security(config, host="127.0.0.1")
        async with GrpcServer(register=register, security=security) as server:
            assert await pieces(server.port, config) == [b"1", b"2"]
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await pieces(server.port, replace(config, token=None))
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED

    asyncio.run(body())
