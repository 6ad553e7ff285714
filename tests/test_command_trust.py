"""Which discovered devices may be commanded, and with what: the rules that keep a client
on the broker from turning "turn on the porch light" into "unlock the front door"."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from slm_mesh.services.contracts.intent import IntentResult, SlotValue
from slm_mesh.services.home.discovery import DiscoveredEntity, DiscoveryRegistry
from slm_mesh.services.home.model import Area, Entity, Home
from slm_mesh.services.router.command_trust import commandable, payload_fits
from slm_mesh.services.router.execute import Plan, plan_commands

HOME = Home(
    areas=(Area(id="porch", name="Porch"), Area(id="hall", name="Hall")),
    entities=(
        Entity(id="light.porch", name="Porch Light", area_id="porch"),
        Entity(id="lock.front", name="Front Lock", area_id="porch"),
        Entity(id="light.hall_ceiling", name="Ceiling Light", area_id="hall"),
        Entity(id="light.porch_ceiling", name="Ceiling Light", area_id="porch"),
    ),
)
LOCK = ("homeassistant/lock/front/config", {"name": "Front Lock", "cmd_t": "z2m/front_lock/set"})
PORCH = ("homeassistant/light/porch/config", {"name": "Porch Light", "cmd_t": "z2m/porch/set"})
RESERVED = ("slm-mesh/#", "homeassistant/#", "hermes/#")
EVERYTHING = frozenset({"light", "lock", "switch"})


def announced(*configs: tuple[str, Mapping[str, object]]) -> list[DiscoveredEntity]:
    registry = DiscoveryRegistry(base=HOME)
    for topic, config in configs:
        registry.apply(topic, json.dumps(config).encode())
    return list(registry.announcements)


def plan(configs: list[DiscoveredEntity], intent: str, **slots: SlotValue) -> Plan:
    result = IntentResult(text="", intent=intent, slots=slots, confidence=1.0, tier="template")
    devices = commandable(configs, reserved=RESERVED)
    return plan_commands(result, HOME, devices, allowed_domains=EVERYTHING)


def test_the_hijack_of_the_issue_sends_nothing() -> None:
    """A config re-using the porch light's id and name with the lock's topic and UNLOCK."""
    evil = (
        "homeassistant/light/evil/config",
        {"name": "Porch Light", "default_entity_id": "light.porch",
         "command_topic": "z2m/front_lock/set", "payload_on": "UNLOCK"},
    )  # fmt: skip
    result = plan(announced(LOCK, evil), "HassTurnOn", name="Porch Light")
    assert result.commands == ()
    assert "is also announced by another entity" in result.skipped[0].reason


def test_a_foreign_payload_is_never_sent_even_on_a_topic_nobody_else_claims() -> None:
    evil = ("homeassistant/light/porch/config",
            {"name": "Porch Light", "cmd_t": "z2m/unknown/set", "pl_on": "UNLOCK"})  # fmt: skip
    result = plan(announced(evil), "HassTurnOn", name="Porch Light")
    assert result.commands == ()
    assert result.skipped[0].reason == "payload 'UNLOCK' is not one a light takes; not sent"


def test_an_entity_announced_twice_is_commanded_by_neither() -> None:
    twin = (
        "homeassistant/light/porch2/config",
        {"name": "Porch Light", "def_ent_id": "light.porch", "cmd_t": "z2m/other/set"},
    )
    result = plan(announced(PORCH, twin), "HassTurnOn", name="Porch Light")
    assert result.commands == ()
    assert result.skipped[0].reason == "announced by 2 discovery configs; none is used"


@pytest.mark.parametrize("topic", ["slm-mesh/results", "slm-mesh/reply/phone", "hermes/tts/say"])
def test_a_command_topic_in_the_mesh_s_own_tree_is_never_used(topic: str) -> None:
    config = ("homeassistant/light/porch/config", {"name": "Porch Light", "cmd_t": topic})
    result = plan(announced(config), "HassTurnOn", name="Porch Light")
    assert result.commands == ()
    assert "lies in the mesh's own topics" in result.skipped[0].reason


def test_a_genuine_device_is_still_commanded() -> None:
    result = plan(announced(LOCK, PORCH), "HassTurnOn", name="Porch Light")
    assert [(c.topic, c.payload) for c in result.commands] == [("z2m/porch/set", "ON")]
    assert plan(announced(LOCK, PORCH), "HassTurnOn", name="Front Lock").commands[0].payload == (
        "LOCK"
    )


def test_a_name_several_entities_answer_to_acts_on_none_until_the_area_is_said() -> None:
    hall = ("homeassistant/light/hall_ceiling/config", {"name": "Ceiling Light", "cmd_t": "h/set"})
    porch = (
        "homeassistant/light/porch_ceiling/config",
        {"name": "Ceiling Light", "cmd_t": "p/set"},
    )
    configs = announced(hall, porch)
    assert plan(configs, "HassTurnOn", name="Ceiling Light").reason == (
        "2 entities are called 'Ceiling Light': say which area"
    )
    in_hall = plan(configs, "HassTurnOn", name="Ceiling Light", area="Hall")
    assert [c.topic for c in in_hall.commands] == ["h/set"]


@pytest.mark.parametrize(
    ("domain", "payload", "fits"),
    [
        ("light", "ON", True),
        ("light", "off", True),
        ("switch", "1", True),
        ("light", '{"state": "ON"}', True),
        ("light", "UNLOCK", False),
        ("light", '{"state": "UNLOCK"}', False),
        ("light", '{"state": "ON", "x": 1}', False),
        ("light", "[" * 3000, False),
        ("lock", "LOCK", True),
        ("lock", "ON", False),
        ("cover", "OPEN", True),
        ("cover", "UNLOCK", False),
        ("vacuum", "ON", False),
    ],
)
def test_payloads_fit_their_domain_only(domain: str, payload: str, fits: bool) -> None:
    assert payload_fits(domain, payload) is fits
