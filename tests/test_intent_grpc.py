"""The intent service's gRPC edge, against a real server on loopback and a small recognizer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TypedDict, Unpack

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from intent_fakes import HeldModel

from slm_mesh.services.contracts.info import ModelInfo, ServiceInfo
from slm_mesh.services.contracts.intent import (
    CONTRACT,
    IntentRequest,
    IntentResult,
    result_from_proto,
    result_to_proto,
)
from slm_mesh.services.contracts.text import check_text
from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.intent.core import IntentService
from slm_mesh.services.kit.grpc_client import ServiceClient
from slm_mesh.services.kit.grpc_face import GrpcFace
from slm_mesh.services.kit.service import Core
from slm_mesh.services.runtime.grpc_server import GrpcServer

SERVICE_NAME = CONTRACT.grpc.service
INFO = ServiceInfo(
    name="intent",
    version="0.1.0",
    models=(
        ModelInfo(
            name="all-MiniLM-L6-v2",
            task="intent-classification",
            sha256="ab" * 32,
            precision="int8",
            attribution="Apache-2.0, sentence-transformers",
        ),
    ),
)
IntentClient = ServiceClient[IntentRequest, IntentResult]
RecognizerLike = Core[IntentRequest, IntentResult]


class EchoRecognizer:
    """Echoes each text as a result; refuses "bad" and texts over 20 characters, breaks on
    "boom", dawdles on "slow"."""

    async def handle(self, requests: Sequence[IntentRequest]) -> list[IntentResult]:
        results = []
        for request in requests:
            check_text(request.text, max_chars=20)
            if request.text == "bad":
                raise InvalidRequestError("the text 'bad' is refused")
            if request.text == "boom":
                raise RuntimeError("the recognizer broke")
            if request.text == "slow":
                await asyncio.sleep(2.0)
            results.append(
                IntentResult(
                    text=request.text,
                    intent="HassTurnOn",
                    slots={
                        "name": request.text,
                        "area": request.area or "",
                        "brightness": 50,
                        "temperature": 21.5,
                    },
                    confidence=0.9,
                    tier="template",
                    reason="echo",
                )
            )
        return results


class Limits(TypedDict, total=False):
    max_message_bytes: int
    max_batch: int


def run(
    test: Callable[[GrpcServer, IntentClient], Awaitable[None]], **limits: Unpack[Limits]
) -> None:
    asyncio.run(_with_server(test, **limits))


async def _with_server(
    test: Callable[[GrpcServer, IntentClient], Awaitable[None]], **limits: Unpack[Limits]
) -> None:
    async with serving(**limits) as (server, client):
        await test(server, client)


class Watched:
    """The service behind the servicer, noting when a call is cancelled while it waits."""

    def __init__(self, service: RecognizerLike) -> None:
        self.service = service
        self.cancelled = asyncio.Event()

    async def handle(self, requests: Sequence[IntentRequest]) -> Sequence[IntentResult]:
        try:
            return await self.service.handle(requests)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise


@asynccontextmanager
async def serving(
    *,
    max_message_bytes: int = 1 << 20,
    recognizer: RecognizerLike | None = None,
    max_batch: int = 64,
) -> AsyncIterator[tuple[GrpcServer, IntentClient]]:
    face = GrpcFace(
        contract=replace(CONTRACT, max_batch=max_batch),
        core=recognizer or EchoRecognizer(),
        info=INFO,
    )
    server = GrpcServer(register=face.register, max_message_bytes=max_message_bytes)
    async with server, ServiceClient(CONTRACT, target=f"127.0.0.1:{server.port}") as client:
        yield server, client


async def ready(server: GrpcServer, client: IntentClient) -> None:
    await server.set_serving(True)
    await client.wait_until_serving(5.0)


async def assert_still_serves(client: IntentClient) -> None:
    [result] = await client.call([IntentRequest("still here")])
    assert result.text == "still here"


def test_result_survives_the_wire_with_slot_types_and_missing_intent() -> None:
    result = IntentResult(
        text="set it to 21.5",
        intent=None,
        slots={"name": "fan", "brightness": 50, "temperature": 21.5},
        confidence=0.25,
        tier="none",
        reason="no match",
    )
    assert result_from_proto(result_to_proto(result)) == result


@pytest.mark.integration
def test_batch_round_trip_keeps_order_and_slot_types() -> None:
    async def check(server: GrpcServer, client: IntentClient) -> None:
        await ready(server, client)
        texts = ["turn on the lamp", "open the blinds", "stop the fan"]
        results = await client.call(
            [IntentRequest(t, area="kitchen") for t in texts], request_id="r-1"
        )
        assert [r.text for r in results] == texts
        assert results[0].slots == {
            "name": "turn on the lamp",
            "area": "kitchen",
            "brightness": 50,
            "temperature": 21.5,
        }
        assert isinstance(results[0].slots["brightness"], int)
        assert (results[0].intent, results[0].tier, results[0].confidence) == (
            "HassTurnOn",
            "template",
            0.9,
        )

    run(check)


@pytest.mark.integration
def test_bad_item_is_invalid_argument_and_the_server_serves_the_next_call() -> None:
    async def check(server: GrpcServer, client: IntentClient) -> None:
        await ready(server, client)
        with pytest.raises(InvalidRequestError, match="'bad' is refused"):
            await client.call([IntentRequest("fine"), IntentRequest("bad")])
        await assert_still_serves(client)

    run(check)


@pytest.mark.integration
def test_edge_limits_are_invalid_argument() -> None:
    async def check(server: GrpcServer, client: IntentClient) -> None:
        await ready(server, client)
        with pytest.raises(InvalidRequestError, match="empty batch"):
            await client.call([])
        with pytest.raises(InvalidRequestError, match="3 requests in one call; the limit is 2"):
            await client.call([IntentRequest("a")] * 3)
        with pytest.raises(InvalidRequestError, match="text is 21 characters; the limit is 20"):
            await client.call([IntentRequest("a"), IntentRequest("x" * 21)])
        await assert_still_serves(client)

    run(check, max_batch=2)


@pytest.mark.integration
def test_a_call_over_the_character_bound_is_invalid_argument_saying_to_split_it() -> None:
    async def check() -> None:
        model = HeldModel()
        async with (
            IntentService(recognizer=model.recognizer(), max_call_chars=100) as service,
            serving(recognizer=service) as (server, client),
        ):
            await ready(server, client)
            with pytest.raises(
                InvalidRequestError, match="120 characters in all, over the limit of 100 per call"
            ) as refused:
                await client.call([IntentRequest("x" * 60), IntentRequest("y" * 60)])
            assert isinstance(refused.value.__cause__, grpc.aio.AioRpcError)
            assert refused.value.__cause__.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "split them across smaller calls" in str(refused.value)
            assert model.batches == []
            assert len(await client.call([IntentRequest("x" * 50)] * 2)) == 2

    asyncio.run(check())


@pytest.mark.integration
@pytest.mark.parametrize("goes", ["cancelled", "past its deadline"])
def test_the_texts_of_a_caller_that_has_gone_never_reach_the_model(goes: str) -> None:
    model = HeldModel()

    async def check() -> None:
        async with IntentService(recognizer=model.recognizer()) as service:
            watched = Watched(service)
            async with serving(recognizer=watched) as (server, client):
                await ready(server, client)
                held = [IntentRequest("hold"), IntentRequest("hold on")]
                holding = asyncio.create_task(client.call(held))
                await asyncio.to_thread(model.holding.wait, 10)
                model.matched.clear()
                timeout = 0.2 if goes == "past its deadline" else None
                gone = asyncio.create_task(
                    client.call([IntentRequest("gone"), IntentRequest("gone too")], timeout=timeout)
                )
                await asyncio.wait_for(model.matched.wait(), 10)  # queued behind the held batch
                if goes == "cancelled":
                    gone.cancel()
                await asyncio.wait_for(watched.cancelled.wait(), 10)
                model.release.set()
                assert [r.text for r in await holding] == ["hold", "hold on"]
                await assert_still_serves(client)
                outcome = (await asyncio.gather(gone, return_exceptions=True))[0]
                if goes == "cancelled":
                    assert isinstance(outcome, asyncio.CancelledError)
                else:
                    assert isinstance(outcome, grpc.aio.AioRpcError)
                    assert outcome.code() == grpc.StatusCode.DEADLINE_EXCEEDED

    asyncio.run(check())
    assert model.batches[0] == ["hold", "hold on"]
    assert not any(text.startswith("gone") for text in model.texts)


@pytest.mark.integration
def test_undecodable_bytes_are_invalid_argument() -> None:
    async def check(server: GrpcServer, client: IntentClient) -> None:
        await ready(server, client)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            raw: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]
            raw = channel.unary_unary(f"/{SERVICE_NAME}/Recognize")
            bad_utf8 = b"\x0a\x04" + b"\x0a\x02\xff\xfe"  # utterances[0].text = b"\xff\xfe"
            for payload in (bad_utf8, b"\xff\xff\xff"):
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await raw(payload, timeout=5.0)
                assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
                assert "malformed request" in (caught.value.details() or "")
        await assert_still_serves(client)

    run(check)


@pytest.mark.integration
def test_recognizer_failure_is_internal_and_the_server_carries_on() -> None:
    async def check(server: GrpcServer, client: IntentClient) -> None:
        await ready(server, client)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.call([IntentRequest("boom")])
        assert caught.value.code() == grpc.StatusCode.INTERNAL
        assert "recognizer broke" not in (caught.value.details() or "")
        await assert_still_serves(client)

    run(check)


@pytest.mark.integration
def test_short_deadline_on_slow_work_is_deadline_exceeded_and_the_server_carries_on() -> None:
    async def check(server: GrpcServer, client: IntentClient) -> None:
        await ready(server, client)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.call([IntentRequest("slow")], timeout=0.2)
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        await assert_still_serves(client)

    run(check)


@pytest.mark.integration
def test_oversize_message_is_rejected_and_the_server_carries_on() -> None:
    async def check(server: GrpcServer, client: IntentClient) -> None:
        await ready(server, client)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.call([IntentRequest("x" * 5000)])
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        await assert_still_serves(client)

    run(check, max_message_bytes=4096)


@pytest.mark.integration
def test_health_goes_from_not_serving_to_serving() -> None:
    async def check(server: GrpcServer, client: IntentClient) -> None:
        down, up = (
            health_pb2.HealthCheckResponse.NOT_SERVING,
            health_pb2.HealthCheckResponse.SERVING,
        )
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)

            async def overall() -> int:
                # types-grpcio-health-checking declares `HealthStub` without its methods.
                response = await health.Check(health_pb2.HealthCheckRequest(service=""))  # type: ignore[attr-defined]
                return int(response.status)

            assert (await client.health(), await overall()) == (down, down)
            with pytest.raises(TimeoutError, match="NOT_SERVING"):
                await client.wait_until_serving(0.2)
            await server.set_serving(True)
            await client.wait_until_serving(5.0)
            assert (await client.health(), await overall()) == (up, up)

    run(check)


@pytest.mark.integration
def test_reflection_lists_and_describes_the_intent_service() -> None:
    async def check(server: GrpcServer, client: IntentClient) -> None:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            # types-grpcio-reflection types the stub for a blocking channel only, and its
            # method as `binascii.Incomplete` (an exception class), not a callable.
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)  # type: ignore[arg-type]
            requests = [
                reflection_pb2.ServerReflectionRequest(list_services=""),
                reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE_NAME),
            ]
            stream = stub.ServerReflectionInfo(iter(requests))  # type: ignore[operator]
            responses = [r async for r in stream]
        listed = {s.name for s in responses[0].list_services_response.service}
        assert {SERVICE_NAME, "grpc.health.v1.Health"} <= listed
        assert responses[1].file_descriptor_response.file_descriptor_proto

    run(check)


@pytest.mark.integration
def test_describe_reports_the_service_and_its_models() -> None:
    async def check(server: GrpcServer, client: IntentClient) -> None:
        info = await client.describe()
        assert (info.name, info.version) == ("intent", "0.1.0")
        assert [(m.name, m.precision) for m in info.models] == [("all-MiniLM-L6-v2", "int8")]

    run(check)
