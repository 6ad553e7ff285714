"""The router's core: pick the task, run the tiers, answer every request before its deadline.

    template match ─┐
    SLM             ├─ the intent service (its replicas, over MQTT or in-process)
    LLM fallback   ─── only when no local tier answered, and only if configured

It knows nothing of MQTT: the services it calls are small protocols, so tests run it
with the real recognizer in-process and the mesh runs it with replicas over the broker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

import structlog

from slm_mesh.services.contracts.intent import IntentResult
from slm_mesh.services.contracts.text import CANNOT_HELP
from slm_mesh.services.errors import SlmMeshError
from slm_mesh.services.router.answer import Answer
from slm_mesh.services.router.compound import is_compound, split_command
from slm_mesh.services.router.request import RouterRequest, Task
from slm_mesh.services.router.tasks import pick_task, task_text
from slm_mesh.services.router.unanswered import UnansweredLog

log = structlog.get_logger(__name__)


class IntentBackend(Protocol):
    async def recognize(
        self, texts: Sequence[str], *, area: str | None, timeout_s: float
    ) -> list[IntentResult]:
        """One result per text, in order; InvalidRequestError for what the service refuses."""
        ...


class TaskBackend(Protocol):
    def available(self, task: str) -> bool: ...

    async def ask(self, task: str, text: str, *, timeout_s: float) -> dict[str, Any]: ...


class FallbackAnswerLike(Protocol):
    # Read-only, as the fallback's frozen answer is.
    @property
    def kind(self) -> str: ...
    @property
    def result(self) -> IntentResult | None: ...
    @property
    def answer_text(self) -> str | None: ...
    @property
    def reason(self) -> str: ...
    @property
    def budget(self) -> dict[str, Any] | None: ...
    @property
    def breaker(self) -> str: ...


class Fallback(Protocol):
    async def ask(self, text: str, *, area: str | None, deadline_s: float) -> FallbackAnswerLike:
        """Never raises for server trouble: it answers `cannot_help` with the reason."""
        ...


def spoken(task: str, reply: dict[str, Any]) -> str | None:
    """What a service's answer says, in words: a summary as it is, a sentiment as its
    label and probability, a snippet as its code (or, when none could be written, why),
    anything else by its `answer` or `text`."""
    if task == "summarize" and isinstance(reply.get("summary"), str):
        return str(reply["summary"])
    if task == "sentiment" and isinstance(reply.get("label"), str):
        score = (reply.get("scores") or {}).get(reply["label"])
        return f"{reply['label']} ({score:.0%})" if isinstance(score, float) else reply["label"]
    if task == "code" and isinstance(reply.get("code"), str):
        problems = [str(p) for p in reply.get("problems") or ()]
        return reply["code"] or "; ".join(problems) or None
    text = reply.get("answer") or reply.get("text")
    return text if isinstance(text, str) else None


class Router:
    def __init__(
        self,
        *,
        intent: IntentBackend,
        fallback: Fallback | None = None,
        tasks: TaskBackend | None = None,
        unanswered: UnansweredLog | None = None,
        devices: Mapping[str, str] | None = None,
        default_deadline_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock` is the one `RouterRequest.deadline_at` is on (the edge stamps arrivals
        with `time.monotonic`)."""
        if default_deadline_s <= 0:
            raise ValueError("default_deadline_s must be positive")
        self.intent = intent
        self.fallback = fallback
        self.tasks = tasks
        self.unanswered = unanswered
        self.devices = dict(devices or {})
        self.default_deadline_s = default_deadline_s
        self.unrecorded = 0
        """Unanswered requests the log could not keep (the answers still went out)."""
        self._clock = clock

    async def handle(self, request: RouterRequest) -> Answer:
        """An answer or an explicit error, always before the request's deadline."""
        started = self._clock()
        deadline_s = request.deadline_s or self.default_deadline_s
        deadline_at = request.deadline_at or started + deadline_s
        # Leave room to publish the answer before the requester gives up.
        budget_s = deadline_at - started - min(0.05, deadline_s * 0.1)
        task = pick_task(request.text, request.task)
        if budget_s <= 0:
            answer = Answer.error(
                request,
                task,
                "deadline_exceeded",
                f"the request's {deadline_s:g} s deadline had passed when it reached the router",
            )
            return replace(answer, elapsed_ms=(self._clock() - started) * 1000)
        try:
            async with asyncio.timeout(budget_s):
                answer = await self._route(request, task, started + budget_s)
        except TimeoutError:
            answer = Answer.error(
                request, task, "deadline_exceeded", f"no answer within {deadline_s:g} s"
            )
        except SlmMeshError as err:
            answer = Answer.error(request, task, err.code, str(err))
        return replace(answer, elapsed_ms=(self._clock() - started) * 1000)

    def _remaining(self, deadline: float) -> float:
        return max(0.001, deadline - self._clock())

    async def _route(self, request: RouterRequest, task: Task, deadline: float) -> Answer:
        if task != "intent":
            return await self._other_task(request, task, deadline)
        area = request.area or self.devices.get(request.device or "")
        parts = split_command(request.text) or []
        results = await self.intent.recognize(
            [request.text, *parts], area=area, timeout_s=self._remaining(deadline)
        )
        whole, part_results = results[0], results[1:]
        if is_compound(whole, part_results):
            return Answer.for_intents(
                request, part_results, reason=f"compound: {len(parts)} commands"
            )
        if whole.intent is not None:
            return Answer.for_intents(
                request, [whole], reason=whole.reason, out_of_scope=whole.out_of_scope
            )
        return await self._escalate(request, whole, area=area, deadline=deadline)

    async def _escalate(
        self, request: RouterRequest, local: IntentResult, *, area: str | None, deadline: float
    ) -> Answer:
        """No local tier answered: the fallback may, or nobody can."""
        why: dict[str, Any] = {"reason": local.reason, "out_of_scope": local.out_of_scope}
        if self.fallback is None:
            answer = Answer.for_intents(request, [], text=CANNOT_HELP, **why)
            self._record(request, local, None, area=area)
            return answer
        reply = await self.fallback.ask(
            request.text, area=area, deadline_s=self._remaining(deadline)
        )
        why.update(fallback=reply.breaker, budget=reply.budget)
        self._record(request, local, reply, area=area)
        if reply.kind == "intent" and reply.result is not None:
            return Answer.for_intents(request, [reply.result], **{**why, "reason": reply.reason})
        if reply.kind == "answer" and reply.answer_text:
            return replace(
                Answer.for_intents(request, [], text=reply.answer_text, **why),
                tier="llm",
                reason=reply.reason,
            )
        return Answer.for_intents(
            request, [], text=CANNOT_HELP, **{**why, "reason": f"{local.reason}; {reply.reason}"}
        )

    async def _other_task(self, request: RouterRequest, task: Task, deadline: float) -> Answer:
        if self.tasks is not None and self.tasks.available(task):
            reply = await self.tasks.ask(
                task, task_text(request.text, task), timeout_s=self._remaining(deadline)
            )
            text = spoken(task, reply)
            if text is None:
                raise SlmMeshError(f"the {task} service replied without an answer")
            return Answer(
                request=request, task=task, text=text, tier="slm", reason=task, result=reply
            )
        if self.fallback is not None:
            fallback = await self.fallback.ask(
                request.text, area=None, deadline_s=self._remaining(deadline)
            )
            if fallback.kind == "answer" and fallback.answer_text:
                return Answer(
                    request=request,
                    task=task,
                    text=fallback.answer_text,
                    tier="llm",
                    reason=f"no {task} service; {fallback.reason}",
                    fallback=fallback.breaker,
                    budget=fallback.budget,
                )
        return Answer(
            request=request,
            task=task,
            text=CANNOT_HELP,
            reason=f"no {task} service is running on this mesh",
        )

    def _record(
        self,
        request: RouterRequest,
        local: IntentResult,
        reply: FallbackAnswerLike | None,
        *,
        area: str | None,
    ) -> None:
        if self.unanswered is None:
            return
        try:
            self._write_record(request, local, reply, self.unanswered, area=area)
        except Exception:
            # The log is for later review; the user's answer must not depend on it.
            self.unrecorded += 1
            log.exception("request not kept in the unanswered log", request_id=request.id)

    def _write_record(
        self,
        request: RouterRequest,
        local: IntentResult,
        reply: FallbackAnswerLike | None,
        unanswered: UnansweredLog,
        *,
        area: str | None,
    ) -> None:
        """`area` is the one the tiers were given (the request's, or its device's), which
        the fallback's slots may rely on ("lights on in here"): learning needs it."""
        fallback = None
        if reply is not None:
            fallback = {
                "kind": reply.kind,
                "reason": reply.reason,
                "intent": reply.result.as_json() if reply.result else None,
                "answer": reply.answer_text,
            }
        unanswered.record({
            "id": request.id,
            "text": request.text,
            "context": request.context_json(),
            "area": area,
            "tiers": {"local": local.as_answer_json()},
            "fallback": fallback,
        })  # fmt: skip
