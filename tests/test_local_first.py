"""`slm-mesh up`'s router asks the intent service beside it first, the mesh once it is busy."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from slm_mesh.services.contracts.intent import IntentResult
from slm_mesh.services.kit.mqtt_face import status_body
from slm_mesh.services.router.backends import LocalFirstIntent
from slm_mesh.services.router.directory import ServiceDirectory
from slm_mesh.services.runtime.mesh_key import MeshKey


class Recording:
    """An intent backend that answers after `release` is set, and counts what it was given."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.texts: list[str] = []
        self.release = asyncio.Event()
        self.release.set()

    async def recognize(
        self, texts: Sequence[str], *, area: str | None, timeout_s: float
    ) -> list[IntentResult]:
        self.texts += texts
        await self.release.wait()
        return [IntentResult(text=text, intent=None, reason=self.name) for text in texts]


KEY = MeshKey(b"k" * 32)


def _directory(*instances: str) -> ServiceDirectory:
    directory = ServiceDirectory(key=KEY)
    for instance in instances:
        topic = f"slm-mesh/status/intent/{instance}"
        directory.apply(topic, status_body(KEY, topic, {"state": "online"}).encode())
    return directory


async def _ask(backend: LocalFirstIntent, text: str) -> str:
    results = await backend.recognize([text], area=None, timeout_s=1.0)
    return results[0].reason


def test_an_idle_local_service_answers_even_with_replicas_online() -> None:
    asyncio.run(_idle_local_answers())


async def _idle_local_answers() -> None:
    local, mesh = Recording("local"), Recording("mesh")
    backend = LocalFirstIntent(
        local=local, mesh=mesh, directory=_directory("up", "gateway-2"), overflow_at=2
    )
    assert await _ask(backend, "lights off") == "local"
    assert mesh.texts == []


def test_once_the_local_service_holds_a_full_batch_the_mesh_takes_the_rest() -> None:
    asyncio.run(_overflow_goes_to_the_mesh())


async def _overflow_goes_to_the_mesh() -> None:
    local, mesh = Recording("local"), Recording("mesh")
    backend = LocalFirstIntent(
        local=local, mesh=mesh, directory=_directory("up", "gateway-2"), overflow_at=2
    )
    local.release.clear()
    waiting = [asyncio.create_task(_ask(backend, f"busy {n}")) for n in range(2)]
    await asyncio.sleep(0)
    assert backend.in_flight == 2
    assert await _ask(backend, "one more") == "mesh"
    local.release.set()
    assert await asyncio.gather(*waiting) == ["local", "local"]
    assert backend.in_flight == 0


def test_with_no_other_replica_a_busy_local_service_still_takes_the_request() -> None:
    asyncio.run(_no_replica_stays_local())


async def _no_replica_stays_local() -> None:
    local, mesh = Recording("local"), Recording("mesh")
    backend = LocalFirstIntent(local=local, mesh=mesh, directory=_directory("up"), overflow_at=1)
    local.release.clear()
    first = asyncio.create_task(_ask(backend, "busy"))
    second = asyncio.create_task(_ask(backend, "queued behind it"))
    await asyncio.sleep(0)
    local.release.set()
    assert list(await asyncio.gather(first, second)) == ["local", "local"]
    assert mesh.texts == []


def test_an_overflow_point_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="overflow_at"):
        LocalFirstIntent(
            local=Recording("l"), mesh=Recording("m"), directory=_directory(), overflow_at=0
        )
