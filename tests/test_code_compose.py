"""An automation's actions composed from the request, the trigger a request asks for, and
the board it names: pure, on an inline home."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from slm_mesh.services.code_snippet.boards import with_board
from slm_mesh.services.code_snippet.compose import (
    action_targets,
    composed_actions,
    trigger_text,
)
from slm_mesh.services.code_snippet.fill import Filler
from slm_mesh.services.code_snippet.library import (
    Param,
    Snippet,
    SnippetTest,
    load_library,
    render,
)
from slm_mesh.services.code_snippet.retrieval import SnippetIndex, retrieve
from slm_mesh.services.code_snippet.trigger_kind import (
    directions,
    snippet_triggers,
    sun_events,
    trigger_kinds,
    trigger_phrase,
    trigger_times,
)
from slm_mesh.services.home.model import parse_home

HOME = parse_home("""
areas: [{id: hall, name: Hall}, {id: lounge, name: Lounge}, {id: office, name: Office}]
entities:
  - {id: light.hall, name: Hall Light, area: hall}
  - {id: light.tv_strip, name: TV Light Strip, area: lounge}
  - {id: fan.ceiling, name: Ceiling Fan, area: lounge}
  - {id: switch.office_heater, name: Office Heater, area: office}
  - {id: media_player.sonos, name: Lounge Speaker, area: lounge, aliases: [sonos]}
  - {id: lock.front_door, name: Front Door Lock, area: hall}
  - {id: lock.patio_door, name: Patio Door Lock, area: lounge}
  - {id: binary_sensor.front_door, name: Front Door, area: hall,
     attributes: {device_class: door}}
  - {id: binary_sensor.patio_door, name: Patio Door Contact, area: lounge,
     attributes: {device_class: door}}
  - {id: binary_sensor.doorbell, name: Doorbell, area: hall}
  - {id: button.restart_router, name: Restart Router, area: hall}
  - {id: valve.sprinklers, name: Sprinklers}
  - {id: sensor.house_power, name: House Power, attributes: {device_class: power}}
  - {id: sensor.lounge_temperature, name: Lounge Temperature, area: lounge,
     attributes: {device_class: temperature}}
  - {id: person.alex, name: Alex}
  - {id: person.sam, name: Sam}
""")
FILLER = Filler(home=HOME)
STEPS = Param("steps", "actions")
SENSOR = Param("sensor", "entity", domains=("binary_sensor",))
PERSON = Param("person", "entity", domains=("person",))


def _composed(prompt: str, *params: Param) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What the trigger's params take, and the composed steps (parsed back from YAML)."""
    import yaml

    filled = FILLER.fill(prompt, [*params, STEPS])
    assert not filled.problems, filled.problems
    values = dict(filled.values)
    return values, yaml.safe_load(str(values.pop("steps")))


def test_each_named_device_gets_the_action_its_clause_asks() -> None:
    taken, steps = _composed(
        "when the doorbell rings, pause the sonos and turn on the hall light", SENSOR
    )
    assert taken == {"sensor": "binary_sensor.doorbell"}
    assert steps == [
        {"action": "media_player.media_pause", "target": {"entity_id": "media_player.sonos"}},
        {"action": "homeassistant.turn_on", "target": {"entity_id": "light.hall"}},
    ]


def test_a_verb_only_one_domain_does_picks_that_device_by_its_words() -> None:
    _, steps = _composed(
        "smoke alarm goes off: unlock the front door and send everyone a notification"
    )
    assert steps[0] == {"action": "lock.unlock", "target": {"entity_id": "lock.front_door"}}
    assert steps[1]["action"] == "notify.notify"
    assert steps[1]["data"]["message"] == "Smoke alarm goes off"


def test_a_verb_carries_over_to_the_next_device_named() -> None:
    _, steps = _composed("every 15 minutes re-lock the front door and the patio door")
    assert {s["target"]["entity_id"] for s in steps} == {"lock.front_door", "lock.patio_door"}
    assert {s["action"] for s in steps} == {"lock.lock"}


def test_levels_a_button_and_a_while_on() -> None:
    _, steps = _composed(
        "at 7pm put the ceiling fan on at 40%, press the restart router button and run the "
        "sprinklers on for 15 minutes"
    )
    assert steps == [
        {"action": "fan.turn_on", "target": {"entity_id": "fan.ceiling"},
         "data": {"percentage": 40}},
        {"action": "button.press", "target": {"entity_id": "button.restart_router"}},
        {"action": "valve.open_valve", "target": {"entity_id": "valve.sprinklers"}},
        {"delay": {"minutes": 15}},
        {"action": "valve.close_valve", "target": {"entity_id": "valve.sprinklers"}},
    ]  # fmt: skip


def test_the_trigger_takes_only_what_its_own_words_name() -> None:
    taken, steps = _composed("when Alex gets home, turn on the hall light", PERSON)
    assert taken == {"person": "person.alex"}
    assert steps == [{"action": "homeassistant.turn_on", "target": {"entity_id": "light.hall"}}]


def test_someone_or_everyone_is_every_person() -> None:
    taken, _ = _composed("when everyone has left, switch the heater off", PERSON)
    assert taken == {"person": "[person.alex, person.sam]"}


def test_a_request_that_asks_nothing_done_is_a_problem_for_a_composed_snippet() -> None:
    filled = FILLER.fill("when the doorbell rings", [SENSOR, STEPS])
    assert filled.problems == ("the request asks nothing of the home's devices to be done",)


def test_a_clause_naming_a_sensor_going_off_asks_nothing_of_another_device() -> None:
    named = [e for e in HOME.entities if e.id == "binary_sensor.doorbell"]
    assert action_targets("the doorbell goes off", HOME, named, set(), set()) == []
    assert composed_actions("the doorbell goes off", HOME, []) == []


def test_composed_steps_are_indented_where_the_placeholder_stands() -> None:
    snippet = Snippet(
        id="x", format="homeassistant-automation", description="X.", examples=("a", "b"),
        params={"steps": STEPS}, template="actions:\n  <<steps>>\n",
        test=SnippetTest(params={}, contains=("x",)),
    )  # fmt: skip
    steps = "- action: light.turn_on\n  target:\n    entity_id: light.hall\n"
    assert render(snippet, {"steps": steps}) == (
        "actions:\n  - action: light.turn_on\n    target:\n      entity_id: light.hall\n"
    )


@pytest.mark.parametrize(
    ("prompt", "kinds"),
    [
        ("at 7am set the heating to 21", {"time"}),
        ("lock the patio door every evening at 9", {"time"}),
        ("every 15 minutes between 23:00 and 05:00 re-lock the doors", {"time_pattern"}),
        ("porch light on 30 minutes before sunset", {"sun"}),
        ("when Priya arrives home after sunset, lamp on", {"state"}),
        ("if the house draws more than 3.5 kW, towel rail off", {"numeric_state"}),
        ("office hotter than 27 -> aircon on", {"numeric_state"}),
        ("movement on the stairs after midnight -> stair lights on", {"state"}),
        ("turn the coffee machine off when it's been on for an hour", {"state"}),
        ("make me an automation", set()),
    ],
)
def test_the_trigger_a_request_asks_for(prompt: str, kinds: set[str]) -> None:
    assert trigger_kinds(prompt) == kinds


@pytest.mark.parametrize(
    ("prompt", "phrase"),
    [
        ("every 15 minutes re-lock the front door", "every 15 minutes"),
        ("press the restart router button every Monday at 4am", "at 04:00"),
        ("close the blinds at sunset", "at sunset"),
        ("close the curtains at sunset and open them at sunrise", None),
        ("lamp on an hour after sunset, off at sunrise", None),
        ("hot tub heater off at 11 pm, back on at 4 pm", None),
        ("pause the TV when someone opens the front door", "when someone opens the front door"),
        ("Kitchen smoke alarm goes off: unlock the door", "Kitchen smoke alarm goes off"),
    ],
)
def test_the_words_that_say_what_sets_an_automation_off(prompt: str, phrase: str | None) -> None:
    assert trigger_phrase(prompt) == phrase


def test_the_trigger_text_and_directions() -> None:
    assert trigger_text("turn on the light when the tv starts playing, please") == (
        "when the tv starts playing"
    )
    assert directions("when it drops below 18") == {"below"}
    assert directions("above 70 on, under 60 off") == {"above", "below"}
    template = (
        "triggers:\n  - trigger: sun\nactions:\n  - wait_for_trigger:\n      - trigger: state\n"
    )
    assert snippet_triggers(template) == {"sun"}


ESP32 = (
    "esphome:\n  name: x\n\nesp32:\n  board: esp32dev\n\n"
    "switch:\n  - platform: gpio\n    pin: GPIO5\n"
)


@pytest.mark.parametrize(
    ("prompt", "block"),
    [
        ("relay on a NodeMCU", "esp8266:\n  board: nodemcuv2\n"),
        ("relay on a Wemos D1 mini", "esp8266:\n  board: d1_mini\n"),
        ("relay on an ESP32-C3", "esp32:\n  board: esp32-c3-devkitm-1\n"),
        ("relay on an esp32", "esp32:\n  board: esp32dev\n"),
        ("relay", "esp32:\n  board: esp32dev\n"),
    ],
)
def test_the_board_the_request_names(prompt: str, block: str) -> None:
    assert block in with_board(ESP32, prompt)


def test_a_board_that_cannot_run_the_snippet_leaves_it_as_written() -> None:
    high_pin = ESP32.replace("GPIO5", "GPIO26")
    assert with_board(high_pin, "relay on a NodeMCU") == high_pin
    proxy = ESP32 + "bluetooth_proxy:\n"
    assert with_board(proxy, "on a d1 mini") == proxy


@pytest.mark.parametrize(
    ("prompt", "meant"),
    [
        ("when the front door is unlocked, notify me", "lock.front_door"),
        ("unlock the front door", "lock.front_door"),
        ("when the front door opens, turn on the hall light", "binary_sensor.front_door"),
    ],
)
def test_a_name_two_devices_share_is_the_one_its_verb_acts_on(prompt: str, meant: str) -> None:
    named = {m.target.id for m in FILLER.mentions(prompt).entities}
    (other,) = {"lock.front_door", "binary_sensor.front_door"} - {meant}
    assert meant in named and other not in named


def _bag_of_words(texts: Sequence[str]) -> np.ndarray:
    """A stand-in for the sentence encoder: hashed words, so closeness is word overlap."""
    vectors = np.zeros((len(texts), 512), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in re.findall(r"[a-z0-9]+", text.casefold()):
            vectors[row, zlib.crc32(word.encode()) % 512] += 1.0
    norms: np.ndarray = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    normalised: np.ndarray = vectors / norms
    return normalised


INDEX = SnippetIndex(snippets=load_library(), embed=_bag_of_words)


def test_a_trigger_the_library_has_no_snippet_for_composes_what_is_asked() -> None:
    found = retrieve("press the restart router button every Monday at 4am",
                     fmt="homeassistant-automation", index=INDEX, filler=FILLER)  # fmt: skip
    assert found is not None and found.snippet.id == "at-time-do"
    assert "button.press" in found.code and "mon" in found.code


def test_an_esp8266_gets_its_own_i2c_pins_when_the_request_gives_none() -> None:
    i2c = ESP32 + "i2c:\n  sda: GPIO21\n  scl: GPIO22\n"
    moved = with_board(i2c, "BH1750 on a NodeMCU")
    assert "esp8266:\n  board: nodemcuv2\n" in moved and "sda: GPIO4" in moved
    assert with_board(i2c, "NodeMCU with SDA on GPIO21") == i2c  # a pin it lacks, as asked


def test_the_sun_events_and_times_a_request_triggers_at() -> None:
    assert sun_events("porch light on at sunset, off at sunrise") == {"sunset", "sunrise"}
    assert sun_events("lights on when I get home after sunset") == set()
    assert sun_events("between sunset and 11pm, when the door opens") == set()
    assert sun_events("lamp on twenty minutes after sunset, off at sunrise") == {
        "sunset",
        "sunrise",
    }
    assert trigger_times("thermostat to 17 at 10:30pm, to 20 at 6:30am") == 2
    assert trigger_times("between 23:00 and 05:00 every 15 minutes") == 0
