"""One switching step of several devices split by what the request asks of each: pure."""

from __future__ import annotations

from typing import Any

from slm_mesh.services.code_snippet.clause_steps import split_by_clause

NAMES = {
    "valve.water_main": ("Water Main",),
    "valve.fill": ("Fill Valve",),
    "climate.heat_pump": ("Heat Pump",),
    "scene.welcome": ("Welcome",),
}


def _on(*ids: str) -> dict[str, Any]:
    return {"action": "homeassistant.turn_on", "target": {"entity_id": list(ids)}}


def test_each_device_gets_what_its_clause_asks() -> None:
    steps: list[Any] = [_on("valve.water_main", "valve.fill")]
    prompt = "on start-up make sure the water main is open and the fill valve is closed"
    assert split_by_clause(steps, prompt, NAMES)
    assert [(s["action"], s["target"]["entity_id"]) for s in steps] == [
        ("valve.open_valve", "valve.water_main"),
        ("valve.close_valve", "valve.fill"),
    ]


def test_a_device_asked_only_to_switch_keeps_the_step_s_action() -> None:
    steps: list[Any] = [_on("scene.welcome", "climate.heat_pump")]
    assert split_by_clause(steps, "welcome scene, heat pump to 21°C", NAMES)
    assert steps == [
        {"action": "homeassistant.turn_on", "target": {"entity_id": "scene.welcome"}},
        {
            "action": "climate.set_temperature",
            "target": {"entity_id": "climate.heat_pump"},
            "data": {"temperature": 21},
        },
    ]


def test_devices_switched_on_and_later_off_are_left_as_the_snippet_has_them() -> None:
    off = {
        "action": "homeassistant.turn_off",
        "target": {"entity_id": ["valve.water_main", "valve.fill"]},
    }
    steps: list[Any] = [_on("valve.water_main", "valve.fill"), off]
    assert not split_by_clause(steps, "open the water main and close the fill valve", NAMES)
    assert steps[1] is off
