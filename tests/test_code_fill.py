"""Reading a request into a snippet's parameters, and the conditions it puts around an
automation: pure, on an inline home."""

from __future__ import annotations

import pytest
import yaml

from slm_mesh.services.code_snippet.actions import action_for, clause_naming, clauses_naming
from slm_mesh.services.code_snippet.fill import Filler
from slm_mesh.services.code_snippet.library import Param
from slm_mesh.services.code_snippet.refine import refine_automation
from slm_mesh.services.code_snippet.request_clock import clock_times
from slm_mesh.services.code_snippet.request_conditions import weekdays
from slm_mesh.services.code_snippet.request_format import format_of
from slm_mesh.services.code_snippet.request_values import stated
from slm_mesh.services.code_snippet.retrieval import token_variable
from slm_mesh.services.home.model import parse_home

HOME = parse_home("""
areas: [{id: hallway, name: Hallway}, {id: kitchen, name: Kitchen}, {id: office, name: Office}]
entities:
  - {id: light.hallway, name: Hallway Light, area: hallway}
  - {id: light.kitchen_ceiling, name: Kitchen Ceiling, area: kitchen}
  - {id: light.kitchen_strip, name: Kitchen Strip, area: kitchen}
  - {id: lock.front_door, name: Front Door Lock, area: hallway}
  - {id: lock.back_door, name: Back Door Lock, area: kitchen}
  - {id: binary_sensor.hallway_motion, name: Hallway Motion, area: hallway,
     attributes: {device_class: motion}}
  - {id: binary_sensor.office_occupancy, name: Office Occupancy, area: office,
     attributes: {device_class: occupancy}}
  - {id: sensor.house_power, name: House Power, attributes: {device_class: power}}
  - {id: sensor.washer_power, name: Washer Power, area: kitchen,
     attributes: {device_class: power}}
  - {id: climate.office_ac, name: Office Aircon, area: office}
  - {id: person.alex, name: Alex}
  - {id: person.sam, name: Sam}
""")
FILLER = Filler(home=HOME)
LIGHT = Param("light", "entity", domains=("light",))
LOCK = Param("lock", "entity", domains=("lock",))
MOTION = Param("motion", "entity", domains=("binary_sensor",), device_classes=("motion",))
POWER = Param("power", "entity", domains=("sensor",), device_classes=("power",))


def _fill(prompt: str, *params: Param) -> dict[str, object]:
    return dict(FILLER.fill(prompt, params).values)


def test_an_entity_is_the_one_the_request_names() -> None:
    assert _fill("when the hallway motion sensor sees someone turn on the hallway light",
                 MOTION, LIGHT) == {"motion": "binary_sensor.hallway_motion",
                                    "light": "light.hallway"}  # fmt: skip


def test_several_named_entities_are_all_taken() -> None:
    assert _fill("lock the front and back doors at 11pm", LOCK)["lock"] == (
        "[lock.front_door, lock.back_door]"
    )


def test_a_word_that_tells_one_apart_picks_it_among_its_kind() -> None:
    assert _fill("alert me if the house is pulling more than 7000 W", POWER)["power"] == (
        "sensor.house_power"
    )


def test_a_word_may_name_an_entity_by_its_start() -> None:
    sensor = Param("power", "entity", domains=("sensor",), device_classes=("power",))
    assert _fill("when the wash cycle pulls over 2000 W", sensor) == {
        "power": "sensor.washer_power"
    }


def test_a_place_the_home_lacks_is_a_problem_not_a_guess() -> None:
    filled = FILLER.fill("turn on the light in the attic when someone walks in", [LIGHT])

    assert "light" not in filled.values
    assert filled.problems == (
        "the home has no light in the attic (no area or device called that)",
    )


def test_an_area_with_several_of_a_kind_picks_one_and_says_so() -> None:
    filled = FILLER.fill("turn on the kitchen light at 7am", [LIGHT])

    assert filled.values["light"] == "light.kitchen_ceiling"
    assert filled.notes[0].startswith("light: picked light.kitchen_ceiling of 2")


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("at 7am", ["07:00:00"]),
        ("at 7:30 pm", ["19:30:00"]),
        ("between 11pm and 6am", ["23:00:00", "06:00:00"]),
        ("off at 23:30, on at midnight", ["23:30:00", "00:00:00"]),
        ("lock up every evening at 9", ["21:00:00"]),
        ("at 7 in the morning, and every night at 10:30pm", ["07:00:00", "22:30:00"]),
        ("fan on at 30", []),
        ("for 30 minutes", []),
        ("lights off at half past eleven", ["11:30:00"]),
        ("open the blinds at 7.30am", ["07:30:00"]),
        ("quarter to seven", ["06:45:00"]),
        ("start the mower at 9 on saturdays", ["09:00:00"]),
        ("fan at 50% at 7pm", ["19:00:00"]),
        ("set it to 21 at 9 o'clock", ["09:00:00"]),
    ],
)
def test_times_of_day_are_read_in_order(prompt: str, expected: list[str]) -> None:
    assert clock_times(prompt) == expected


def test_each_number_goes_where_its_words_say() -> None:
    params = (
        Param("degrees", "number", description="the temperature below which it heats"),
        Param("target", "number", description="the temperature to set"),
        Param("brightness", "number", unit="percent"),
    )
    prompt = "if the lounge drops below 18 degrees set the thermostat to 21 at 10% brightness"
    assert _fill(prompt, *params) == {"degrees": 18, "target": 21, "brightness": 10}


def test_two_targets_are_read_in_order() -> None:
    params = (
        Param("first_target", "number", description="the first temperature to set"),
        Param("second_target", "number", description="the second temperature to set"),
    )
    assert _fill("thermostat to 17 at 10:30pm, to 20 at 6:30am", *params) == {
        "first_target": 17,
        "second_target": 20,
    }


def test_an_interval_and_a_time_limit_are_told_apart() -> None:
    params = (
        Param("interval", "duration", unit="seconds", description="how often it reports"),
        Param("minutes", "duration", unit="minutes", description="how long it stays on"),
    )
    assert _fill("report every 30 s and stay on for 5 minutes", *params) == {
        "interval": 30,
        "minutes": 5,
    }


def test_pins_are_read_in_order_and_d_labels_are_gpio_numbers() -> None:
    params = (Param("button", "pin"), Param("relay", "pin"), Param("led", "pin"))
    assert _fill("button on GPIO0, relay on pin 12, LED on D7", *params) == {
        "button": 0,
        "relay": 12,
        "led": 13,
    }


AUTOMATION = """alias: Light
triggers:
  - trigger: state
    entity_id: binary_sensor.hallway_motion
    to: "on"
actions:
  - action: light.turn_on
    target:
      entity_id: light.hallway
"""


def _conditions(prompt: str, mentioned: tuple[str, ...] = ()) -> list[dict[str, object]]:
    refined = yaml.safe_load(refine_automation(AUTOMATION, prompt, HOME, mentioned=mentioned))
    conditions: list[dict[str, object]] = refined.get("conditions", [])
    return conditions


def test_a_time_window_and_weekdays_become_one_time_condition() -> None:
    assert _conditions("only between 11pm and 6am on weekdays") == [{
        "condition": "time", "after": "23:00:00", "before": "06:00:00",
        "weekday": ["mon", "tue", "wed", "thu", "fri"],
    }]  # fmt: skip


def test_after_dark_and_nobody_home_become_conditions() -> None:
    assert _conditions("after dark, but only if nobody is home") == [
        {"condition": "sun", "after": "sunset", "before": "sunrise"},
        {"condition": "state", "entity_id": ["person.alex", "person.sam"], "state": "not_home"},
    ]


def test_a_named_sensor_the_snippet_does_not_use_becomes_a_condition() -> None:
    assert _conditions("while I'm in the office", ("binary_sensor.office_occupancy",)) == [
        {"condition": "state", "entity_id": "binary_sensor.office_occupancy", "state": "on"}
    ]


def test_a_request_that_adds_nothing_leaves_the_snippet_as_written() -> None:
    assert refine_automation(AUTOMATION, "turn on the light", HOME) == AUTOMATION


@pytest.mark.parametrize(
    ("prompt", "days"),
    [
        ("on weekdays", ["mon", "tue", "wed", "thu", "fri"]),
        ("at the weekend", ["sat", "sun"]),
        ("on Mondays, Wednesdays and Fridays", ["mon", "wed", "fri"]),
        ("every day", []),
        ("at 9 on sat and sun", ["sat", "sun"]),
        ("every fri", ["fri"]),
        ("close the blinds at sunset", []),
    ],
)
def test_the_days_a_request_names(prompt: str, days: list[str]) -> None:
    assert weekdays(prompt) == days


@pytest.mark.parametrize(
    ("prompt", "fmt"),
    [
        ("an ESPHome config for a DHT22 on GPIO4", "esphome"),
        ("MicroPython on an ESP32 that blinks an LED", "micropython"),
        ("a shell one-liner that watches the garage door topic", "shell"),
        ("paho-mqtt script that logs every message", "python"),
        ("when the door opens, notify me", "homeassistant-automation"),
    ],
)
def test_the_format_is_read_from_the_words_when_not_given(prompt: str, fmt: str) -> None:
    assert format_of(prompt) == fmt


def test_a_pin_given_beside_its_name_goes_to_that_name() -> None:
    params = (Param("button", "pin"), Param("relay", "pin"))
    assert _fill("relay on GPIO26, button on GPIO25", *params) == {"button": 25, "relay": 26}


def test_a_d1_mini_is_a_board_not_pin_d1() -> None:
    assert _fill("a Wemos D1 mini with a DHT11 on D5", Param("pin", "pin")) == {"pin": 14}


def test_a_pin_is_no_count_of_anything() -> None:
    assert _fill("WS2812 strip on pin 5", Param("num_leds", "number")) == {}


@pytest.mark.parametrize(
    ("prompt", "value"),
    [
        ("humidity > 75% -> fan on", 75),
        ("when the lux reads above 20,000", 20000),
        ("solar production goes over 3 kW", 3000),
        ("drops under 19.5°C", 19.5),
        ("whenever the office gets hotter than 27", 27),
    ],
)
def test_thresholds_are_read_however_they_are_written(prompt: str, value: float) -> None:
    assert _fill(prompt, Param("threshold", "number")) == {"threshold": value}


def test_what_the_request_also_names_is_switched_with_the_snippets_own() -> None:
    refined = yaml.safe_load(
        refine_automation(
            AUTOMATION,
            "turn on the hall light and the kitchen strip",
            HOME,
            mentioned=("light.hallway", "light.kitchen_strip"),
        )
    )

    assert refined["actions"][1] == {
        "action": "homeassistant.turn_on",
        "target": {"entity_id": ["light.kitchen_strip"]},
    }


@pytest.mark.parametrize(
    ("entity_id", "clause", "action"),
    [
        ("cover.driveway_gate", "and the driveway gate opened for the fire brigade",
         {"action": "cover.open_cover", "target": {"entity_id": "cover.driveway_gate"}}),
        ("vacuum.rosie", "send rosie off to clean",
         {"action": "vacuum.start", "target": {"entity_id": "vacuum.rosie"}}),
        ("climate.heat_pump", "drop the heat pump to 16",
         {"action": "climate.set_temperature", "target": {"entity_id": "climate.heat_pump"},
          "data": {"temperature": 16}}),
        ("lock.front", "unlock the front door",
         {"action": "lock.unlock", "target": {"entity_id": "lock.front"}}),
        ("media_player.tv", "switch off the telly",
         {"action": "homeassistant.turn_off", "target": {"entity_id": "media_player.tv"}}),
        ("vacuum.rosie", "pause rosie",
         {"action": "vacuum.pause", "target": {"entity_id": "vacuum.rosie"}}),
        ("cover.blinds", "raise the blinds to 50%",
         {"action": "cover.set_cover_position", "target": {"entity_id": "cover.blinds"},
          "data": {"position": 50}}),
        ("cover.awning", "retract the awning",
         {"action": "cover.close_cover", "target": {"entity_id": "cover.awning"}}),
        ("valve.sprinklers", "sprinklers on",
         {"action": "valve.open_valve", "target": {"entity_id": "valve.sprinklers"}}),
        ("media_player.tv", "pause the telly",
         {"action": "media_player.media_pause", "target": {"entity_id": "media_player.tv"}}),
        ("light.porch", "the porch light", None),
        ("alarm_control_panel.house", "arm the alarm (away) when we have both left home",
         {"action": "alarm_control_panel.alarm_arm_away",
          "target": {"entity_id": "alarm_control_panel.house"}}),
        ("alarm_control_panel.house", "arm the alarm for the night",
         {"action": "alarm_control_panel.alarm_arm_night",
          "target": {"entity_id": "alarm_control_panel.house"}}),
        ("alarm_control_panel.house", "disarm the alarm when priya gets home",
         {"action": "alarm_control_panel.alarm_disarm",
          "target": {"entity_id": "alarm_control_panel.house"}}),
        ("counter.door_openings", "increment the door openings counter",
         {"action": "counter.increment", "target": {"entity_id": "counter.door_openings"}}),
        ("counter.door_openings", "reset the door openings counter",
         {"action": "counter.reset", "target": {"entity_id": "counter.door_openings"}}),
        ("timer.laundry", "start the laundry timer for 45 minutes",
         {"action": "timer.start", "target": {"entity_id": "timer.laundry"},
          "data": {"duration": "00:45:00"}}),
        ("lawn_mower.mowbot", "send the mower back to its dock",
         {"action": "lawn_mower.dock", "target": {"entity_id": "lawn_mower.mowbot"}}),
        ("lawn_mower.mowbot", "the mower starts at 9",
         {"action": "lawn_mower.start_mowing", "target": {"entity_id": "lawn_mower.mowbot"}}),
        ("water_heater.cylinder", "set the hot water to eco mode",
         {"action": "water_heater.set_operation_mode",
          "target": {"entity_id": "water_heater.cylinder"}, "data": {"operation_mode": "eco"}}),
        ("water_heater.cylinder", "immersion to 60 degrees",
         {"action": "water_heater.set_temperature",
          "target": {"entity_id": "water_heater.cylinder"}, "data": {"temperature": 60}}),
        ("humidifier.nursery", "set the nursery humidifier to 45%",
         {"action": "humidifier.set_humidity", "target": {"entity_id": "humidifier.nursery"},
          "data": {"humidity": 45}}),
        ("number.ev_current", "set the charge current to 10 amps",
         {"action": "number.set_value", "target": {"entity_id": "number.ev_current"},
          "data": {"value": 10}}),
        ("siren.outdoor", "sound the siren",
         {"action": "siren.turn_on", "target": {"entity_id": "siren.outdoor"}}),
        ("lock.terrace", "lock the terrace door again 5 min after it's unlocked",
         {"action": "lock.lock", "target": {"entity_id": "lock.terrace"}}),
    ],
)  # fmt: skip
def test_the_action_a_clause_asks_of_an_entity(
    entity_id: str, clause: str, action: dict[str, object] | None
) -> None:
    assert action_for(entity_id, clause) == action


def test_a_clause_that_names_an_entity_in_another_form_of_its_word() -> None:
    # "charging" of EV Charger: the clause that asks something comes after the one that
    # shares a word ("car") with its alias.
    prompt = "car plugged in after 11pm? start charging"
    assert clauses_naming(prompt, ("EV Charger", "car charger"))[-1] == " start charging"


def test_the_clause_that_names_an_entity() -> None:
    prompt = "When smoke is detected turn on the stair lights, and open the Driveway Gate"
    assert clause_naming(prompt, ("Driveway Gate",)) == " open the driveway gate"


def test_everything_under_a_topic_is_its_wildcard() -> None:
    assert _fill("watch everything under zigbee2mqtt", Param("topic", "topic")) == {
        "topic": "zigbee2mqtt/#"
    }


@pytest.mark.parametrize(
    ("prompt", "payload"),
    [
        ("mosquitto_pub OFF to home/lamp/set", "OFF"),
        ("shell script for cron: mosquitto_pub fill to yard/tank/cmd", "fill"),
        ("when pressed publish toggle to shed/pump/set over MQTT", "toggle"),
        ("when pressed publish a message to shed/pump/set", None),
        ("the button publishes `pressed` to jetty/button", "pressed"),
    ],
)
def test_the_message_a_command_sends_is_its_payload(prompt: str, payload: str | None) -> None:
    values = _fill(prompt, Param("topic", "topic"), Param("payload", "text"))
    assert values.get("payload") == payload


def test_the_token_is_read_from_the_variable_the_request_names() -> None:
    code = 'TOKEN = os.environ["HA_TOKEN"]\n'
    assert token_variable(code, "long-lived token in the HASS_TOKEN env var") == (
        'TOKEN = os.environ["HASS_TOKEN"]\n'
    )


def test_a_threshold_s_unit_says_which_sensor_it_is() -> None:
    sensor = Param("sensor", "entity", domains=("sensor",))
    assert _fill("when the kitchen draws more than 2.5kW", sensor) == {
        "sensor": "sensor.washer_power"
    }
    assert _fill("when the house draws more than 2.5kW", sensor) == {"sensor": "sensor.house_power"}


def test_all_of_a_kind_is_every_one_of_them() -> None:
    assert _fill("lock all the doors at 11pm", LOCK) == {
        "lock": "[lock.front_door, lock.back_door]"
    }


def test_a_name_made_of_kind_words_is_told_apart_by_them() -> None:
    assert _fill("the kitchen strip up to 60%", LIGHT) == {"light": "light.kitchen_strip"}


def test_a_url_and_folders_are_read_where_they_belong() -> None:
    params = (
        Param("url", "url", default="http://x"),
        Param("source", "path", default="/config", description="the folder backed up"),
        Param("dest", "path", default="/backup", description="the folder the archives go to"),
    )
    prompt = "tar /srv/ha into /mnt/backup and POST to http://10.0.0.2:8123/api/webhook/done."
    assert _fill(prompt, *params) == {
        "url": "http://10.0.0.2:8123/api/webhook/done",
        "source": "/srv/ha",
        "dest": "/mnt/backup",
    }


def test_what_a_request_spells_out_is_counted_by_kind() -> None:
    assert stated("relay on D1 and a button on D3, publish to home/relay/state every 5 s") == {
        "pin": 2,
        "topic": 1,
        "duration": 1,
    }
    assert stated("turn on/off the light") == {}


def _refined(prompt: str, mentioned: tuple[str, ...] = ()) -> dict[str, object]:
    refined: dict[str, object] = yaml.safe_load(
        refine_automation(AUTOMATION, prompt, HOME, mentioned=mentioned)
    )
    return refined


def test_a_notification_asked_for_is_added_at_the_end() -> None:
    actions = _refined("turn on the light and ping my phone")["actions"]
    assert isinstance(actions, list) and actions[-1]["action"] == "notify.notify"


def test_a_level_the_request_gives_goes_into_the_snippet_s_own_action() -> None:
    actions = _refined("hall light on at 30 percent", ("light.hallway",))["actions"]
    assert actions == [
        {"action": "light.turn_on", "target": {"entity_id": "light.hallway"},
         "data": {"brightness_pct": 30}},
    ]  # fmt: skip


def test_a_sensor_compared_with_a_number_becomes_a_numeric_condition() -> None:
    conditions = _conditions("only if the house power is above 3000", ("sensor.house_power",))
    assert conditions == [
        {"condition": "numeric_state", "entity_id": "sensor.house_power", "above": 3000}
    ]


def test_a_sun_offset_and_a_sun_window_the_request_gives() -> None:
    sun = AUTOMATION.replace(
        '  - trigger: state\n    entity_id: binary_sensor.hallway_motion\n    to: "on"\n',
        "  - trigger: sun\n    event: sunset\n",
    )
    refined = yaml.safe_load(refine_automation(sun, "15 minutes after sunset", HOME))
    assert refined["triggers"][0]["offset"] == {"minutes": 15}
    assert _conditions("motion between sunset and 11pm") == [
        {"condition": "sun", "after": "sunset"},
        {"condition": "time", "before": "23:00:00"},
    ]


@pytest.mark.parametrize(
    ("prompt", "minutes"),
    [("check every half hour", 30), ("every half-hour", 30), ("each quarter of an hour", 15)],
)
def test_a_part_of_an_hour_is_an_interval_in_minutes(prompt: str, minutes: int) -> None:
    interval = Param("interval", "duration", unit="minutes", description="how often it checks")
    assert _fill(prompt, interval) == {"interval": minutes}


def test_the_level_a_reading_gets_back_to_is_the_second_threshold() -> None:
    below = Param("below", "number", description="the reading below which it goes on")
    above = Param("above", "number", description="the reading above which it goes off")
    assert _fill("tub temp falls below 36 -> heater on; gets to 38 -> heater off",
                 below, above) == {"below": 36, "above": 38}  # fmt: skip
