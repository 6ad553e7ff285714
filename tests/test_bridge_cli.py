"""`slm-mesh bridge`'s options (the subcommand itself is wired in services/cli.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from slm_mesh.firmware_bridge.cli import add_bridge_arguments, options_from, run_bridge
from slm_mesh.firmware_bridge.config import BridgeConfigError, BridgeOptions, parse_udp
from slm_mesh.services.settings import Settings


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_bridge_arguments(parser)
    return parser.parse_args(argv)


def test_several_serial_ports_a_udp_address_and_a_keys_file(tmp_path: Path) -> None:
    keys = tmp_path / "devices.keys"
    keys.write_text(f"esp32-hall = {'ab' * 32}\n")
    args = parse(
        ["--serial", "/dev/ttyACM0", "/dev/ttyUSB0", "--udp", "0.0.0.0:5683", "--keys", str(keys)]
    )
    options = options_from(args)
    assert options.serial == ("/dev/ttyACM0", "/dev/ttyUSB0")
    assert options.udp == ("0.0.0.0", 5683)
    assert options.keys.key("esp32-hall") == bytes([0xAB]) * 32
    assert (options.baudrate, options.deadline_ms, options.require_keys) == (115200, 5000, False)


@pytest.mark.parametrize(
    ("text", "address"), [("0.0.0.0:5683", ("0.0.0.0", 5683)), ("[::]:9", ("::", 9))]
)
def test_udp_addresses(text: str, address: tuple[str, int]) -> None:
    assert parse_udp(text) == address


@pytest.mark.parametrize("text", ["5683", "host:", ":5683", "host:99999", "host:x"])
def test_a_bad_udp_address_says_what_it_wants(text: str) -> None:
    with pytest.raises(BridgeConfigError, match="HOST:PORT"):
        parse_udp(text)


def test_a_bridge_needs_a_link_keys_for_require_keys_and_a_broker() -> None:
    with pytest.raises(BridgeConfigError, match="nothing to bridge"):
        BridgeOptions()
    with pytest.raises(BridgeConfigError, match="needs device keys"):
        BridgeOptions(udp=("0.0.0.0", 1), require_keys=True)
    with pytest.raises(BridgeConfigError, match="needs a broker"):
        run_bridge(parse(["--udp", "127.0.0.1:0"]), Settings())
