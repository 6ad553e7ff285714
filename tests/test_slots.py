"""Slot resolution against the home: names, aliases, areas, floors, context, values."""

import pytest

from slm_mesh.services.contracts.intent import SlotValue
from slm_mesh.services.home.model import parse_home
from slm_mesh.services.intent.slots import Label, SlotResolver
from slm_mesh.services.language.mentions import MentionFinder

HOME = parse_home("""
floors:
  - {name: Upstairs, id: up}
areas:
  - {name: Kitchen, id: kitchen}
  - {name: Lounge, id: lounge, aliases: [living room]}
  - {name: Study, id: study, floor: up}
entities:
  - {name: Pendant, id: light.kitchen_pendant, area: kitchen}
  - {name: Desk Lamp, id: light.desk, area: study}
  - {name: Lounge Blinds, id: cover.lounge_blinds, area: lounge,
     attributes: {device_class: blind}}
  - {name: Front Lock, id: lock.front}
  - {name: Speaker, id: media_player.speaker, area: lounge}
""")
resolver = SlotResolver(home=HOME)


def resolve(text: str, label: str, area: str | None = None) -> tuple[dict[str, SlotValue], bool]:
    context = HOME.find_area(area) if area else None
    resolution = resolver.resolve(text, Label.parse(label), area=context)
    return resolution.slots, resolution.complete


def test_a_full_entity_name_wins_over_the_area_inside_it() -> None:
    mentions = MentionFinder(home=HOME).find("lower the lounge blinds")
    assert [m.target.name for m in mentions.entities] == ["Lounge Blinds"]
    assert mentions.areas == ()


def test_an_entity_is_found_from_its_distinctive_words() -> None:
    slots, complete = resolve("lock the front", "HassTurnOn domain=lock")
    assert complete
    assert slots["name"] == "Front Lock"


def test_a_possessive_names_its_owner() -> None:
    mentions = MentionFinder(home=HOME).find("the speaker's too loud in the lounge's corner")
    assert [m.target.name for m in mentions.entities] == ["Speaker"]
    assert [m.target.name for m in mentions.areas] == ["Lounge"]


def test_a_time_of_day_names_no_device() -> None:
    home = parse_home("""
areas: [{name: Nursery, id: nursery}]
entities: [{name: Night Light, id: light.night, area: nursery}, {name: Lamp, id: light.lamp}]
""")
    finder = MentionFinder(home=home)
    assert finder.find("lock up for the night").entities == ()
    assert [m.target.name for m in finder.find("night light on").entities] == ["Night Light"]
    assert [m.target.name for m in finder.find("the night one, please").entities] == ["Night Light"]


def test_generic_words_alone_do_not_pick_an_entity() -> None:
    slots, _ = resolve("turn on the lamp in the kitchen", "HassTurnOn domain=light")
    assert "name" not in slots
    assert slots == {"domain": "light", "area": "Kitchen"}


def test_an_area_alias_resolves_to_the_area() -> None:
    slots, _ = resolve("it's too dark in the living room", "HassTurnOn domain=light")
    assert slots["area"] == "Lounge"


def test_the_requesting_devices_area_fills_a_missing_area() -> None:
    slots, complete = resolve("lights off", "HassTurnOff domain=light", area="Lounge")
    assert complete
    assert slots == {"domain": "light", "area": "Lounge"}


def test_a_named_entity_brings_its_domain() -> None:
    slots, _ = resolve("set the desk lamp to forty percent", "HassLightSet")
    assert slots == {"name": "Desk Lamp", "domain": "light", "brightness": 40}


def test_a_floor_is_a_place_too() -> None:
    slots, _ = resolve("turn off the lights upstairs", "HassTurnOff domain=light")
    assert slots["floor"] == "Upstairs"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("set the desk lamp", "HassLightSet"),
        ("set a timer", "HassStartTimer"),
        ("turn it on", "HassTurnOn"),
        ("set the heating", "HassClimateSetTemperature"),
    ],
)
def test_a_label_without_its_required_slots_is_incomplete(text: str, label: str) -> None:
    assert resolve(text, label)[1] is False


def test_cover_commands_carry_the_device_class_the_words_name() -> None:
    slots, _ = resolve("open the blinds halfway", "HassSetPosition domain=cover", area="Lounge")
    assert slots == {"domain": "cover", "position": 50, "device_class": "blind", "area": "Lounge"}


def test_label_keys_round_trip() -> None:
    label = Label.of("HassSetVolumeRelative", {"volume_step": "up", "name": "Speaker"})
    assert label.key == "HassSetVolumeRelative volume_step=up"
    assert Label.parse(label.key) == label
