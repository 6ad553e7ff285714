"""The code-snippet validators: each format's valid code passes, each kind of fault is named
(the entity, the action, the component and key, the module, the line), and whatever the
text, the answer is a Validation, never an exception."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slm_mesh.services.code_snippet.formats import MAX_PROBLEMS, Validation
from slm_mesh.services.code_snippet.validate import MAX_CODE_CHARS, validate
from slm_mesh.services.contracts.code import FORMATS, LANGUAGES
from slm_mesh.services.home.model import Home, parse_home

HOME = parse_home("""
floors:
  - {name: Ground, id: ground}
areas:
  - {name: Hallway, id: hallway, floor: ground}
  - {name: Porch, id: porch, floor: ground}
entities:
  - {name: Motion, id: binary_sensor.hall_motion, area: hallway, attributes: {device_class: motion}}
  - {name: Hall Light, id: light.hallway, area: hallway}
  - {name: Porch Light, id: light.porch, area: porch}
  - {name: Front Lock, id: lock.front, area: porch}
  - {name: Kettle, id: switch.kettle}
  - {name: Goodnight, id: script.goodnight}
  - {name: Bedtime, id: scene.bedtime}
""")

AUTOMATION = """
alias: Hallway motion light
mode: restart
triggers:
  - trigger: state
    entity_id: binary_sensor.hall_motion
    to: "on"
conditions:
  - condition: sun
    after: sunset
actions:
  - action: light.turn_on
    target:
      entity_id: light.hallway
  - delay:
      minutes: 5
  - action: light.turn_off
    target:
      entity_id: [light.hallway]
"""

ESPHOME = """
esphome:
  name: climate-sensor
esp32:
  board: esp32dev
logger:
api:
  encryption:
    key: !secret api_key
ota:
  - platform: esphome
wifi:
  ssid: !secret wifi_ssid
  password: !secret wifi_password
sensor:
  - platform: dht
    pin: GPIO4
    temperature:
      name: Temperature
    update_interval: 30s
  - platform: template
    name: Doubled
    lambda: !lambda |-
      return id(temperature).state * 2;
binary_sensor:
  - platform: gpio
    pin: {number: D2, inverted: true}
    name: Button
"""

MICROPYTHON = """
import time
import network
from machine import Pin
from umqtt.simple import MQTTClient
from umqtt import robust

client = MQTTClient("node", "broker")
button = Pin(0, Pin.IN, Pin.PULL_UP)
while True:
    if button.value() == 0:
        client.publish(b"home/button", b"pressed")
    time.sleep_ms(20)
"""


def problems(code: str, fmt: str, home: Home = HOME) -> tuple[str, ...]:
    result = validate(code, fmt, home)
    assert result.valid == (not result.problems)
    return result.problems


def test_the_formats_and_their_languages() -> None:
    assert FORMATS == ("homeassistant-automation", "esphome", "micropython", "python", "shell")
    assert [LANGUAGES[f] for f in FORMATS] == ["yaml", "yaml", "python", "python", "bash"]


@pytest.mark.parametrize(
    ("code", "fmt"),
    [
        (AUTOMATION, "homeassistant-automation"),
        (ESPHOME, "esphome"),
        (MICROPYTHON, "micropython"),
        ("import requests\nprint(requests.get('http://x', timeout=5).status_code)\n", "python"),
        ('mosquitto_sub -v -t "home/#" | while read -r line; do echo "$line"; done', "shell"),
    ],
)
def test_valid_code_of_each_format_passes(code: str, fmt: str) -> None:
    assert validate(code, fmt, HOME) == Validation(valid=True, problems=())


# --- Home Assistant automations -----------------------------------------------------------


def test_the_legacy_syntax_is_accepted() -> None:
    legacy = """
    trigger:
      - platform: state
        entity_id: binary_sensor.hall_motion
        to: "on"
    condition:
      - condition: state
        entity_id: light.hallway
        state: "off"
    action:
      - service: light.turn_on
        entity_id: light.hallway
    """
    assert problems(legacy, "homeassistant-automation") == ()


def test_a_list_of_automations_is_checked_one_by_one() -> None:
    two = f"- {AUTOMATION.strip().replace(chr(10), chr(10) + '  ')}\n- alias: empty\n"
    assert problems(two, "homeassistant-automation") == (
        "automations[1]: the automation has no triggers; it needs at least one",
        "automations[1]: the automation has no actions; it needs at least one",
    )


def test_an_entity_the_home_lacks_is_named_wherever_it_is() -> None:
    code = AUTOMATION.replace(
        "entity_id: [light.hallway]", "entity_id: [light.hallway, light.garage]"
    )
    code = code.replace("binary_sensor.hall_motion", "binary_sensor.garage_motion")
    found = problems(code, "homeassistant-automation")
    assert "triggers[0]: binary_sensor.garage_motion is not in the home" in found
    assert "actions[2]: light.garage is not in the home" in found


def test_entities_are_found_in_nested_steps_and_data() -> None:
    code = """
    triggers: [{trigger: time, at: "07:00:00"}]
    actions:
      - choose:
          - conditions: [{condition: state, entity_id: light.attic, state: "on"}]
            sequence: [{action: light.turn_off, data: {entity_id: light.cellar}}]
        default:
          - if: [{condition: numeric_state, entity_id: sensor.nowhere, above: 3}]
            then: [{scene: scene.party}]
      - repeat:
          count: 2
          sequence: [{action: switch.toggle, target: {entity_id: "switch.kettle, switch.fridge"}}]
      - wait_for_trigger: [{trigger: state, entity_id: binary_sensor.gate}]
    """
    found = " | ".join(problems(code, "homeassistant-automation"))
    for missing in ("light.attic", "light.cellar", "sensor.nowhere", "scene.party",
                    "switch.fridge", "binary_sensor.gate"):  # fmt: skip
        assert f"{missing} is not in the home" in found
    assert "switch.kettle" not in found


def test_templates_and_all_name_no_entity() -> None:
    code = """
    triggers: [{trigger: state, entity_id: binary_sensor.hall_motion}]
    actions:
      - action: light.turn_off
        target: {entity_id: all}
      - action: light.turn_on
        target: {entity_id: "{{ trigger.entity_id | replace('binary_sensor', 'light') }}"}
      - action: "{{ 'light.turn_on' }}"
    """
    assert problems(code, "homeassistant-automation") == ()


def test_an_unknown_action_is_named_with_what_the_domain_has() -> None:
    code = AUTOMATION.replace("action: light.turn_off", "action: light.open")
    (problem,) = problems(code, "homeassistant-automation")
    assert problem.startswith("actions[2]: light.open is not a light action")
    assert "light.turn_off" in problem
    (problem,) = problems(
        AUTOMATION.replace("light.turn_off", "lights.off"), "homeassistant-automation"
    )
    assert "lights.off is not a Home Assistant action" in problem


def test_an_action_on_an_entity_of_another_domain_is_a_problem() -> None:
    code = AUTOMATION.replace("entity_id: [light.hallway]", "entity_id: lock.front")
    assert problems(code, "homeassistant-automation") == (
        "actions[2]: light.turn_off cannot act on lock.front (a lock, not a light)",
    )
    anything = AUTOMATION.replace("light.turn_off", "homeassistant.turn_off")
    assert (
        problems(anything.replace("[light.hallway]", "lock.front"), "homeassistant-automation")
        == ()
    )


@pytest.mark.parametrize(
    ("action", "fine"),
    [
        ("script.goodnight", True),
        ("script.wake_up", False),
        ("notify.mobile_app_pixel_8", True),
        ("notify.notify", True),
        ("notify.persistent_notification", True),
        ("notify.telegram_bot_made_up", False),
        ("shell_command.backup", True),
        ("vacuum.start", True),
        ("cover.open", False),
    ],
)
def test_actions_made_at_run_time(action: str, fine: bool) -> None:
    code = f"triggers: [{{trigger: time, at: '07:00:00'}}]\nactions: [{{action: {action}}}]\n"
    assert (problems(code, "homeassistant-automation") == ()) is fine


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("alias: nothing\n", "the automation has no triggers; it needs at least one"),
        ("triggers: []\nactions: [{delay: 1}]\n", "the automation has no triggers"),
        ("triggers: [{trigger: time, at: '07:00'}]\n", "the automation has no actions"),
        (
            "triggers: [{trigger: sunrise}]\nactions: [{delay: 1}]\n",
            "triggers[0]: 'sunrise' is not a trigger type",
        ),
        (
            "triggers: [{entity_id: light.porch}]\nactions: [{delay: 1}]\n",
            "triggers[0]: has no `trigger:` type",
        ),
        (
            "triggers: [{trigger: numeric_state, entity_id: light.porch}]\nactions: [{delay: 1}]\n",
            "triggers[0]: a numeric_state trigger needs `above` or `below`",
        ),
        (
            "triggers: [{trigger: time, at: '07:00'}]\nconditions: [{condition: daytime}]\n"
            "actions: [{delay: 1}]\n",
            "conditions[0]: 'daytime' is not a condition type",
        ),
        (
            "triggers: [{trigger: time, at: '07:00'}]\nactions: [{switch: on}]\n",
            "actions[0]: is not an action Home Assistant knows",
        ),
        (
            "triggers: [{trigger: time, at: '07:00'}]\n"
            "actions: [{action: light.turn_on, target: {area_id: attic}}]\n",
            "actions[0]: area 'attic' is not in the home",
        ),
        (
            "triggers: [{trigger: time, at: '07:00'}]\nactions: [{action: light.turn_on, "
            "target: {entity_id: 7}}]\n",
            "`entity_id` must be text or a list of text",
        ),
        ("- 1\n- 2\n", "automations[0]: an automation is a mapping"),
        ("[]", "the snippet is an empty list, not an automation"),
        ("triggers: [\n", "line 2: not valid YAML"),
    ],
)
def test_each_automation_fault_is_named(code: str, problem: str) -> None:
    found = problems(code, "homeassistant-automation")
    assert any(problem in p for p in found), found


def test_a_yaml_alias_bomb_is_refused_before_it_is_built() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(9)
    )
    for fmt in ("homeassistant-automation", "esphome"):
        assert problems(bomb, fmt) == (
            "line 2: the snippet uses a YAML alias (`*name`); write the value out",
        )
    assert "nests lists and mappings over 20 deep" in problems("[" * 30 + "]" * 30, "esphome")[0]
    assert problems("[" * 5000 + "]" * 5000, "esphome")  # libyaml's own limit, before ours


# --- ESPHome ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("name: climate-sensor", "friendly_name: x"), "esphome: needs a `name`"),
        (
            ("esp32:\n  board: esp32dev", "esp32:\n  framework: {type: esp-idf}"),
            "esp32: needs `board`",
        ),
        (("esp32:\n  board: esp32dev", "logger2:"), "needs exactly one platform block"),
        (
            ("esp32:\n  board: esp32dev", "esp32:\n  board: a\nesp8266:\n  board: b"),
            "found `esp32:`, `esp8266:`",
        ),
        (("    pin: GPIO4\n", ""), "sensor[0] (dht): needs `pin`"),
        (
            ("    temperature:\n      name: Temperature\n", ""),
            "sensor[0] (dht): needs `temperature` or `humidity`",
        ),
        (("  - platform: template\n", "  - name: no platform\n"), "sensor[1]: has no `platform:`"),
        (("pin: GPIO4", "pin: GPIO_FOUR"), "sensor[0].pin: 'GPIO_FOUR' is not a pin"),
        (("number: D2", "number: [2]"), "binary_sensor[0].pin: {'number': [2]"),
        (
            ("update_interval: 30s", "update_interval: 30 parsecs"),
            "sensor[0].update_interval: '30 parsecs' is not a time period",
        ),
        (
            ("  - platform: dht\n", "  - platform: bme280\n"),
            "sensor[0] (bme280): ESPHome renamed the platform to `bme280_i2c`",
        ),
        (
            ("  - platform: dht\n", "  - platform: bme280_i2c\n"),
            "sensor[0] (bme280_i2c): needs a `i2c:` bus in the config",
        ),
        (
            (
                "  - platform: dht\n    pin: GPIO4\n",
                "  - platform: ultrasonic\n    trigger_pin: 5\n",
            ),
            "sensor[0] (ultrasonic): needs `echo_pin`",
        ),
        (("ota:\n  - platform: esphome", "ota:\n  password: x"), "ota[0]: has no `platform:`"),
    ],
)
def test_each_esphome_fault_names_the_component_and_key(
    change: tuple[str, str], problem: str
) -> None:
    old, new = change
    assert old in ESPHOME
    found = problems(ESPHOME.replace(old, new), "esphome")
    assert any(problem in p for p in found), found


def test_esphome_tags_are_plain_values_and_unknown_tags_are_refused() -> None:
    assert problems(ESPHOME + "packages: !include common.yaml\n", "esphome") == ()
    (problem,) = problems(ESPHOME.replace("!secret api_key", "!vault api_key"), "esphome")
    assert "unknown tag !vault" in problem
    (problem,) = problems("a: !!python/object/apply:os.system [ls]", "esphome")
    assert "not valid YAML" in problem


@pytest.mark.parametrize("pin", ["GPIO4", "4", "D2", "A0", "GP15", "PA5", "LED", "${relay_pin}"])
def test_pins_as_boards_name_them(pin: str) -> None:
    assert problems(ESPHOME.replace("pin: GPIO4", f"pin: {pin}"), "esphome") == ()


# --- Python, MicroPython, shell -------------------------------------------------------------


def test_a_micropython_module_the_board_lacks_is_named() -> None:
    code = MICROPYTHON + "import numpy\nfrom paho.mqtt import client\nfrom . import sibling\n"
    assert problems(code, "micropython") == (
        "line 14: MicroPython has no module `numpy`",
        "line 15: MicroPython has no module `paho.mqtt`",
        "line 16: a snippet is one file: it cannot import relatively",
    )
    assert problems("import numpy\n", "python") == ()


@pytest.mark.parametrize("fmt", ["python", "micropython"])
def test_a_syntax_error_names_its_line(fmt: str) -> None:
    (problem,) = problems("import time\n\ndef tick(:\n    pass\n", fmt)
    assert problem.startswith("line 3: ")
    (problem,) = problems("x = 1\nreturn x\n", fmt)  # found by the compiler, not the parser
    assert problem == "line 2: 'return' outside function"
    (problem,) = problems("print(1)\x00\n", fmt)
    assert "cannot compile" in problem or "null" in problem


def test_python_is_compiled_never_run(tmp_path_factory: pytest.TempPathFactory) -> None:
    marker = tmp_path_factory.mktemp("ran") / "ran"
    code = f"open({str(marker)!r}, 'w').write('x')\n"
    assert problems(code, "python") == ()
    assert not marker.exists()


def test_bash_n_errors_are_problems() -> None:
    found = problems('if [ -f x ]; then\n  echo "$x"\n', "shell")
    assert found and "syntax error" in found[0] and "line 3" in found[0]
    found = problems("echo (", "shell")
    assert "line 1: syntax error near unexpected token `newline'" in found[0]


def test_shell_is_read_never_run(tmp_path_factory: pytest.TempPathFactory) -> None:
    marker = tmp_path_factory.mktemp("ran") / "ran"
    assert problems(f"touch {marker}", "shell") == ()
    assert not marker.exists()


def test_without_bash_a_shell_snippet_gets_a_problem_not_an_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "")
    assert problems("echo hi", "shell") == (
        "bash is not installed here, so the shell snippet could not be checked",
    )


# --- Any input --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_oversize_and_empty_code_is_refused_before_it_is_read(fmt: str) -> None:
    (problem,) = problems("#" * (MAX_CODE_CHARS + 1), fmt)
    assert problem == "the snippet is 20,001 characters long; the limit is 20,000"
    assert problems(" \n\t", fmt) == ("the snippet is empty",)


def test_an_unknown_format_is_a_problem() -> None:
    (problem,) = problems("print(1)", "cobol")
    assert problem.startswith("'cobol' is not a snippet format")


def test_problems_are_listed_once_and_at_most_a_page() -> None:
    actions = "".join(f"  - action: light.turn_on\n    entity_id: light.l{i}\n" for i in range(50))
    code = "triggers: [{trigger: time, at: '07:00'}]\nactions:\n" + actions
    found = problems(code + actions, "homeassistant-automation")
    assert len(found) == MAX_PROBLEMS + 1
    assert found[-1] == "... and 80 more problems"


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.one_of(
        st.text(max_size=300),
        st.binary(max_size=300).map(lambda b: b.decode("utf-8", "surrogateescape")),
        st.lists(
            st.sampled_from(
                [
                    "- ",
                    ": ",
                    "[",
                    "]",
                    "{",
                    "}",
                    "&a ",
                    "*a",
                    "!secret ",
                    "!!set ",
                    "trigger: ",
                    "actions:\n  ",
                    "\n  ",
                    "import ",
                    "(",
                    '"',
                    "'",
                    "esphome:",
                    "sensor: [{platform: dht, pin: ",
                    "\x00",
                    "\ud800",
                ]
            ),
            max_size=40,
        ).map("".join),
    )
)
def test_garbage_never_raises(fmt: str, text: str) -> None:
    result = validate(text, fmt, HOME)
    assert isinstance(result, Validation)
    assert all(isinstance(p, str) and p for p in result.problems)


# Device code names the home too.


def test_python_naming_an_entity_the_home_lacks_is_a_problem() -> None:
    code = 'import requests\nrequests.post(URL + "/api/services/light/turn_on", ' \
           'json={"entity_id": "light.garage"})\n'  # fmt: skip
    assert validate(code, "python", HOME).problems == ("light.garage is not in the home",)


def test_python_attributes_and_files_are_no_entities() -> None:
    code = 'import machine\npin = machine.Pin(4)\nopen("sensor.py")\nx = "light.hallway"\n'
    assert validate(code, "python", HOME).valid


def test_a_rest_call_to_an_action_home_assistant_lacks_is_a_problem() -> None:
    code = 'curl -X POST "$HA/api/services/light/turn_onn" -d \'{"entity_id": "light.porch"}\'\n'
    assert validate(code, "shell", HOME).problems == (
        "light.turn_onn is not a Home Assistant action",
    )


def test_a_sensor_a_snippet_posts_is_one_it_makes() -> None:
    code = 'import urequests\nurequests.post(URL + "/api/states/" + "sensor.pico_temp", json={})\n'
    assert validate(code, "micropython", HOME).valid


def test_esphome_actions_are_no_entities_but_its_home_assistant_sensors_are() -> None:
    # ESPHOME ends inside its binary_sensor list: one more item, a Home Assistant sensor.
    more = "  - platform: homeassistant\n    id: away\n    entity_id: binary_sensor.nowhere\n"
    config = ESPHOME + more + "    on_press:\n      - switch.toggle: relay\n"
    assert validate(config, "esphome", HOME).problems == (
        "binary_sensor.nowhere is not in the home",
    )
