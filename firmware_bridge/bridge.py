"""The bridge: frames from device links in, device events and statuses out to the mesh,
answers and commands back to the devices.

What a link read comes to `deliver`, on the event loop. A packet the link dropped, a frame
a device may not send (an answer, a command), an event the mesh cannot take, a repeat or
a replay (`sequence`) is counted by why and dropped. A text event is asked of the router,
in a task of its own (at most `max_in_flight` at once; past that, the event is dropped and
counted), and the router's answer goes back to the device as an Answer frame on the route
it was last heard on. A button press and a sensor reading go to the device's topics. Each
frame is handled in a `try` of its own: whatever one frame meets costs that frame.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import structlog

from slm_mesh.firmware_bridge.counts import BridgeCounts
from slm_mesh.firmware_bridge.frames import VERSION, FrameError, Received, Rejected, pack
from slm_mesh.firmware_bridge.keys import DeviceKeys
from slm_mesh.firmware_bridge.link import LinkDown, Route
from slm_mesh.firmware_bridge.presence import MAX_DEVICES, Presence
from slm_mesh.firmware_bridge.sequence import SequenceTracker
from slm_mesh.firmware_bridge.topics import BridgeTopics
from slm_mesh.firmware_bridge.translate import (
    answer_from_reply,
    button_json,
    check_event,
    error_answer,
    router_event,
    sensor_json,
)
from slm_mesh.services.errors import SlmMeshError
from slm_mesh.v1.bridge_pb2 import Answer, Command, Frame

log = structlog.get_logger(__name__)

MAX_COMMAND_BYTES = 512


class Mesh(Protocol):
    """The bridge's side of the mesh (`mesh_edge.MeshEdge` over MQTT)."""

    async def ask(self, device: str, body: dict[str, Any], *, timeout_s: float) -> dict[str, Any]:
        """The router's answer to a device event; DeadlineExceeded when none comes."""
        ...

    async def publish(
        self, topic: str, body: dict[str, Any], *, retain: bool = False, expiry_s: int | None = None
    ) -> None: ...


class Bridge:
    def __init__(
        self,
        *,
        mesh: Mesh,
        topics: BridgeTopics,
        keys: DeviceKeys,
        instance: str,
        deadline_ms: int = 5000,
        max_in_flight: int = 64,
        presence: Presence | None = None,
        sequence: SequenceTracker | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.mesh = mesh
        self.topics = topics
        self.keys = keys
        self.instance = instance
        self.deadline_ms = deadline_ms
        self.max_in_flight = max_in_flight
        self.presence = presence or Presence()
        self.sequence = sequence or SequenceTracker()
        self.counts = BridgeCounts()
        self._clock = clock
        self._wall_clock = wall_clock
        self._routes: OrderedDict[str, Route] = OrderedDict()
        self._sent: dict[str, int] = {}
        self._boot_id = secrets.randbits(32) or 1
        self._tasks: set[asyncio.Task[None]] = set()
        self._asking = 0

    # -- from devices

    def deliver(self, results: list[Received | Rejected], route: Route) -> None:
        """What a link read: each frame taken or dropped on its own."""
        for result in results:
            try:
                self._take(result, route)
            except Exception:
                self.counts.failed += 1
                log.exception("frame dropped: it could not be handled", link=str(route))

    def _take(self, result: Received | Rejected, route: Route) -> None:
        if isinstance(result, Rejected):
            self._drop(result.reason, route, device=result.device, detail=result.detail)
            return
        frame = result.frame
        body = frame.WhichOneof("body")
        if body not in ("event", "heartbeat"):
            self._drop("direction", route, device=frame.device, detail=f"a device sent {body}")
            return
        if body == "event":
            try:
                check_event(frame)
            except FrameError as err:
                self._drop(err.reason, route, device=frame.device, detail=err.detail)
                return
        now = self._clock()
        device = frame.device
        verdict = self.sequence.check(
            device,
            boot_id=frame.boot_id,
            seq=frame.seq,
            now=now,
            gap_s=self.presence.timeout_s(device),
        )
        if not verdict.accepted:
            self._drop(verdict.outcome, route, device=device, detail=f"seq {frame.seq}")
            return
        self.counts.frames += 1
        if verdict.outcome == "restart":
            self.counts.restarts += 1
            log.info("device restarted", device=device, boot_id=frame.boot_id, link=str(route))
        self._routes[device] = route
        self._routes.move_to_end(device)
        while len(self._routes) > MAX_DEVICES:
            forgotten, _ = self._routes.popitem(last=False)
            self._sent.pop(forgotten, None)
        interval = float(frame.heartbeat.interval_s) if body == "heartbeat" else None
        if self.presence.heard(device, now=now, link=str(route), interval_s=interval):
            self._spawn(self._announce(device, "online"))
        if body == "heartbeat":
            self.counts.heartbeats += 1
            return
        self._event(frame, verdict.session, route)

    def _event(self, frame: Frame, session: int, route: Route) -> None:
        self.counts.events += 1
        kind = frame.event.WhichOneof("kind")
        wall_now = self._wall_clock()
        if kind == "text":
            if self._asking >= self.max_in_flight:
                self._drop("busy", route, device=frame.device, detail="too many events in flight")
                return
            self._spawn(self._ask(frame, session), asking=True)
        elif kind == "button":
            button = frame.event.button
            topic = self.topics.button(frame.device, button.name)
            payload = button_json(frame, session=session, wall_now=wall_now)
            self._spawn(self._publish(topic, payload))
        elif kind == "sensor":
            sensor = frame.event.sensor
            topic = self.topics.sensor(frame.device, sensor.name)
            payload = sensor_json(frame, session=session, wall_now=wall_now)
            self._spawn(self._publish(topic, payload, retain=True))

    async def _ask(self, frame: Frame, session: int) -> None:
        body = router_event(
            frame, session=session, deadline_ms=self.deadline_ms, wall_now=self._wall_clock()
        )
        with structlog.contextvars.bound_contextvars(request_id=body["id"]):
            try:
                reply = await self.mesh.ask(
                    frame.device, body, timeout_s=self.deadline_ms / 1000 + 1.0
                )
                answer = answer_from_reply(reply, seq=frame.seq)
            except SlmMeshError as err:  # no answer in time, no broker
                log.warning("device event not answered", device=frame.device, why=str(err))
                answer = error_answer(err.code, str(err), seq=frame.seq)
            except Exception as err:
                log.exception("device event failed", device=frame.device)
                answer = error_answer("internal", type(err).__name__, seq=frame.seq)
            if await self.send(frame.device, answer=answer):
                self.counts.answers += 1

    async def _publish(
        self, topic: str, body: dict[str, Any], *, retain: bool = False, expiry_s: int | None = None
    ) -> None:
        try:
            await self.mesh.publish(topic, body, retain=retain, expiry_s=expiry_s)
        except Exception:
            self.counts.failed += 1
            log.exception("could not publish", topic=topic)

    # -- to devices

    async def send(
        self, device: str, *, answer: Answer | None = None, command: Command | None = None
    ) -> bool:
        """One frame to `device`, on the route it was last heard on; False (counted) when
        it cannot go."""
        route = self._routes.get(device)
        if route is None:
            self.counts.undeliverable += 1
            log.warning("no route to the device", device=device)
            return False
        seq = self._sent.get(device, 0)
        self._sent[device] = (seq + 1) & 0xFFFFFFFF
        frame = Frame(
            version=VERSION,
            device=device,
            seq=seq,
            timestamp_ms=int(self._wall_clock() * 1000),
            boot_id=self._boot_id,
            answer=answer,
            command=command,
        )
        try:
            await route.link.send(pack(frame, key=self.keys.key(device)), route.address)
        except (LinkDown, FrameError) as err:
            self.counts.undeliverable += 1
            log.warning("frame not sent to the device", device=device, why=str(err))
            return False
        return True

    async def command(self, device: str, name: str, payload: bytes, *, retained: bool) -> None:
        """A command from `<prefix>/device/<device>/command/<name>`, to the device."""
        if retained:  # replayed at every subscribe: "unlock" must not act at every start
            self._drop("command:retained", None, device=device, detail=name)
            return
        if len(payload) > MAX_COMMAND_BYTES:
            self._drop("command:oversize", None, device=device, detail=name)
            return
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            self._drop("command:unreadable", None, device=device, detail=name)
            return
        if await self.send(device, command=Command(name=name, payload=text)):
            self.counts.commands += 1

    # -- presence

    async def watch(self, every_s: float = 1.0) -> None:
        """Mark silent devices offline and refresh the others' statuses, until cancelled."""
        while True:
            await asyncio.sleep(every_s)
            now = self._clock()
            for device in self.presence.gone_silent(now=now):
                log.info("device offline: silent", device=device)
                await self._announce(device, "offline")
            for device in self.presence.due_again(now=now):
                await self._announce(device, "online")

    async def _announce(self, device: str, state: str) -> None:
        timeout = self.presence.timeout_s(device)
        body = {
            "state": state,
            "device": device,
            "bridge": self.instance,
            "link": self.presence.link(device),
            "timeout_s": timeout,
            "since": round(self._wall_clock(), 3),
        }
        expiry = int(2 * timeout) + 1 if state == "online" else None
        self.presence.announced(device, now=self._clock())
        await self._publish(self.topics.status(device), body, retain=True, expiry_s=expiry)

    async def drain(self) -> None:
        """Wait until nothing is in flight (events being asked, statuses being sent)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        """Stop what is in flight and mark every online device offline."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for device in self.presence.online():
            await self._announce(device, "offline")

    # -- helpers

    def _spawn(self, work: Coroutine[Any, Any, None], *, asking: bool = False) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        if asking:
            self._asking += 1

        def finished(done: asyncio.Task[None]) -> None:
            self._tasks.discard(done)
            if asking:
                self._asking -= 1
            if not done.cancelled() and done.exception() is not None:
                self.counts.failed += 1
                log.error("bridge task failed", exc_info=done.exception())

        task.add_done_callback(finished)

    def _drop(self, reason: str, route: Route | None, *, device: str | None, detail: str) -> None:
        """Counted; logged quietly, as noise on a serial line is routine, but for frames
        that claim a keyed device's id without its key."""
        self.counts.dropped[reason] += 1
        level = log.info if reason == "unauthenticated" else log.debug
        level(
            "dropped", reason=reason, device=device, link=str(route) if route else None, why=detail
        )
