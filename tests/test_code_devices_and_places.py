"""Devices and places read from a request, and what it adds to a snippet: watering means a
sprinkler, a word in another form names a device, the devices a request puts beside a
snippet's own on one ESPHome node, a sensor that reports only on a change, relays that must
never be on together, a schedule given as a window, the places an "all lights" action is
narrowed to, who must be home, and a device named without its kind word or put in a state
as a condition. Pure, on inline homes."""

from __future__ import annotations

import yaml

from slm_mesh.services.code_snippet.esphome_extras import with_extras
from slm_mesh.services.code_snippet.fill import Filler
from slm_mesh.services.code_snippet.library import Param
from slm_mesh.services.code_snippet.refine import refine_automation
from slm_mesh.services.code_snippet.request_pins import pin_mentions
from slm_mesh.services.code_snippet.state_conditions import state_conditions
from slm_mesh.services.code_snippet.trigger_kind import (
    schedule_window,
    trigger_kinds,
    trigger_times,
)
from slm_mesh.services.home.model import parse_home

HOME = parse_home("""
floors: [{id: ground, name: Ground Floor, aliases: [downstairs]}, {id: top, name: Top Floor}]
areas:
  - {id: kitchen, name: Kitchen, floor: ground}
  - {id: hall, name: Hall, floor: ground}
  - {id: bathroom, name: Loft Bathroom, floor: top}
  - {id: nursery, name: Nursery, floor: top}
  - {id: garden, name: Front Garden, aliases: [front lawn]}
entities:
  - {id: light.kitchen, name: Kitchen Spots, area: kitchen}
  - {id: light.hall, name: Hall Pendant, area: hall}
  - {id: light.nursery, name: Night Light, area: nursery}
  - {id: switch.fountain, name: Water Feature Pump, area: garden}
  - {id: valve.sprinkler, name: Lawn Sprinkler, area: garden}
  - {id: valve.water_main, name: Water Main, area: kitchen}
  - {id: fan.extractor, name: Loft Bathroom Extractor, area: bathroom}
  - {id: sensor.bathroom_humidity, name: Loft Bathroom Humidity, area: bathroom,
     attributes: {device_class: humidity}}
  - {id: sensor.nursery_humidity, name: Nursery Humidity, area: nursery,
     attributes: {device_class: humidity}}
  - {id: sensor.grid_power, name: Grid Power, attributes: {device_class: power}}
  - {id: sensor.energy_today, name: Daily Energy, attributes: {device_class: energy}}
  - {id: binary_sensor.rain, name: Rain Sensor, attributes: {device_class: moisture}}
  - {id: lawn_mower.mowbot, name: Mowbot, area: garden, aliases: [mower]}
  - {id: person.priya, name: Priya}
  - {id: person.dan, name: Dan}
""")
FILLER = Filler(home=HOME)
WATERED = Param("device", "entity", domains=("switch", "valve"))
SENSOR = Param("sensor", "entity", domains=("sensor",))
POWER = Param("power", "entity", domains=("sensor",), device_classes=("power",))
LIGHTS = Param("light", "entity", domains=("light",))


def _fill(prompt: str, *params: Param) -> dict[str, object]:
    return dict(FILLER.fill(prompt, params).values)


def test_watering_means_the_sprinkler_not_a_device_named_water() -> None:
    assert _fill("water the front lawn for 20 minutes at 6am", WATERED)["device"] == (
        "valve.sprinkler"
    )


def test_a_word_in_another_form_names_a_device() -> None:
    mentioned = [
        m.target.id for m in FILLER.mentions("dock the mower when it starts raining").entities
    ]
    assert "binary_sensor.rain" in mentioned


def test_a_loosely_named_sensor_is_the_one_beside_the_named_device() -> None:
    prompt = "loft bathroom extractor on when the humidity goes over 70%"
    assert _fill(prompt, SENSOR)["sensor"] == "sensor.bathroom_humidity"


def test_a_threshold_in_another_unit_is_no_reading_of_that_kind() -> None:
    filled = FILLER.fill("when today's energy use exceeds 20 kWh, alert me", [POWER])
    assert filled.problems and "power" not in filled.values


def test_the_lights_of_a_floor_the_request_names() -> None:
    assert _fill("downstairs lights off when everyone has left", LIGHTS)["light"] == (
        "[light.kitchen, light.hall]"
    )


def test_a_window_with_nothing_else_to_trigger_on_is_a_schedule() -> None:
    assert schedule_window("charge the car from 1am to 5am")
    assert trigger_kinds("charge the car from 1am to 5am") == {"time"}
    assert trigger_times("charge the car from 1am to 5am") == 2
    assert not schedule_window("hall motion between 11pm and 6am -> stair lights on")


def test_a_named_pin_beside_its_name_is_read_bare() -> None:
    sda = Param("sda", "pin")
    assert _fill("bme280 on i2c (sda 21, scl 22) plus a PIR on GPIO27", sda) == {"sda": 21}


ESPHOME = """esphome:
  name: node

esp32:
  board: esp32dev

sensor:
  - platform: dht
    pin: GPIO14
    temperature:
      name: Temperature
    humidity:
      name: Humidity
    update_interval: 60s
"""


def test_the_devices_a_request_puts_beside_the_snippets_own() -> None:
    prompt = "DHT22 on GPIO14, a relay on GPIO23 and a PIR on GPIO27"
    assert [pin for pin, _ in pin_mentions(prompt)] == [14, 23, 27]
    config = yaml.safe_load(with_extras(ESPHOME, prompt))
    assert config["switch"] == [
        {"platform": "gpio", "pin": "GPIO23", "name": "Relay GPIO23", "id": "relay_23"}
    ]
    (motion,) = config["binary_sensor"]
    assert motion["pin"]["number"] == "GPIO27" and motion["device_class"] == "motion"
    assert config["sensor"][0]["pin"] == "GPIO14"


def test_a_pin_with_no_word_for_what_is_on_it_adds_nothing() -> None:
    assert with_extras(ESPHOME, "dht on GPIO14 and GPIO5") == ESPHOME


def test_a_sensor_reporting_only_on_a_change_of_the_quantity_named() -> None:
    config = yaml.safe_load(with_extras(ESPHOME, "only send when the temperature changes by 0.5"))
    assert config["sensor"][0]["temperature"]["filters"] == [{"delta": 0.5}]
    assert "filters" not in config["sensor"][0]["humidity"]


def test_a_delta_goes_after_the_filters_a_sensor_has() -> None:
    adc = ESPHOME.replace(
        "    temperature:\n      name: Temperature\n    humidity:\n      name: Humidity\n",
        "    name: Soil\n    filters:\n      - calibrate_linear:\n          - 0.85 -> 0.0\n"
        "          - 0.45 -> 100.0\n",
    )
    config = yaml.safe_load(with_extras(adc, "publish on a 2% change"))
    assert config["sensor"][0]["filters"][-1] == {"delta": 2}


ALL_LIGHTS_OFF = """alias: All lights off
triggers:
  - trigger: time
    at: "23:00:00"
actions:
  - action: light.turn_off
    target:
      entity_id: all
"""


def test_every_light_is_narrowed_to_the_floor_the_request_names() -> None:
    code = refine_automation(ALL_LIGHTS_OFF, "all the downstairs lights off at 11pm", HOME)
    assert yaml.safe_load(code)["actions"][0]["target"]["entity_id"] == [
        "light.kitchen",
        "light.hall",
    ]
    assert refine_automation(ALL_LIGHTS_OFF, "all lights off at 11pm", HOME) == ALL_LIGHTS_OFF


def test_someone_home_is_any_person_home() -> None:
    code = refine_automation(ALL_LIGHTS_OFF, "lights off at 11pm if someone is home", HOME)
    (condition,) = yaml.safe_load(code)["conditions"]
    assert condition["condition"] == "or" and len(condition["conditions"]) == 2


DOORS = parse_home("""
areas: [{id: hall, name: Hall}, {id: terrace, name: Terrace}]
entities:
  - {id: lock.front_door, name: Front Door Lock, area: hall}
  - {id: binary_sensor.front_door, name: Front Door Contact, area: hall,
     attributes: {device_class: door}}
  - {id: binary_sensor.terrace_door, name: Terrace Door Contact, area: terrace,
     attributes: {device_class: door}}
  - {id: alarm_control_panel.house, name: House Alarm, aliases: [alarm]}
  - {id: siren.outdoor, name: Outdoor Siren, aliases: [siren]}
  - {id: media_player.tv, name: TV}
""")


def _named(prompt: str) -> set[str]:
    return {m.target.id for m in Filler(home=DOORS).mentions(prompt).entities}


def test_a_device_named_without_its_kind_word_is_the_one_its_verb_acts_on() -> None:
    assert "binary_sensor.front_door" in _named("when the front door opens, sound the siren")
    assert "lock.front_door" in _named("lock the front door at 11pm")
    assert {"binary_sensor.front_door", "binary_sensor.terrace_door"} <= _named(
        "when either the front door or the terrace door opens, sound the siren"
    )


def test_a_state_a_device_must_be_in_is_a_condition_not_an_action() -> None:
    prompt = "when the front door opens while the alarm is armed, sound the siren"
    assert [(e.id, s) for e, s in state_conditions(prompt, DOORS)] == [
        ("alarm_control_panel.house", ["armed_away", "armed_home", "armed_night", "armed_vacation"])
    ]
    assert [(e.id, s) for e, s in state_conditions("only if the tv is off", DOORS)] == [
        ("media_player.tv", "off")
    ]
    steps = Filler(home=DOORS).fill(prompt, [Param("steps", "actions")]).values["steps"]
    assert "siren.turn_on" in str(steps) and "alarm_arm" not in str(steps)


FOUR_RELAYS = """switch:
  - platform: gpio
    id: relay_1
    pin: GPIO16
  - platform: gpio
    id: relay_2
    pin: GPIO17
  - platform: gpio
    id: relay_3
    pin: GPIO18
"""


def test_the_relays_named_are_interlocked_with_each_other() -> None:
    config = yaml.safe_load(with_extras(FOUR_RELAYS, "relays 2 and 3 must be interlocked"))
    assert [s.get("interlock") for s in config["switch"]] == [None, ["relay_3"], ["relay_2"]]
    assert with_extras(FOUR_RELAYS, "three relays") == FOUR_RELAYS


def test_numbers_that_run_on_from_a_gpio_are_gpios_but_a_count_is_not() -> None:
    pins = Param("first", "pin"), Param("second", "pin"), Param("third", "pin")
    assert _fill("relay board on GPIO16, 17 and 18", *pins) == {
        "first": 16,
        "second": 17,
        "third": 18,
    }
    assert _fill("dht on GPIO4 and 2 relays", *pins) == {"first": 4}
