"""`slm-mesh bridge`: its options, and running it (the dispatch lives in services/cli.py).

    slm-mesh bridge --serial /dev/ttyACM0 /dev/ttyUSB0 --udp 0.0.0.0:5683 \\
        --mqtt mqtt://gateway:1883 [--keys devices.keys --require-keys]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from slm_mesh.firmware_bridge.config import BridgeConfigError, BridgeOptions, parse_udp
from slm_mesh.firmware_bridge.keys import DeviceKeys
from slm_mesh.firmware_bridge.presence import DEFAULT_INTERVAL_S
from slm_mesh.services.settings import Settings


def add_bridge_arguments(parser: argparse.ArgumentParser) -> None:
    """The bridge's own options; `--mqtt URL` is the command line's shared one."""
    parser.add_argument(
        "--serial",
        nargs="+",
        action="extend",
        default=[],
        metavar="PORT",
        help="serial ports of devices (/dev/ttyACM0, /dev/serial/by-id/...); reopened when "
        "a device is plugged back in",
    )
    parser.add_argument(
        "--udp", metavar="HOST:PORT", help="listen for devices on the LAN, e.g. 0.0.0.0:5683"
    )
    parser.add_argument("--baud", type=int, default=115200, help="serial speed")
    parser.add_argument(
        "--keys",
        type=Path,
        metavar="FILE",
        help="device keys, one `device = hex key` a line: those devices must sign each frame",
    )
    parser.add_argument(
        "--require-keys",
        action="store_true",
        help="on UDP, refuse every device that has no key in --keys",
    )
    parser.add_argument(
        "--heartbeat",
        type=float,
        default=DEFAULT_INTERVAL_S,
        metavar="SECONDS",
        help="a device's heartbeat interval when it does not say; offline after 3 missed",
    )
    parser.add_argument(
        "--deadline-ms", type=int, default=5000, help="how long the mesh has to answer an event"
    )


def options_from(args: argparse.Namespace) -> BridgeOptions:
    keys = DeviceKeys.load(args.keys) if args.keys is not None else DeviceKeys()
    return BridgeOptions(
        serial=tuple(args.serial),
        udp=parse_udp(args.udp) if args.udp else None,
        baudrate=args.baud,
        keys=keys,
        require_keys=args.require_keys,
        heartbeat_s=args.heartbeat,
        deadline_ms=args.deadline_ms,
    )


def run_bridge(args: argparse.Namespace, settings: Settings) -> int:
    from slm_mesh.firmware_bridge.app import serve_bridge

    if not settings.mqtt.url:
        raise BridgeConfigError("the bridge needs a broker: --mqtt mqtt://HOST[:PORT]")
    options = options_from(args)
    asyncio.run(serve_bridge(settings, options))
    return 0
