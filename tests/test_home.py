"""The home file: what a user writes once, read strictly but forgivingly."""

import pytest

from slm_mesh.services.errors import HomeFileError
from slm_mesh.services.home.model import load_home, parse_home

HOME = """
language: en
floors:
  - {name: Ground Floor, id: ground}
areas:
  - {name: Kitchen, id: kitchen, floor: ground}
  - {name: Lounge, id: lounge, floor: ground, aliases: [living room]}
entities:
  - name: Ceiling Light
    id: light.kitchen_ceiling
    area: kitchen
    state: {in: "on", out: "on"}
  - name: "[the] garage door"
    id: cover.garage
    attributes: {device_class: garage, unit_of_measurement: x}
timers: []
"""


def test_a_fixture_shaped_home_is_read_with_its_aliases_and_floors() -> None:
    home = parse_home(HOME)
    assert [a.name for a in home.areas] == ["Kitchen", "Lounge"]
    assert home.find_area("Living Room") is not None
    assert home.find_area("living room").name == "Lounge"  # type: ignore[union-attr]
    light = home.entities[0]
    assert (light.domain, light.area_id) == ("light", "kitchen")
    assert home.find_area("kitchen").floor_id == "ground"  # type: ignore[union-attr]


def test_names_are_plain_text_even_when_they_look_like_templates() -> None:
    garage = parse_home(HOME).entities[1]
    assert (garage.name, garage.aliases) == ("[the] garage door", ())
    assert garage.device_class == "garage"


@pytest.mark.parametrize(
    ("text", "line", "why"),
    [
        ("areas: []\n", 1, "no `entities`"),
        ("entities:\n  - {name: Lamp}\n", 2, "entities[0].id is missing"),
        ("entities:\n  - {name: Lamp, id: lamp}\n", 2, "'lamp' is not `domain.object_id`"),
        ("areas: []\nentities:\n  - {name: Lamp, id: light.x, area: attic}\n", 3, "unknown area"),
        ("entities:\n  - {name: A, id: light.a}\n  - {name: B, id: light.a}\n", 3, "duplicate"),
        ("entities: [\n", 2, "not valid YAML"),
        ("entities:\n  - {name: '', id: light.a}\n", 2, "must not be empty"),
    ],
)
def test_a_malformed_home_names_the_line_and_the_reason(text: str, line: int, why: str) -> None:
    with pytest.raises(HomeFileError) as caught:
        parse_home(text, source="home.yaml")
    assert f"home.yaml:{line}:" in str(caught.value)
    assert why in str(caught.value)


def test_a_missing_home_file_says_so(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(HomeFileError, match="no such home file"):
        load_home(tmp_path / "nope.yaml")
