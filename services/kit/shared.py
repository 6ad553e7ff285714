"""What the services of one process share: one sentence encoder per plugin, and one
follower of the home (from Home Assistant, with what MQTT discovery adds), for the services
and the router alike."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from types import TracebackType

from slm_mesh.services.contracts.info import ModelInfo
from slm_mesh.services.home.follow import HomeFollower, following
from slm_mesh.services.runtime.onnx_session import Embedder, cpu_int8_support
from slm_mesh.services.runtime.plugins import load_plugin
from slm_mesh.services.settings import Settings


@dataclass
class Shared:
    """What the services of one process share: one sentence encoder per plugin, however
    many services read sentences (the intent, sentiment and summarizer services)."""

    settings: Settings
    _encoders: dict[str, Embedder] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _follower: HomeFollower | None = None
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def __aenter__(self) -> Shared:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()

    async def home_follower(self, *, role: str) -> HomeFollower:
        """The process's one follower of the home, started by the first to ask (logged in
        as its `role`), until this `Shared` closes."""
        if self._follower is None:
            self._follower = await self._stack.enter_async_context(
                following(self.settings, role=role)
            )
        return self._follower

    async def encoder(self, plugin: str | None = None) -> Embedder:
        """The encoder session for `plugin` (default: the settings'), loaded once."""
        name = plugin or self.settings.plugin
        async with self._lock:
            if name not in self._encoders:
                self._encoders[name] = await asyncio.to_thread(self.load_encoder, name)
            return self._encoders[name]

    def load_encoder(self, name: str) -> Embedder:
        """A new encoder session for plugin `name`, as the settings say (not shared)."""
        return Embedder(
            plugin=load_plugin(name, cache_dir=self.settings.cache_dir),
            intra_op_threads=self.settings.intra_op_threads,
            cache_dir=self.settings.cache_dir,
            precision=self.settings.precision,
        )


def encoder_info(embedder: Embedder, *, task: str) -> ModelInfo:
    """What `Describe` says of a service's use of the shared encoder."""
    plugin = embedder.plugin
    return ModelInfo(
        name=plugin.name,
        task=task,
        sha256=plugin.model_sha256 or "",
        precision=f"{embedder.precision} (int8 dot-product instructions: {cpu_int8_support()})",
        attribution=plugin.attribution,
        licence=plugin.licence,
        labels=plugin.labels,
        max_length=plugin.max_length,
    )
