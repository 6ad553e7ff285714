"""A device's words through the bridge to the real router and intent service, and the
intent back to the device (slow: the mesh loads the real model)."""

from __future__ import annotations

import asyncio

import pytest
from brokers import MeshThread

import slm_mesh.firmware_bridge.device.micropython.slm_bridge as slm_bridge
from slm_mesh.firmware_bridge.app import running_bridge
from slm_mesh.firmware_bridge.config import BridgeOptions

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_device_over_udp_gets_the_routers_intent(mesh: MeshThread) -> None:
    async def scenario() -> dict[str, object]:
        options = BridgeOptions(udp=("127.0.0.1", 0))
        async with running_bridge(mesh.settings, options) as running:
            assert running.udp_address is not None
            link = slm_bridge.UdpLink(*running.udp_address)
            device = slm_bridge.Client("satellite-lounge", link)
            seq = device.text("lights off", "Lounge")
            loop = asyncio.get_running_loop()
            until = loop.time() + 20
            got: list[dict[str, object]] = []
            while not got and loop.time() < until:
                got = device.poll()
                await asyncio.sleep(0.02)
            link.close()
            assert got, "no answer came back to the device"
            answer = got[0]["answer"]
            assert isinstance(answer, dict) and answer["seq"] == seq
            return answer

    answer = asyncio.run(scenario())
    assert answer["intent"] == "HassTurnOff"
    assert answer["slots"] == {"area": "Lounge", "domain": "light"}
    assert answer["error"] == ""
    assert mesh.router is not None and mesh.router.counts.answered >= 1
