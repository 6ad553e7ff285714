"""Triggers named by what fires them (a webhook, a tag, a restart, a zone, an MQTT topic),
the conditions and values people write around them, and actions written as the domain's
own: pure, on an inline home."""

from __future__ import annotations

import pytest
import yaml

from slm_mesh.services.code_snippet.actions import action_for
from slm_mesh.services.code_snippet.compose import action_targets, composed_actions, trigger_text
from slm_mesh.services.code_snippet.domain_actions import own_domain_actions, own_service_path
from slm_mesh.services.code_snippet.fill import Filler
from slm_mesh.services.code_snippet.library import Param, Snippet, SnippetTest
from slm_mesh.services.code_snippet.publish_options import with_retain
from slm_mesh.services.code_snippet.refine import refine_automation
from slm_mesh.services.code_snippet.request_clock import clock_times
from slm_mesh.services.code_snippet.snippet_fit import verb_disagrees, verbs
from slm_mesh.services.code_snippet.state_conditions import state_conditions
from slm_mesh.services.code_snippet.trigger_fit import asked_trigger, trigger_fit
from slm_mesh.services.code_snippet.trigger_kind import trigger_kinds, trigger_phrase
from slm_mesh.services.home.model import parse_home

HOME = parse_home("""
areas: [{id: kitchen, name: Kitchen}, {id: closet, name: Walk-in Wardrobe, aliases: [closet]}]
entities:
  - {id: light.kitchen_strip, name: Kitchen Strip, area: kitchen, aliases: [the strip]}
  - {id: light.wardrobe, name: Wardrobe Light, area: closet, aliases: [closet light]}
  - {id: switch.coffee_machine, name: Coffee Machine, area: kitchen, aliases: [the Gaggia]}
  - {id: sensor.coffee_machine_power, name: Coffee Machine Power, area: kitchen,
     attributes: {device_class: power}}
  - {id: sensor.house_power, name: House Power, attributes: {device_class: power}}
  - {id: sensor.greenhouse_temperature, name: Greenhouse Temperature,
     attributes: {device_class: temperature}}
  - {id: valve.stopcock, name: Stopcock}
  - {id: climate.heat_pump, name: Heat Pump}
  - {id: scene.bedtime, name: Bedtime, aliases: [lights out]}
  - {id: scene.film_night, name: Film Night}
  - {id: person.maya, name: Maya}
  - {id: person.jordan, name: Jordan}
""")
FILLER = Filler(home=HOME)
AUTOMATION = """alias: Every hour
triggers:
  - trigger: time_pattern
    minutes: "/15"
actions:
  - action: homeassistant.turn_on
    target:
      entity_id: valve.stopcock
"""


def _refined(prompt: str, mentioned: tuple[str, ...] = ()) -> dict[str, object]:
    refined: dict[str, object] = yaml.safe_load(
        refine_automation(AUTOMATION, prompt, HOME, mentioned=mentioned)
    )
    return refined


@pytest.mark.parametrize(
    ("prompt", "kind"),
    [
        ("webhook id gate_open from my phone -> open the gate", "webhook"),
        ("NFC sticker by the door, tag id boots-off. Scanning it unlocks the door", "tag"),
        ("after HA restarts, make sure the stopcock is open", "homeassistant"),
        ("On Home Assistant start-up, notify us if the smoke alarm is on", "homeassistant"),
        ("zone trigger: when Tom leaves the allotment", "zone"),
        ("soil node posts 'dry' to greenhouse/soil/alert -> open the valve", "mqtt"),
        ("my button publishes on zigbee2mqtt/hall/action. single should toggle the lamp", "mqtt"),
        ("the float switch publishes to tank/level. When it says LOW open the stopcock", "mqtt"),
    ],
)
def test_a_trigger_named_by_what_fires_it(prompt: str, kind: str) -> None:
    assert trigger_kinds(prompt) == {kind}


@pytest.mark.parametrize(
    ("prompt", "kinds"),
    [
        ("hall pir -> hall lamp on, but only if the lux is under 15 lx", {"state"}),
        (
            "when the temp is over 25 turn the fan on, only if the window is closed",
            {"numeric_state"},
        ),
        ("only if the lux is under 15 turn the light on", {"numeric_state"}),
    ],
)
def test_a_reading_compared_only_in_an_only_if_is_no_trigger(prompt: str, kinds: set[str]) -> None:
    assert trigger_kinds(prompt) == kinds


def test_a_topic_the_automation_publishes_to_is_no_mqtt_trigger() -> None:
    assert "mqtt" not in trigger_kinds("when the door opens, publish open to home/door/state")
    assert "mqtt" not in trigger_kinds("switch the stopcock off and send OFF to home/valve/state")


def test_a_threshold_said_in_words_asks_for_a_numeric_trigger() -> None:
    assert trigger_kinds("when its power has been under five watts, switch it off") == {
        "numeric_state"
    }


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("half eleven every night: lights off", ["23:30:00"]),
        ("at 2:00 every night", ["02:00:00"]),
        ("7:15 in the evening", ["19:15:00"]),
        ("run it for half an hour", []),
    ],
)
def test_times_said_the_british_way_and_before_their_part_of_the_day(
    prompt: str, expected: list[str]
) -> None:
    assert clock_times(prompt) == expected


def test_half_an_hour_after_sunrise_is_a_sun_trigger_with_its_offset() -> None:
    prompt = "Half an hour after sunrise open the blind"
    assert trigger_kinds(prompt) == {"sun"}
    sun = AUTOMATION.replace('trigger: time_pattern\n    minutes: "/15"', "trigger: sun\n    "
                             "event: sunrise")  # fmt: skip
    refined = yaml.safe_load(refine_automation(sun, prompt, HOME))
    assert refined["triggers"][0]["offset"] == {"minutes": 30}


def test_each_person_said_to_be_out_is_a_condition() -> None:
    conditions = _refined("Saturday 9:30, but only if Maya and Jordan are both out")["conditions"]
    assert conditions == [
        {"condition": "time", "weekday": ["sat"]},
        {"condition": "state", "entity_id": "person.maya", "state": "not_home"},
        {"condition": "state", "entity_id": "person.jordan", "state": "not_home"},
    ]
    assert _refined("but only if Maya's out")["conditions"] == [
        {"condition": "state", "entity_id": "person.maya", "state": "not_home"}
    ]


def test_if_it_is_dark_is_a_sun_condition() -> None:
    assert _refined("and put the porch light on if it's dark")["conditions"] == [
        {"condition": "sun", "after": "sunset", "before": "sunrise"}
    ]


def test_the_one_sensor_beside_a_schedule_takes_the_request_s_one_comparison() -> None:
    refined = _refined(
        "every 15 minutes check the greenhouse thermometer and if it's under 3°C open it",
        ("sensor.greenhouse_temperature",),
    )
    assert refined["conditions"] == [
        {"condition": "numeric_state", "entity_id": "sensor.greenhouse_temperature", "below": 3}
    ]


def test_a_thermometer_names_a_temperature_sensor() -> None:
    found = FILLER.mentions("check the greenhouse thermometer")
    assert [m.target.id for m in found.entities] == ["sensor.greenhouse_temperature"]


def test_on_and_off_of_a_valve_or_cover_are_its_own_open_and_close() -> None:
    steps = [
        {"action": "homeassistant.turn_on", "target": {"entity_id": "valve.stopcock"}},
        {"action": "homeassistant.turn_off", "target": {"entity_id": ["cover.a", "cover.b"]}},
        {"action": "homeassistant.turn_on", "target": {"entity_id": ["cover.a", "light.b"]}},
    ]
    assert own_domain_actions(steps)
    assert [s["action"] for s in steps] == [
        "valve.open_valve",
        "cover.close_cover",
        "homeassistant.turn_on",
    ]


def test_a_rest_call_uses_its_entity_s_own_domain() -> None:
    code = '-d \'{"entity_id": "light.snug_lamp"}\' "$HA_URL/api/services/homeassistant/turn_on"'
    assert "/api/services/light/turn_on" in own_service_path(code)
    lock = code.replace("light.snug_lamp", "lock.front_door")
    assert own_service_path(lock) == lock  # a lock has no turn_on


@pytest.mark.parametrize(
    ("prompt", "name"),
    [
        ("A webhook (id: film-night) that turns the telly on", "film-night"),
        ("scanning tag nursery-bedtime should lower the shade", "nursery-bedtime"),
        ("shell: fire the film-night webhook on HA with curl", "film-night"),
        ("a webhook called coffee-now", "coffee-now"),
    ],
)
def test_a_webhook_or_tag_id_is_read_where_it_is_written(prompt: str, name: str) -> None:
    assert FILLER.fill(prompt, [Param("id", "name", default="x")]).values == {"id": name}


def test_a_webhook_s_id_is_no_device_named() -> None:
    found = FILLER.mentions("shell: fire the film-night webhook on HA with curl")
    assert not found.entities


def test_a_webhook_url_the_request_does_not_write_takes_the_id_it_names() -> None:
    url = Param("url", "url", default="http://homeassistant.local:8123/api/webhook/pressed")
    assert FILLER.fill("POST to the HA webhook coffee-now", [url]).values == {
        "url": "http://homeassistant.local:8123/api/webhook/coffee-now"
    }


def test_a_payload_in_capitals_and_a_second_topic_are_read() -> None:
    params = [Param("payload", "text", default="ON"), Param("topic", "topic", default="a/b")]
    assert FILLER.fill("mosquitto_pub OFF to laundry/dehumidifier/set", params).values == {
        "payload": "OFF",
        "topic": "laundry/dehumidifier/set",
    }
    topics = [Param("topic", "topic", default="a/b"), Param("alert", "topic", default="a/c")]
    filled = FILLER.fill("publish to garden/soil and alert on garden/soil/alert", topics)
    assert filled.values == {"topic": "garden/soil", "alert": "garden/soil/alert"}


def test_a_common_word_of_a_name_alone_names_nothing() -> None:
    found = FILLER.mentions("the AC is left on when she heads out in the morning")
    assert "scene.bedtime" not in {m.target.id for m in found.entities}


def test_an_article_in_an_alias_tells_no_device_apart() -> None:
    light = Param("light", "entity", domains=("light",))
    filled = FILLER.fill("closet: light on when the closet sensor sees motion", [light])
    assert filled.values == {"light": "light.wardrobe"}


def test_a_device_s_own_reading_is_the_sensor_of_its_name() -> None:
    power = Param("power", "entity", domains=("sensor",), device_classes=("power",))
    filled = FILLER.fill("The Gaggia idles. When its power is under 5 W, switch it off", [power])
    assert filled.values == {"power": "sensor.coffee_machine_power"}


def test_what_is_asked_of_it_is_asked_of_the_one_device_named() -> None:
    steps = composed_actions(
        "The Gaggia sits there all day. Switch it off.",
        HOME,
        [e for e in HOME.entities if e.id == "switch.coffee_machine"],
    )
    assert steps == [
        {"action": "homeassistant.turn_off", "target": {"entity_id": "switch.coffee_machine"}}
    ]


def test_each_device_set_in_turn_takes_its_own_value() -> None:
    home = parse_home("""
entities:
  - {id: climate.down, name: Downstairs Heat Pump}
  - {id: climate.up, name: Upstairs Heat Pump}
""")
    steps = composed_actions(
        "at 6:30 set the downstairs heat pump to 21°C and upstairs to 19°C", home, home.entities
    )
    assert [(s["target"]["entity_id"], s["data"]["temperature"]) for s in steps] == [
        ("climate.down", 21),
        ("climate.up", 19),
    ]


def test_a_heating_temperature_after_at_is_set() -> None:
    assert action_for("climate.heat_pump", "set the heat pump to heat at 21°c") == {
        "action": "climate.set_temperature",
        "target": {"entity_id": "climate.heat_pump"},
        "data": {"temperature": 21},
    }
    assert action_for("climate.heat_pump", "at 7 turn on the heat pump") == {
        "action": "homeassistant.turn_on",
        "target": {"entity_id": "climate.heat_pump"},
    }


def _snippet(template: str) -> Snippet:
    return Snippet("s", "homeassistant-automation", "a snippet", ("x", "y"), {}, template,
                   SnippetTest({}, ("x",)))  # fmt: skip


def test_a_zone_trigger_that_fires_the_other_way_fits_less() -> None:
    prompt = "zone trigger: when Maya enters the gym, turn off the AC"
    asked = asked_trigger(prompt, trigger_phrase(prompt))
    zone = "triggers:\n  - trigger: zone\n    entity_id: person.maya\n    event: {}\n"
    assert trigger_fit(_snippet(zone.format("enter")), asked) > trigger_fit(
        _snippet(zone.format("leave")), asked
    )


def test_a_snippet_that_drops_a_trigger_time_fits_less() -> None:
    prompt = "weekdays at 6:30 turn the towel rail on, and off again at 7:30"
    asked = asked_trigger(prompt, trigger_phrase(prompt))
    one = "triggers:\n  - trigger: time\n    at: '06:30:00'\n"
    two = one + "  - trigger: time\n    at: '07:30:00'\n"
    assert trigger_fit(_snippet(two), asked) > trigger_fit(_snippet(one), asked)


def test_two_thresholds_crossed_opposite_ways_are_no_one_trigger_phrase() -> None:
    assert trigger_phrase("over 28°C open the vent, close it again when it drops under 22") is None


def test_publishing_is_no_answer_to_subscribing() -> None:
    publish = Snippet("p", "shell", "A command that publishes a message.", ("x", "y"), {},
                      "mosquitto_pub", SnippetTest({}, ("x",)))  # fmt: skip
    assert verb_disagrees(publish, verbs("mosquitto_sub for everything under home/#"))
    assert not verb_disagrees(publish, verbs("read the ADC and publish it"))


def test_a_relay_switched_on_and_off_opens_and_shuts_what_it_drives() -> None:
    relay = Snippet("r", "micropython", "Switches a relay on and off.", ("x", "y"), {},
                    "relay", SnippetTest({}, ("x",)))  # fmt: skip
    lamp = Snippet("l", "micropython", "Switches a lamp on and off.", ("x", "y"), {},
                   "lamp", SnippetTest({}, ("x",)))  # fmt: skip
    asked = verbs("open the solenoid for twenty minutes, then shut it")
    assert not verb_disagrees(relay, asked)
    assert verb_disagrees(lamp, asked)


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("at 10 past 7 on weekdays", ["07:10:00"]),
        ("twenty past six", ["06:20:00"]),
        ("at night (10pm-6am) set the heating to 19", ["22:00:00", "06:00:00"]),
        ("set the heat pump to heat at 21, please", []),
    ],
)
def test_minutes_past_the_hour_and_a_temperature_after_at(prompt: str, expected: list[str]) -> None:
    assert clock_times(prompt) == expected


def test_a_window_written_with_a_dash_is_a_condition_not_two_triggers() -> None:
    prompt = "kids room temp drops below sixteen degrees at night (10pm-6am) -> heating to 19"
    assert trigger_kinds(prompt) == {"numeric_state"}


def test_an_offset_said_in_words_shifts_the_sun_trigger() -> None:
    prompt = "twenty minutes before sunset close the blind"
    assert trigger_kinds(prompt) == {"sun"}
    sun = AUTOMATION.replace('trigger: time_pattern\n    minutes: "/15"', "trigger: sun\n    "
                             "event: sunset")  # fmt: skip
    assert yaml.safe_load(refine_automation(sun, prompt, HOME))["triggers"][0]["offset"] == {
        "minutes": -20
    }


def test_what_an_interval_compares_is_a_condition_not_a_trigger() -> None:
    assert trigger_kinds("every hour, if the soil probe is under 30% water the greenhouse") == {
        "time_pattern"
    }
    assert trigger_kinds("when the solar today passes 10 kWh notify me") == {"numeric_state"}


def test_every_hour_is_an_interval_of_one_hour() -> None:
    interval = Param("minutes", "duration", default=15, unit="minutes", description="interval")
    for prompt in ("every hour, open it for 5 minutes", "once an hour, on the hour"):
        assert FILLER.fill(prompt, [interval]).values == {"minutes": 60}


def test_watering_asked_of_a_valve_opens_it() -> None:
    assert action_for("valve.stopcock", "water the greenhouse for 5 minutes") == {
        "action": "valve.open_valve",
        "target": {"entity_id": "valve.stopcock"},
    }


def test_a_light_asked_to_flash_flashes() -> None:
    assert action_for("light.wardrobe", "flash the closet light") == {
        "action": "light.turn_on",
        "target": {"entity_id": "light.wardrobe"},
        "data": {"flash": "short"},
    }


def test_a_stopping_sensor_asks_for_a_trigger_on_off() -> None:
    prompt = "When the washer vibration stops for 5 minutes, notify me"
    asked = asked_trigger(prompt, trigger_phrase(prompt))
    state = "triggers:\n  - trigger: state\n    entity_id: binary_sensor.x\n    to: {}\n"
    assert trigger_fit(_snippet(state.format('"off"')), asked) > trigger_fit(
        _snippet(state.format('"on"')), asked
    )


def test_a_device_held_in_a_state_and_acted_on_is_both_condition_and_action() -> None:
    steps = Param("steps", "actions")
    door = Param("door", "entity", domains=("binary_sensor",))
    home = parse_home("""
entities:
  - {id: binary_sensor.terrace_door, name: Terrace Door, attributes: {device_class: door}}
  - {id: climate.ac, name: Air Con, aliases: [the AC]}
""")
    prompt = "terrace door left open for 5 minutes while the AC is on -> turn the AC off"
    filled = Filler(home=home).fill(prompt, [door, steps])
    assert yaml.safe_load(str(filled.values["steps"])) == [
        {"action": "homeassistant.turn_off", "target": {"entity_id": "climate.ac"}}
    ]


def test_a_person_away_beside_the_trigger_is_a_condition_not_its_trigger() -> None:
    person = Param("person", "entity", domains=("person",))
    filled = FILLER.fill("When Jordan gets home and Maya is away, switch the kettle on", [person])
    assert filled.values == {"person": "person.jordan"}


def test_a_threshold_in_kilowatts_said_in_words_is_in_watts() -> None:
    above = Param("above", "number", default=1000, description="the reading above which")
    assert FILLER.fill("when the house draws over three kilowatts", [above]).values == {
        "above": 3000
    }


def test_of_several_pins_the_snippet_s_is_the_one_beside_its_device() -> None:
    sensor = Param("pin", "pin", default=4, description="the GPIO the sensor's data pin is on")
    relay = Param("pin", "pin", default=12, description="the GPIO the relay's input is on")
    prompt = "esp32 with a relay on GPIO26 and a DHT22 on GPIO4"
    assert FILLER.fill(prompt, [sensor]).values == {"pin": 4}
    assert FILLER.fill(prompt, [relay]).values == {"pin": 26}


def test_a_retained_publish_is_retained() -> None:
    code = 'mosquitto_pub -h "$MQTT_HOST" -t "a/b" -m "ON"'
    assert with_retain(code, "mosquitto_pub a retained ON to a/b").startswith("mosquitto_pub -r ")
    assert with_retain(code, "mosquitto_pub ON to a/b") == code


def test_days_said_as_exceptions_are_every_other_day() -> None:
    assert _refined("at 6am except on Sundays")["conditions"] == [
        {"condition": "time", "weekday": ["mon", "tue", "wed", "thu", "fri", "sat"]}
    ]


def test_people_at_home_ask_for_a_trigger_to_home_not_away() -> None:
    prompt = "When both Tom and Hannah are home, set the heating to 20"
    asked = asked_trigger(prompt, trigger_phrase(prompt))
    person = "triggers:\n  - trigger: state\n    entity_id: person.tom\n    to: {}\n"
    assert trigger_fit(_snippet(person.format("home")), asked) > trigger_fit(
        _snippet(person.format("not_home")), asked
    )


def test_a_pin_s_name_in_brackets_after_it_goes_to_that_name() -> None:
    params = [Param("dout", "pin", default=1), Param("clk", "pin", default=2)]
    prompt = "HX711 load cell on GPIO16 (dout) and GPIO17 (clk)"
    assert FILLER.fill(prompt, params).values == {"dout": 16, "clk": 17}


def test_a_message_in_single_quotes_is_the_notification_s_text() -> None:
    steps = composed_actions("when it freezes, send 'frost warning' to my phone", HOME, [])
    assert steps == [{"action": "notify.notify", "data": {"message": "frost warning"}}]


def test_not_on_weekends_and_we_are_both_out_become_conditions() -> None:
    assert _refined("every morning at 7, but not on weekends")["conditions"] == [
        {"condition": "time", "weekday": ["mon", "tue", "wed", "thu", "fri"]}
    ]
    assert _refined("motion on the camera while we're both out")["conditions"] == [
        {"condition": "state", "entity_id": ["person.maya", "person.jordan"], "state": "not_home"}
    ]


def test_halfway_is_a_cover_s_middle_position() -> None:
    assert action_for("cover.shutters", "close the shutters halfway") == {
        "action": "cover.set_cover_position",
        "target": {"entity_id": "cover.shutters"},
        "data": {"position": 50},
    }


def test_unless_a_device_is_in_a_state_is_a_condition_on_the_other_state() -> None:
    home = parse_home("""
entities:
  - {id: lock.terrace_door, name: Terrace Door Lock}
  - {id: cover.awning, name: Awning}
""")
    assert state_conditions("close the awning unless the terrace door lock is unlocked", home) == [
        (home.entities[0], "locked")
    ]


def test_an_article_in_an_alias_does_not_tie_it_with_a_longer_name() -> None:
    home = parse_home("""
entities:
  - {id: switch.tub_heater, name: Hot Tub Heater, aliases: [tub heater]}
  - {id: climate.tub, name: Hot Tub, aliases: [the tub]}
""")
    assert state_conditions("notify me while the tub heater switch is on", home) == [
        (home.entities[0], "on")
    ]


def test_only_if_is_a_condition_not_what_sets_it_off() -> None:
    assert trigger_text("office presence for 30 minutes -> fan on, only if it's a weekday") == (
        "office presence for 30 minutes "
    )


def test_a_choice_written_with_a_slash_is_no_topic() -> None:
    topic = Param("topic", "topic", default="home/motion")
    filled = FILLER.fill("publish ON/OFF to home/hall/motion", [topic])
    assert filled.values == {"topic": "home/hall/motion"}


def test_both_of_a_kind_asks_it_of_each() -> None:
    home = parse_home("""
entities:
  - {id: climate.living_trv, name: Radiator Valve, aliases: [radiator]}
  - {id: climate.bedroom_trv, name: Bedroom Radiator}
  - {id: light.lamp, name: Lamp}
""")
    targets = action_targets(
        "15 min before sunrise, set both radiators to 20", home, [], set(), set()
    )
    assert [e.id for e in targets] == ["climate.living_trv", "climate.bedroom_trv"]


def test_a_place_a_one_domain_verb_acts_on_is_its_device_of_that_kind() -> None:
    home = parse_home("""
areas: [{id: shed, name: Shed}, {id: porch, name: Porch}]
entities:
  - {id: lock.shed, name: Shed Lock, area: shed}
  - {id: lock.porch, name: Porch Lock, area: porch}
  - {id: light.shed, name: Shed Light, area: shed}
""")
    targets = action_targets("scanning it should unlock the shed", home, [], set(), set())
    assert [e.id for e in targets] == ["lock.shed"]
    assert action_targets("scanning it should turn on the shed", home, [], set(), set()) == []
    porch = [e for e in home.entities if e.id == "lock.porch"]
    targets = action_targets("lock the porch lock and the shed", home, porch, set(), set())
    assert [e.id for e in targets] == ["lock.porch", "lock.shed"]


def test_a_state_said_the_other_way_round_is_the_opposite_state() -> None:
    assert state_conditions("at 8:15 run the roomba only if Maya isn't home", HOME) == [
        (next(e for e in HOME.entities if e.id == "person.maya"), "not_home")
    ]


def test_a_message_the_automation_sends_is_no_mqtt_trigger() -> None:
    assert "mqtt" not in trigger_kinds("when the door opens, send a message to home/door/state")


def test_each_press_a_button_reports_gets_its_own_actions() -> None:
    code = """alias: MQTT
triggers:
  - trigger: mqtt
    topic: zigbee2mqtt/button/action
    payload: single
actions:
  - action: homeassistant.toggle
    target:
      entity_id: light.wardrobe
"""
    prompt = "single press should toggle the closet light, double press should start the Gaggia"
    refined = yaml.safe_load(refine_automation(code, prompt, HOME))
    assert [t["payload"] for t in refined["triggers"]] == ["single", "double"]
    options = refined["actions"][0]["choose"]
    assert [o["sequence"][0]["action"] for o in options] == [
        "homeassistant.toggle",
        "homeassistant.turn_on",
    ]


def test_each_message_a_topic_says_gets_its_own_actions() -> None:
    code = """alias: MQTT
triggers:
  - trigger: mqtt
    topic: tank/level
    payload: "ON"
actions:
  - action: valve.open_valve
    target:
      entity_id: valve.stopcock
"""
    prompt = "tank/level: when it says LOW open the stopcock, when it says FULL close it"
    refined = yaml.safe_load(refine_automation(code, prompt, HOME))
    assert [t["payload"] for t in refined["triggers"]] == ["LOW", "FULL"]
    options = refined["actions"][0]["choose"]
    assert [o["sequence"][0]["action"] for o in options] == [
        "valve.open_valve",
        "valve.close_valve",
    ]


def test_a_vague_word_said_as_a_name_still_names_it() -> None:
    home = parse_home("""
entities:
  - {id: scene.morning, name: Morning}
  - {id: light.hall, name: Hall Light}
""")
    found = Filler(home=home).mentions("at 7 turn on morning")
    assert [m.target.id for m in found.entities] == ["scene.morning"]


def test_a_percentage_a_reading_is_compared_with_is_no_level() -> None:
    assert action_for("fan.extractor", "extractor on when the humidity goes over 70%") == {
        "action": "homeassistant.turn_on",
        "target": {"entity_id": "fan.extractor"},
    }
    assert action_for("fan.extractor", "extractor on at 40% when it is over 70%") == {
        "action": "fan.turn_on",
        "target": {"entity_id": "fan.extractor"},
        "data": {"percentage": 40},
    }
