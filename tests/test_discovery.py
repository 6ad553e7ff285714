"""Home Assistant MQTT discovery: payloads as Zigbee2MQTT, Tasmota and ESPHome send them."""

from __future__ import annotations

import json

import pytest

from slm_mesh.services.home.discovery import (
    DiscoveredEntity,
    DiscoveryError,
    DiscoveryRegistry,
)
from slm_mesh.services.home.model import Area, Entity, Floor, Home

HOME = Home(
    floors=(Floor(id="downstairs", name="Downstairs"),),
    areas=(
        Area(id="kitchen", name="Kitchen", floor_id="downstairs"),
        Area(id="lounge", name="Lounge", floor_id="downstairs", aliases=("living room",)),
    ),
    entities=(
        Entity(id="light.kitchen_pendant", name="Pendant", area_id="kitchen"),
        Entity(id="switch.kettle", name="Kettle", area_id="kitchen", aliases=("jug",)),
    ),
)

Z2M_TOPIC = "homeassistant/light/0x00158d0001a2b3c4/light/config"
Z2M_LIGHT = {
    "name": None,
    "object_id": "kitchen_pendant",
    "unique_id": "0x00158d0001a2b3c4_light_zigbee2mqtt",
    "schema": "json",
    "command_topic": "zigbee2mqtt/Kitchen Pendant/set",
    "state_topic": "zigbee2mqtt/Kitchen Pendant",
    "brightness": True,
    "brightness_scale": 254,
    "supported_color_modes": ["color_temp"],
    "device": {"name": "Kitchen Pendant", "identifiers": ["zigbee2mqtt_0x00158d0001a2b3c4"],
               "manufacturer": "IKEA", "suggested_area": "kitchen"},
}  # fmt: skip
TASMOTA_TOPIC = "homeassistant/light/A1B2C3_LI_1/config"
TASMOTA_LIGHT = {
    "name": "Reading Lamp",
    "~": "tasmota_A1B2C3/",
    "cmd_t": "~cmnd/POWER",
    "stat_t": "~tele/STATE",
    "pl_on": "ON",
    "pl_off": "OFF",
    "bri_cmd_t": "~cmnd/Dimmer",
    "bri_scl": 100,
    "on_cmd_type": "brightness",
    "uniq_id": "A1B2C3_LI_1",
    "dev": {"ids": ["A1B2C3"], "sa": "Living Room"},
}
ESPHOME_TOPIC = "homeassistant/switch/study-node/heater/config"
ESPHOME_SWITCH = {
    "name": "Heater",
    "stat_t": "study-node/switch/heater/state",
    "cmd_t": "study-node/switch/heater/command",
    "avty_t": "study-node/status",
    "uniq_id": "ESPswitchheater",
    "dev": {"ids": "a0b1c2d3e4f5", "name": "Study Node", "sw": "esphome v2024.6.0",
            "mdl": "esp32dev", "mf": "espressif", "sa": "Study"},
}  # fmt: skip


def apply(registry: DiscoveryRegistry, topic: str, config: object) -> DiscoveredEntity | None:
    return registry.apply(topic, json.dumps(config).encode())


def test_zigbee2mqtt_light_uses_the_device_name_and_json_schema() -> None:
    found = apply(DiscoveryRegistry(), Z2M_TOPIC, Z2M_LIGHT)
    assert found is not None
    assert found.entity.id == "light.kitchen_pendant"
    assert found.entity.name == "Kitchen Pendant"
    assert found.schema == "json"
    assert found.json_brightness
    assert found.brightness_scale == 254
    assert found.command_topic == "zigbee2mqtt/Kitchen Pendant/set"
    assert found.suggested_area == "kitchen"


def test_tasmota_abbreviations_and_base_topic_are_expanded() -> None:
    found = apply(DiscoveryRegistry(), TASMOTA_TOPIC, TASMOTA_LIGHT)
    assert found is not None
    assert found.entity.id == "light.a1b2c3_li_1"
    assert found.entity.name == "Reading Lamp"
    assert found.command_topic == "tasmota_A1B2C3/cmnd/POWER"
    assert found.state_topic == "tasmota_A1B2C3/tele/STATE"
    assert found.brightness_command_topic == "tasmota_A1B2C3/cmnd/Dimmer"
    assert found.brightness_scale == 100
    assert found.on_command_type == "brightness"
    assert found.schema == "default"


def test_base_topic_at_the_end_of_a_topic_is_expanded() -> None:
    config = {"~": "home/fan", "cmd_t": "set/~", "name": "Fan"}
    found = apply(DiscoveryRegistry(), "homeassistant/fan/ceiling/config", config)
    assert found is not None and found.command_topic == "set/home/fan"


def test_esphome_entity_name_follows_its_device_name() -> None:
    found = apply(DiscoveryRegistry(), ESPHOME_TOPIC, ESPHOME_SWITCH)
    assert found is not None
    assert found.entity.id == "switch.study_node_heater"
    assert found.entity.name == "Study Node Heater"
    assert found.payload_on == "ON" and found.payload_off == "OFF"


def test_default_entity_id_names_the_entity() -> None:
    config = {"name": "Desk", "def_ent_id": "light.study_desk", "cmd_t": "desk/set"}
    found = apply(DiscoveryRegistry(), "homeassistant/light/abc/config", config)
    assert found is not None and found.entity.id == "light.study_desk"


def test_an_empty_payload_removes_the_entity() -> None:
    registry = DiscoveryRegistry()
    apply(registry, Z2M_TOPIC, Z2M_LIGHT)
    assert registry.apply(Z2M_TOPIC, b"") is None
    assert registry.devices == {}


@pytest.mark.parametrize(
    ("topic", "payload", "why"),
    [
        (Z2M_TOPIC, b"{not json", "not JSON"),
        (Z2M_TOPIC, b"\xff\xfe", "not UTF-8"),
        (Z2M_TOPIC, b"[1, 2]", "not a JSON object"),
        (Z2M_TOPIC, b'{"cmd_t": ["a"]}', "`command_topic` must be text"),
        (Z2M_TOPIC, b'{"dev": "kitchen"}', "`device` must be an object"),
        (Z2M_TOPIC, b'{"dev": {"name": {"x": 1}}}', "`device.name` must be text"),
        (Z2M_TOPIC, b'{"dev": {"sa": ["x"]}}', "`device.suggested_area` must be text"),
        (Z2M_TOPIC, b'{"bri_scl": "high"}', "`brightness_scale` must be a number"),
        (Z2M_TOPIC, b'{"schema": "yaml"}', "`schema` must be one of"),
        ("homeassistant/light/config", b"{}", "not homeassistant/"),
        ("zigbee2mqtt/light/x/config", b"{}", "not homeassistant/"),
        ("homeassistant/light/a b/config", b"{}", "ids may hold only"),
    ],
)
def test_garbage_is_refused_with_topic_and_reason(topic: str, payload: bytes, why: str) -> None:
    with pytest.raises(DiscoveryError, match=why) as caught:
        DiscoveryRegistry().apply(topic, payload)
    assert caught.value.topic == topic


def test_garbage_leaves_what_was_known() -> None:
    registry = DiscoveryRegistry()
    apply(registry, Z2M_TOPIC, Z2M_LIGHT)
    with pytest.raises(DiscoveryError):
        registry.apply(Z2M_TOPIC, b"oops")
    assert list(registry.devices) == ["light.kitchen_pendant"]


def test_device_triggers_are_not_entities() -> None:
    topic = "homeassistant/device_automation/0x1234/action_on/config"
    assert apply(DiscoveryRegistry(), topic, {"atype": "trigger", "t": "z2m/x/action"}) is None


def test_merged_home_matches_suggested_areas_to_home_areas() -> None:
    registry = DiscoveryRegistry(base=HOME)
    apply(registry, TASMOTA_TOPIC, TASMOTA_LIGHT)
    apply(registry, ESPHOME_TOPIC, ESPHOME_SWITCH)
    home = registry.merged_home()
    by_id = {entity.id: entity for entity in home.entities}
    assert by_id["light.a1b2c3_li_1"].area_id == "lounge"  # "Living Room" is the lounge's alias
    assert by_id["switch.kettle"] == HOME.entities[1]
    assert home.floors == HOME.floors


def test_an_announcement_for_a_file_entity_never_changes_its_name_area_or_aliases() -> None:
    registry = DiscoveryRegistry(base=HOME)
    apply(registry, Z2M_TOPIC, Z2M_LIGHT)  # says "Kitchen Pendant", in the kitchen
    apply(registry, "homeassistant/switch/k/config",
          {"name": "Kettle", "def_ent_id": "switch.kettle", "cmd_t": "k/set",
           "dev": {"sa": "Lounge"}})  # fmt: skip
    assert registry.merged_home().entities == HOME.entities
    assert set(registry.devices) == {"light.kitchen_pendant", "switch.kettle"}


@pytest.mark.parametrize("name", ["Pendant", "pendant", "JUG"])
def test_a_new_entity_may_not_take_a_name_the_home_file_uses(name: str) -> None:
    registry = DiscoveryRegistry(base=HOME)
    config = {"name": name, "cmd_t": "zigbee2mqtt/front_lock/set", "pl_on": "UNLOCK"}
    with pytest.raises(DiscoveryError, match="belongs to the home file's"):
        apply(registry, "homeassistant/light/evil/config", config)
    assert registry.devices == {}
    assert registry.merged_home().entities == HOME.entities


def test_an_unknown_suggested_area_becomes_a_new_area() -> None:
    registry = DiscoveryRegistry(base=HOME)
    apply(registry, ESPHOME_TOPIC, ESPHOME_SWITCH)
    home = registry.merged_home()
    assert home.areas[-1] == Area(id="study", name="Study")
    heater = next(e for e in home.entities if e.id == "switch.study_node_heater")
    assert heater.area_id == "study"


@pytest.mark.parametrize(
    ("config", "why"),
    [
        ({"cmd_t": "zigbee2mqtt/#"}, "not a topic to publish to"),
        ({"cmd_t": "a/+/set"}, "not a topic to publish to"),
        ({"cmd_t": "$SYS/broker"}, "not a topic to publish to"),
        ({"cmd_t": "a\u0000b"}, "not a topic to publish to"),
        ({"name": "x" * 201}, "the limit is 200"),
        ({"name": "bad\u0007bell"}, "control character"),
        ({"name": "\u200b\u200b"}, "no visible characters"),
        ({"bri_scl": 1e300}, "must be a number"),
    ],
)
def test_unusable_topics_and_names_are_refused(config: dict[str, object], why: str) -> None:
    payload = json.dumps(config).encode()
    with pytest.raises(DiscoveryError, match=why):
        DiscoveryRegistry().apply("homeassistant/light/x/config", payload)


def test_a_deeply_nested_payload_is_refused_not_raised() -> None:
    with pytest.raises(DiscoveryError, match="nested too deeply"):
        DiscoveryRegistry().apply(Z2M_TOPIC, b"[" * 3000 + b"]" * 3000)
