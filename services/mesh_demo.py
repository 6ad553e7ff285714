"""`slm-mesh demo`: sample device events through a mesh, and the answers they get.

With `--mqtt URL` it talks to a running mesh (`slm-mesh up`); without, it starts one in
this process on a free port, so a fresh clone shows the whole path with one command.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from slm_mesh.services.mesh import running_mesh, where_to_connect
from slm_mesh.services.mesh_client import mesh_client
from slm_mesh.services.runtime.broker_access import DEVICE
from slm_mesh.services.runtime.mqtt_settings import broker_url
from slm_mesh.services.runtime.mqtt_settings import topics as mqtt_topics
from slm_mesh.services.settings import Settings

#: (device, its area or None, what it heard)
DEMO_EVENTS = (
    ("satellite-lounge", "Lounge", "lights off"),
    ("satellite-study", "Study", "it's pitch black in here"),
    ("phone", None, "set the desk lamp to 40 percent"),
    ("satellite-kitchen", "Kitchen", "kill the lights and boil the kettle"),
    ("phone", None, "turn off the kitchen lights and close the lounge blinds"),
    ("satellite-study", "Study", "warm it up to 21 degrees"),
    ("satellite-kitchen", "Kitchen", "knock two minutes off the timer"),
    ("phone", None, "we're out of oat milk"),
    ("satellite-lounge", "Lounge", "what's a good banana bread recipe"),
    ("phone", None, "that's not what I asked"),
    (
        "phone",
        None,
        "summarize: The boiler service is booked for Tuesday at 9. The engineer will need "
        "access to the loft. Dr. Patel said the pressure was low in May, so the valve may be "
        "replaced. The visit costs 85 pounds. Parking is free on the drive.",
    ),
)


@asynccontextmanager
async def _mesh_settings(settings: Settings) -> AsyncIterator[Settings]:
    if settings.mqtt.url:
        yield settings
        return
    local = settings.updated(broker_port=0, port=0, wyoming_port=0)
    async with running_mesh(local) as mesh:
        print(where_to_connect(mesh), "\n", flush=True)
        yield mesh.settings


def describe(answer: dict[str, Any]) -> str:
    if answer.get("error"):
        return f"error: {answer['error']['message']}"
    commands = [
        f"{item['intent']} {json.dumps(item['slots'], ensure_ascii=False)}"
        for item in answer["intents"]
    ]
    said = " + ".join(commands) or answer.get("answer") or "no intent"
    why = answer["why"]["reason"]
    return f"{said}  [{answer['tier']}, {answer['elapsed_ms']:.0f} ms; {why}]"


async def demo(settings: Settings) -> int:
    async with (
        _mesh_settings(settings) as mesh,
        mesh_client(
            broker_url(mesh, role=DEVICE), topics=mqtt_topics(mesh), protocol=mesh.mqtt.protocol
        ) as client,
    ):
        print("Device events and the mesh's answers:\n")
        for device, area, text in DEMO_EVENTS:
            answer = await client.ask(text, device=device, area=area)
            where = f"{device}" + (f" in the {area}" if area else "")
            print(f"  {where}: {text!r}\n    -> {describe(answer)}", flush=True)
    return 0
