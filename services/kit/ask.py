"""`slm-mesh ask SERVICE`: requests in (TEXT arguments, or stdin one a line), the service's
JSON answers out, one line each, in input order; the same for every service.

A line is plain text (`{"text": line}`) or a JSON object in the service's contract. The
answers come from the service run in this process, from a running one over gRPC
(`--target`), or through the mesh's router (`--mqtt`). A line that is refused gets
`{"text", "error"}` in its place, and the exit code is 2.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import grpc

from slm_mesh.services.errors import InvalidRequestError, SlmMeshError
from slm_mesh.services.kit.grpc_client import ServiceClient, remote_failure
from slm_mesh.services.kit.service import Service
from slm_mesh.services.kit.shared import Shared
from slm_mesh.services.runtime.grpc_tls import channel_security, config_from_settings
from slm_mesh.services.runtime.json_payload import load_json
from slm_mesh.services.settings import Settings

Answer = Callable[[Any], Awaitable[dict[str, Any]]]
"""One request in, its JSON answer out."""


def request_body(line: str, *, max_bytes: int) -> Any:
    """A line as the JSON value it stands for: an object when it is one, else its text."""
    if line.lstrip().startswith("{"):
        return load_json(line.encode("utf-8"), max_bytes=max_bytes)
    return {"text": line}


@asynccontextmanager
async def answerer(
    service: Service[Any, Any], settings: Settings, *, target: str | None, mqtt: bool
) -> AsyncIterator[Answer]:
    contract = service.contract
    if mqtt:
        from slm_mesh.services.mesh_ask import router_answerer

        async with router_answerer(settings, task=service.name) as ask:
            yield ask
    elif target is not None:
        tls = config_from_settings(settings.grpc, cache_dir=settings.cache_dir)
        security = channel_security(tls, target=target)
        async with ServiceClient(contract, target=target, security=security) as client:

            async def remote(request: Any) -> dict[str, Any]:
                try:
                    (answer,) = await client.call([request])
                except grpc.aio.AioRpcError as err:
                    raise remote_failure(service.name, target, err) from err
                return contract.answer_to_json(answer)

            yield remote
    else:
        async with service.start(settings, Shared(settings)) as started:

            async def local(request: Any) -> dict[str, Any]:
                (answer,) = await started.core.handle([request])
                return contract.answer_to_json(answer)

            yield local


async def ask_lines(
    service: Service[Any, Any],
    settings: Settings,
    lines: Iterable[str],
    *,
    target: str | None,
    mqtt: bool,
    write: Callable[[str], None],
) -> int:
    """Answer every line in order; returns how many were refused."""
    refused = 0
    async with answerer(service, settings, target=target, mqtt=mqtt) as answer:
        for line in lines:
            try:
                raw = request_body(line, max_bytes=service.contract.max_payload_bytes)
                request = service.contract.request_from_json(raw, "line")
                body = await answer(request)
            except InvalidRequestError as err:
                refused += 1
                body = {"text": line, "error": str(err)}
            write(json.dumps(body, ensure_ascii=False))
    return refused


def ask(
    service: Service[Any, Any],
    settings: Settings,
    lines: Iterable[str],
    *,
    target: str | None,
    mqtt: bool,
) -> int:
    """The exit code: 0, or 2 when a line was refused."""
    if target is not None and mqtt:
        raise SlmMeshError("give --target or --mqtt, not both")
    refused = asyncio.run(
        ask_lines(service, settings, lines, target=target, mqtt=mqtt, write=_print)
    )
    return 2 if refused else 0


def _print(line: str) -> None:
    print(line, flush=True)
