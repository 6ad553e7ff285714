"""One state trigger answering both ways its sensor changes, each with its own actions."""

from __future__ import annotations

from typing import Any

from slm_mesh.services.code_snippet.state_choices import by_state


def _automation() -> dict[str, Any]:
    return {
        "triggers": [{"trigger": "state", "entity_id": "binary_sensor.door", "to": "on"}],
        "actions": [{"action": "vacuum.pause", "target": {"entity_id": "vacuum.robot"}}],
    }


def test_each_way_the_sensor_changes_gets_what_its_clause_asks() -> None:
    data = _automation()
    prompt = "pause the robot when the door opens and resume it when the door closes again"
    assert by_state(data, prompt)
    assert [(t["to"], t["id"]) for t in data["triggers"]] == [("on", "on"), ("off", "off")]
    options = data["actions"][0]["choose"]
    assert [o["sequence"][0]["action"] for o in options] == ["vacuum.pause", "vacuum.start"]


def test_a_request_asking_one_thing_on_one_change_leaves_it_as_written() -> None:
    data = _automation()
    assert not by_state(data, "pause the robot when the door opens")
    assert data == _automation()
