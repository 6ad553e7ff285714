"""The code-snippet service, described for the kit: the snippet library matched with the
shared sentence encoder by default, or a generative model (`SLM_MESH_CODE_PLUGIN=smollm2`,
or `path:DIR` of any model folder in onnxruntime-genai's format) with the library behind
it. The home is the one the other services see, followed while it changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Any

import structlog

from slm_mesh.services.code_snippet.core import CodeCore
from slm_mesh.services.code_snippet.generative import load_generator
from slm_mesh.services.code_snippet.library import load_library
from slm_mesh.services.code_snippet.retrieval import SnippetIndex
from slm_mesh.services.contracts.code import CONTRACT, CodeAnswer, CodeRequest
from slm_mesh.services.contracts.info import ServiceInfo
from slm_mesh.services.home.files import load_settings_home
from slm_mesh.services.home.follow import follows_home
from slm_mesh.services.home.model import Home
from slm_mesh.services.kit.service import Service, Started
from slm_mesh.services.kit.shared import Shared, encoder_info
from slm_mesh.services.settings import Settings

log = structlog.get_logger(__name__)


@asynccontextmanager
async def start(settings: Settings, shared: Shared) -> AsyncIterator[Started[Any, Any]]:
    follower = await shared.home_follower(role="code") if follows_home(settings) else None
    home = follower.home if follower is not None else load_settings_home(settings)
    embedder = await shared.encoder(settings.plugin)
    snippets = load_library()
    index = await asyncio.to_thread(SnippetIndex, snippets=snippets, embed=embedder.embed)
    generator = await asyncio.to_thread(load_generator, settings)
    core = CodeCore(
        home=home, index=index, generator=generator, model_first=settings.code.model_first
    )
    if follower is not None:

        async def follow(home: Home) -> None:
            core.use(home)

        follower.on_change(follow)
    models = [encoder_info(embedder, task="encoder: the snippet library's closest match")]
    if generator is not None:
        models.append(generator.info)
    log.info(
        "code service ready",
        snippets=len(snippets),
        generator=generator.name if generator else "none",
    )
    yield Started(
        core=core,
        info=ServiceInfo(name="code", version=metadata.version("slm-mesh"), models=tuple(models)),
    )


SERVICE: Service[CodeRequest, CodeAnswer] = Service(
    name="code",
    summary="a description in, a validated snippet out (automations, ESPHome, MicroPython, "
    "Python, shell) that names only the home's own entities",
    contract=CONTRACT,
    start=start,
)
