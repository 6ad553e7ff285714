"""The home read from Home Assistant's WebSocket API: its registries turned into the home
Assist sees (pure), and a session with a local server that speaks Home Assistant's messages
(auth, result, event), followed through changes, restarts, refused tokens and garbage."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
import structlog
from fake_home_assistant import (
    TOKEN,
    FakeHomeAssistant,
    HomeAssistantData,
    fake_home_assistant,
    home_assistant_shapes,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from slm_mesh.services.errors import HomeFileError
from slm_mesh.services.home.follow import following
from slm_mesh.services.home.homeassistant.connection import websocket_url
from slm_mesh.services.home.homeassistant.errors import (
    HomeAssistantAuthError,
    HomeAssistantDataError,
    HomeAssistantError,
    HomeAssistantSettingsError,
)
from slm_mesh.services.home.homeassistant.registries import (
    Snapshot,
    home_from,
    state_change_matters,
)
from slm_mesh.services.home.homeassistant.source import (
    HomeAssistantSource,
    access_token,
    source_from,
)
from slm_mesh.services.home.model import Home
from slm_mesh.services.settings import Settings


def _snapshot(data: HomeAssistantData) -> Snapshot:
    exposed = data.answer("homeassistant/expose_entity/list", {})
    entries = data.answer(
        "config/entity_registry/get_entries",
        {"entity_ids": [e["entity_id"] for e in data.entities]},
    )
    return Snapshot(
        floors=data.floors,
        areas=data.areas,
        devices=data.devices,
        entities=data.answer("config/entity_registry/list", {}),
        states=data.states,
        exposed=exposed,
        aliases={eid: entry["aliases"] for eid, entry in entries.items() if entry},
    )


def _entity(
    entity_id: str, *, name: str, device_class: str | None = None, **entry: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A registry entry and its state."""
    attributes = {"friendly_name": name} | ({"device_class": device_class} if device_class else {})
    registry = {"entity_id": entity_id, "device_id": None, "area_id": None, "options": {}} | entry
    return registry, {"entity_id": entity_id, "state": "on", "attributes": attributes}


def _data(*entities: tuple[dict[str, Any], dict[str, Any]]) -> HomeAssistantData:
    return HomeAssistantData(
        floors=[{"floor_id": "ground", "name": "Ground Floor", "aliases": ["downstairs"]}],
        areas=[
            {
                "area_id": "kitchen",
                "name": "Kitchen",
                "aliases": ["cookhouse"],
                "floor_id": "ground",
            },
            {"area_id": "hall", "name": "Hall", "aliases": [], "floor_id": None},
        ],
        devices=[
            {"id": "dev-satellite", "area_id": "kitchen"},
            {"id": "dev-lamp", "area_id": "hall"},
        ],
        entities=[registry for registry, _ in entities],
        states=[state for _, state in entities],
    )


T = TypeVar("T")

# The registries, as the home Assist sees.


def test_the_demo_home_read_back_from_home_assistants_shapes_is_the_same_home(
    demo_home: Home,
) -> None:
    read = home_from(_snapshot(home_assistant_shapes(demo_home)))

    assert replace(read.home, device_areas=()) == demo_home
    assert read.skipped == ()


def test_an_entity_takes_its_name_aliases_area_and_class_as_assist_does() -> None:
    data = _data(
        _entity("light.lamp", name="Reading Lamp", device_id="dev-lamp", aliases=["big lamp"]),
        _entity(
            "binary_sensor.back_door", name="Back Door", device_class="door", area_id="kitchen"
        ),
    )

    home = home_from(_snapshot(data)).home

    lamp, door = home.entities
    assert (lamp.name, lamp.aliases, lamp.area_id) == ("Reading Lamp", ("big lamp",), "hall")
    assert (door.area_id, door.device_class) == ("kitchen", "door")
    assert home.find_area("cookhouse") == home.areas[0]
    assert home.floors[0].aliases == ("downstairs",)


def test_what_is_not_exposed_to_assist_is_left_out_as_home_assistant_decides() -> None:
    hidden = {"conversation": {"should_expose": False}}
    data = _data(
        _entity("light.shown", name="Shown"),
        _entity("light.hidden", name="Hidden", options=hidden),
        _entity("sensor.hall_temperature", name="Hall Temperature", device_class="temperature"),
        _entity("sensor.energy", name="Energy", device_class="energy"),
        _entity("switch.setting", name="Setting", entity_category="config"),
    )
    snapshot = replace(_snapshot(data), exposed={"exposed_entities": {}})

    ids = [entity.id for entity in home_from(snapshot).home.entities]

    assert ids == ["light.shown", "sensor.hall_temperature"]


def test_the_exposure_list_overrides_the_defaults() -> None:
    data = _data(_entity("light.one", name="One"), _entity("sensor.energy", name="Energy"))
    exposed = {
        "exposed_entities": {
            "light.one": {"conversation": False},
            "sensor.energy": {"conversation": True},
        }
    }

    home = home_from(replace(_snapshot(data), exposed=exposed)).home

    assert [entity.id for entity in home.entities] == ["sensor.energy"]


def test_one_entity_with_an_unusable_name_is_left_out_with_the_reason() -> None:
    data = _data(_entity("light.ok", name="Fine"), _entity("light.bad", name="x" * 500))

    read = home_from(_snapshot(data))

    assert [entity.id for entity in read.home.entities] == ["light.ok"]
    assert read.skipped == ("entity light.bad: its name is 500 characters long; the limit is 200",)


def test_a_satellite_speaks_from_its_devices_area() -> None:
    data = _data(
        _entity("assist_satellite.kitchen", name="Kitchen Satellite", device_id="dev-satellite")
    )

    areas = dict(home_from(_snapshot(data)).home.device_areas)

    assert areas["dev-satellite"] == "kitchen"
    assert areas["assist_satellite.kitchen"] == "kitchen"


@pytest.mark.parametrize(
    ("field", "value", "complaint"),
    [
        ("states", {"light.x": "on"}, "get_states is not usable: its result is dict"),
        ("devices", [{"no_id": 1}], "device_registry/list is not usable: none of its 1 items"),
        ("exposed", ["x"], "has no `exposed_entities` mapping"),
    ],
)
def test_an_answer_of_the_wrong_shape_is_refused_naming_the_command(
    field: str, value: Any, complaint: str
) -> None:
    snapshot = replace(_snapshot(_data(_entity("light.x", name="X"))), **{field: value})

    with pytest.raises(HomeAssistantDataError, match=complaint):
        home_from(snapshot)


def test_only_a_state_change_that_renames_adds_or_removes_an_entity_matters() -> None:
    def state(name: str, value: str) -> dict[str, Any]:
        return {"state": value, "attributes": {"friendly_name": name}}

    assert not state_change_matters(
        {"old_state": state("Lamp", "off"), "new_state": state("Lamp", "on")}
    )
    assert state_change_matters(
        {"old_state": state("Lamp", "on"), "new_state": state("Lump", "on")}
    )
    assert state_change_matters({"old_state": None, "new_state": state("New", "on")})
    assert state_change_matters({"old_state": state("Gone", "on"), "new_state": None})
    assert not state_change_matters("garbage")


@pytest.mark.parametrize(
    ("given", "address"),
    [
        ("http://homeassistant.local:8123", "ws://homeassistant.local:8123/api/websocket"),
        ("https://ha.example.org/", "wss://ha.example.org/api/websocket"),
        ("ws://10.0.0.2:8123/api/websocket", "ws://10.0.0.2:8123/api/websocket"),
    ],
)
def test_the_api_address_comes_from_the_one_users_know(given: str, address: str) -> None:
    assert websocket_url(given) == address


def test_an_address_that_is_not_home_assistants_says_how_to_give_it() -> None:
    with pytest.raises(HomeAssistantSettingsError, match="give it as http://host:8123"):
        HomeAssistantSource(url="homeassistant.local", token=TOKEN)


def test_the_token_comes_from_the_settings_or_a_file(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text(f"{TOKEN}\n")

    assert access_token(None, path) == TOKEN
    assert access_token(SecretStr(TOKEN), None) == TOKEN
    with pytest.raises(HomeAssistantSettingsError, match="long-lived access token"):
        access_token(None, None)
    with pytest.raises(HomeAssistantSettingsError, match="not both"):
        access_token(SecretStr(TOKEN), path)


def test_a_home_file_and_home_assistant_together_are_refused() -> None:
    settings = Settings(home=Path("home.yaml")).updated(
        homeassistant_url="http://ha:8123", homeassistant_token=TOKEN
    )

    with pytest.raises(HomeFileError, match="not both"):
        source_from(settings)


def test_the_settings_never_show_the_token() -> None:
    settings = Settings().updated(homeassistant_url="http://ha:8123", homeassistant_token=TOKEN)

    assert TOKEN not in repr(settings)
    assert TOKEN not in repr(source_from(settings))


# A session with a server that speaks Home Assistant's messages.


def _source(server: FakeHomeAssistant, **fields: Any) -> HomeAssistantSource:
    return HomeAssistantSource(
        url=server.url, token=TOKEN, settle_s=0.05, retry_s=(0.05,), **fields
    )


def _run(play: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(play())


def test_the_home_is_read_over_the_websocket_api(demo_home: Home) -> None:
    async def play() -> tuple[Home, FakeHomeAssistant]:
        async with fake_home_assistant(home_assistant_shapes(demo_home)) as server:
            return await _source(server).read(), server

    home, server = _run(play)

    assert replace(home, device_areas=()) == demo_home
    assert server.received[0] == {"type": "auth", "access_token": TOKEN}
    assert TOKEN not in str(server.received[1:]), "the token goes in the auth message only"
    assert "config/entity_registry/get_entries" in server.commands


def test_a_refused_token_says_how_to_make_one_and_never_shows_it(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    async def play() -> None:
        data = _data(_entity("light.x", name="X"))
        async with fake_home_assistant(data, token="another") as server:
            await _source(server).first_home()

    with caplog.at_level(logging.DEBUG), pytest.raises(HomeAssistantAuthError) as refused:
        _run(play)

    assert "refused the access token" in str(refused.value)
    assert "profile page" in str(refused.value)
    shown = str(refused.value) + caplog.text + "".join(capsys.readouterr())
    assert TOKEN not in shown


@pytest.mark.parametrize(
    ("garbage", "complaint"),
    [
        (b"\xff\xfe not json", "not UTF-8|not JSON"),
        (b'["a", "list"]', "not a JSON object"),
        (b'{"type": "hello"}', "did not ask to authenticate"),
    ],
)
def test_an_answer_that_is_not_home_assistants_is_a_clear_error(
    garbage: bytes, complaint: str
) -> None:
    async def play() -> None:
        async with fake_home_assistant(HomeAssistantData(), garbage=garbage) as server:
            await _source(server).read()

    with pytest.raises(HomeAssistantDataError, match=complaint):
        _run(play)


def test_a_home_assistant_that_is_not_there_is_a_clear_error() -> None:
    async def play() -> None:
        source = HomeAssistantSource(url="http://127.0.0.1:9", token=TOKEN)
        await source.read()

    with pytest.raises(
        HomeAssistantError, match=r"cannot reach Home Assistant at http://127\.0\.0\.1:9"
    ):
        _run(play)


@asynccontextmanager
async def _following(
    server: FakeHomeAssistant, seen: list[Home]
) -> AsyncIterator[HomeAssistantSource]:
    """A source that has read the home and follows it, each home it is told of appended
    to `seen`, until the context exits."""
    source = _source(server)
    home = await source.read()

    async def changed(new: Home) -> None:
        seen.append(new)

    task = asyncio.create_task(source.follow(changed, home=home))
    await server.subscribed(1)
    try:
        yield source
    finally:
        task.cancel()


async def _told(seen: list[Home]) -> None:
    """Until the source has told of a new home."""
    async with asyncio.timeout(10):
        while not seen:
            await asyncio.sleep(0.01)


def test_a_rename_in_home_assistant_reaches_the_home_and_a_new_state_alone_does_not() -> None:
    data = _data(_entity("light.lamp", name="Lamp", device_id="dev-lamp"))
    seen: list[Home] = []

    async def play() -> HomeAssistantSource:
        async with fake_home_assistant(data) as server, _following(server, seen) as source:
            reads = source.reads
            data.state("light.lamp")["state"] = "off"
            await server.fire(
                "state_changed",
                {
                    "entity_id": "light.lamp",
                    "old_state": {**data.state("light.lamp"), "state": "on"},
                    "new_state": data.state("light.lamp"),
                },
            )
            await asyncio.sleep(0.3)
            assert source.reads == reads, "a new state alone is not worth reading the home"

            data.state("light.lamp")["attributes"]["friendly_name"] = "Reading Lamp"
            data.entities[0]["aliases"] = ["book light"]
            await server.fire(
                "entity_registry_updated",
                {"action": "update", "entity_id": "light.lamp", "changes": {"aliases": []}},
            )
            await _told(seen)
            return source

    _run(play)

    (lamp,) = seen[-1].entities
    assert (lamp.name, lamp.aliases) == ("Reading Lamp", ("book light",))


def test_after_home_assistant_restarts_the_home_is_read_again_and_kept_meanwhile() -> None:
    data = _data(_entity("light.lamp", name="Lamp"))
    seen: list[Home] = []

    async def play() -> HomeAssistantSource:
        async with fake_home_assistant(data) as server, _following(server, seen) as source:
            await server.stop()
            data.states.append(_entity("light.new", name="New Lamp")[1])
            await asyncio.sleep(0.2)
            assert not seen, "while Home Assistant is away, the home read last stays"
            await server.start()
            await _told(seen)
            return source

    source = _run(play)

    assert [entity.name for entity in seen[-1].entities] == ["Lamp", "New Lamp"]
    assert source.failures >= 1


def test_a_token_refused_after_start_keeps_the_home_and_logs_an_error() -> None:
    data = _data(_entity("light.lamp", name="Lamp"))

    async def play() -> tuple[HomeAssistantSource, list[Any]]:
        async with fake_home_assistant(data) as server:
            source = _source(server)
            home = await source.read()
            server.token = "revoked"
            with structlog.testing.capture_logs() as logs:
                following = asyncio.create_task(source.follow(_ignore, home=home))
                async with asyncio.timeout(10):
                    while not source.failures:
                        await asyncio.sleep(0.01)
                following.cancel()
            return source, logs

    _, logs = _run(play)

    refused = [entry for entry in logs if entry["log_level"] == "error"]
    assert refused and "refused the access token" in refused[0]["why"]
    assert TOKEN not in str(logs)


async def _ignore(home: Home) -> None:
    del home


def test_the_follower_serves_home_assistants_home_without_a_broker(
    demo_home: Home, cache_dir: Path
) -> None:
    async def play() -> tuple[Home, Home]:
        data = home_assistant_shapes(demo_home)
        async with fake_home_assistant(data) as server:
            settings = Settings(cache_dir=cache_dir).updated(
                homeassistant_url=server.url, homeassistant_token=TOKEN
            )
            async with following(settings, role="intent", settle_s=0.05) as follower:
                first = follower.home
                changed = asyncio.Event()

                async def told(home: Home) -> None:
                    changed.set()

                follower.on_change(told)
                data.areas[0]["aliases"].append("galley")
                await server.subscribed(1)
                await server.fire(
                    "area_registry_updated", {"action": "update", "area_id": "kitchen"}
                )
                await asyncio.wait_for(changed.wait(), 10)
                return first, follower.home

    first, now = _run(play)

    assert replace(first, device_areas=()) == demo_home
    assert now.find_area("galley") is not None


def test_a_stream_of_new_states_does_not_hold_up_a_rename() -> None:
    data = _data(_entity("light.lamp", name="Lamp"), _entity("sensor.power", name="Power"))
    seen: list[Home] = []

    async def flood(server: FakeHomeAssistant) -> None:
        power = data.state("sensor.power")
        while True:
            await server.fire("state_changed", {"old_state": power, "new_state": power})
            await asyncio.sleep(0.01)

    async def play() -> None:
        async with fake_home_assistant(data) as server, _following(server, seen):
            sensor = asyncio.create_task(flood(server))
            data.state("light.lamp")["attributes"]["friendly_name"] = "Reading Lamp"
            await server.fire("entity_registry_updated", {"action": "update"})
            await _told(seen)
            sensor.cancel()

    _run(play)

    assert seen[-1].entities[0].name == "Reading Lamp"


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_RECORD = st.fixed_dictionaries(
    {},
    optional={
        key: _JSON
        for key in (
            "entity_id",
            "area_id",
            "floor_id",
            "id",
            "device_id",
            "name",
            "aliases",
            "attributes",
            "options",
        )
    },
)


@settings(max_examples=200, deadline=None)
@given(
    floors=st.lists(_RECORD, max_size=3) | _JSON,
    areas=st.lists(_RECORD, max_size=3) | _JSON,
    devices=st.lists(_RECORD, max_size=3) | _JSON,
    entities=st.lists(_RECORD, max_size=3) | _JSON,
    states=st.lists(_RECORD, max_size=3) | _JSON,
    exposed=_JSON,
)
def test_whatever_home_assistant_answers_is_a_home_or_a_clear_error(**answers: Any) -> None:
    try:
        read = home_from(Snapshot(**answers))
    except HomeAssistantDataError as err:
        assert "is not usable" in str(err)
    else:
        assert all(entity.name and "." in entity.id for entity in read.home.entities)
