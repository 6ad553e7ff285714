"""Planning device commands from a resolved intent: what is sent, and what never is."""

from __future__ import annotations

import json

from slm_mesh.services.contracts.intent import IntentResult, SlotValue
from slm_mesh.services.home.discovery import DiscoveredEntity, DiscoveryRegistry
from slm_mesh.services.home.model import Area, Entity, Floor, Home
from slm_mesh.services.router.execute import Command, Plan, Skipped, plan_commands

ALL = frozenset({"light", "switch", "fan", "lock", "cover", "climate", "scene", "button"})
BASE = Home(
    floors=(Floor(id="downstairs", name="Downstairs"), Floor(id="upstairs", name="Upstairs")),
    areas=(
        Area(id="kitchen", name="Kitchen", floor_id="downstairs"),
        Area(id="porch", name="Porch", floor_id="downstairs"),
        Area(id="study", name="Study", floor_id="upstairs", aliases=("office",)),
    ),
    entities=(
        Entity(id="light.pendant", name="Pendant", area_id="kitchen"),
        Entity(id="light.strip", name="Strip", area_id="kitchen"),
        Entity(id="switch.kettle", name="Kettle", area_id="kitchen"),
        Entity(id="lock.front", name="Front Door", area_id="porch"),
        Entity(id="cover.blind", name="Blind", area_id="study", device_class="blind"),
        Entity(id="climate.radiator", name="Radiator", area_id="study"),
        Entity(id="light.desk", name="Desk Lamp", area_id="study"),
    ),
)
DISCOVERY = {
    "homeassistant/light/pendant/config": {
        "name": "Pendant", "schema": "json", "cmd_t": "z2m/Pendant/set", "brightness": True,
        "bri_scl": 254},
    "homeassistant/light/strip/config": {
        "name": "Strip", "~": "tasmota_1/", "cmd_t": "~cmnd/POWER", "bri_cmd_t": "~cmnd/Dimmer",
        "bri_scl": 100, "on_cmd_type": "first"},
    "homeassistant/switch/kettle/config": {"name": "Kettle", "cmd_t": "kettle/set",
                                           "pl_on": "1", "pl_off": "0"},
    "homeassistant/lock/front/config": {"name": "Front Door", "cmd_t": "lock/front/set"},
    "homeassistant/cover/blind/config": {"name": "Blind", "cmd_t": "blind/set",
                                         "set_pos_t": "blind/position/set"},
    "homeassistant/climate/radiator/config": {"name": "Radiator",
                                              "temp_cmd_t": "radiator/target/set"},
}  # fmt: skip


def devices() -> dict[str, DiscoveredEntity]:
    registry = DiscoveryRegistry()
    for topic, config in DISCOVERY.items():
        registry.apply(topic, json.dumps(config).encode())
    return registry.devices


def plan(intent: str, allowed: frozenset[str] = ALL, **slots: SlotValue) -> Plan:
    result = IntentResult(text="", intent=intent, slots=slots, confidence=1.0, tier="template")
    return plan_commands(result, BASE, devices(), allowed_domains=allowed)


def test_turn_on_a_named_switch_sends_its_payload_on() -> None:
    assert plan("HassTurnOn", name="Kettle").commands == (
        Command("switch.kettle", "kettle/set", "1"),
    )


def test_json_schema_light_gets_a_json_state() -> None:
    commands = plan("HassTurnOff", name="pendant").commands
    assert commands == (Command("light.pendant", "z2m/Pendant/set", '{"state": "OFF"}'),)


def test_area_and_domain_target_every_matching_entity() -> None:
    result = plan("HassTurnOn", area="kitchen", domain="light")
    assert [c.entity_id for c in result.commands] == ["light.pendant", "light.strip"]
    assert result.commands[1] == Command("light.strip", "tasmota_1/cmnd/POWER", "ON")


def test_floor_targets_its_areas() -> None:
    result = plan("HassTurnOff", floor="upstairs", domain="light")
    assert result.skipped == (Skipped("light.desk", "not discovered, so no command topic"),)
    assert result.commands == ()


def test_an_entity_that_was_not_discovered_is_never_acted_on() -> None:
    result = plan("HassTurnOn", name="Desk Lamp")
    assert result.commands == ()
    assert result.skipped[0].entity_id == "light.desk"


def test_a_domain_not_allowed_is_never_acted_on() -> None:
    result = plan("HassTurnOff", allowed=frozenset({"light"}), name="Front Door")
    assert result.commands == ()
    assert result.skipped == (Skipped("lock.front", "domain 'lock' is not allowed"),)


def test_locking_is_turn_on_and_unlocking_is_turn_off() -> None:
    assert plan("HassTurnOn", name="Front Door").commands[0].payload == "LOCK"
    assert plan("HassTurnOff", name="Front Door").commands[0].payload == "UNLOCK"


def test_an_area_without_a_kind_of_device_never_unlocks_or_opens() -> None:
    assert plan("HassTurnOff", area="porch").reason == "no matching entity"
    kitchen = plan("HassTurnOff", area="kitchen")
    assert {c.entity_id for c in kitchen.commands} == {
        "light.pendant",
        "light.strip",
        "switch.kettle",
    }


def test_cover_opens_and_closes() -> None:
    assert plan("HassTurnOn", name="Blind").commands[0].payload == "OPEN"
    assert plan("HassTurnOff", area="study", domain="cover", device_class="blind").commands == (
        Command("cover.blind", "blind/set", "CLOSE"),
    )


def test_light_brightness_in_json_is_scaled() -> None:
    (command,) = plan("HassLightSet", name="Pendant", brightness=50).commands
    assert json.loads(command.payload) == {"state": "ON", "brightness": 127}


def test_light_brightness_on_a_topic_follows_on_command_type() -> None:
    commands = plan("HassLightSet", name="Strip", brightness=50).commands
    assert [(c.topic, c.payload) for c in commands] == [
        ("tasmota_1/cmnd/POWER", "ON"),
        ("tasmota_1/cmnd/Dimmer", "50"),
    ]


def test_brightness_on_a_switch_is_not_attempted() -> None:
    assert plan("HassLightSet", name="Kettle", brightness=50).reason == "no matching entity"


def test_set_position_and_temperature() -> None:
    assert plan("HassSetPosition", name="Blind", position=30).commands == (
        Command("cover.blind", "blind/position/set", "30"),
    )
    assert plan("HassClimateSetTemperature", temperature=21).commands == (
        Command("climate.radiator", "radiator/target/set", "21.0"),
    )


def test_other_intents_are_not_executable() -> None:
    assert plan("HassGetState", name="Kettle") == Plan(reason="not executable")
    assert plan("HassLightSet", name="Pendant", color="red") == Plan(reason="not executable")


def test_an_unknown_area_plans_nothing() -> None:
    assert plan("HassTurnOn", area="garage", domain="light").reason == "no area called 'garage'"
