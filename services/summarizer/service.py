"""The summarizer service, described for the kit: extractive summaries of texts on the
shared sentence encoder, and digests of device events.

The core is `ExtractiveSummarizer` and `digest`; a call's documents are summarized in a
worker thread, so the event loop keeps serving while a long text is read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Any

from slm_mesh.services.contracts.info import ServiceInfo
from slm_mesh.services.contracts.summarize import (
    CONTRACT,
    MAX_SOURCE_CHARS,
    SummarizeRequest,
    SummaryAnswer,
    SummarySentence,
)
from slm_mesh.services.contracts.text import check_text
from slm_mesh.services.kit.service import Service, Started
from slm_mesh.services.kit.shared import Shared, encoder_info
from slm_mesh.services.runtime.onnx_session import Embedder
from slm_mesh.services.settings import Settings
from slm_mesh.services.summarizer.digest import digest
from slm_mesh.services.summarizer.extractive import ExtractiveSummarizer


class SummarizerCore:
    def __init__(self, *, summarizer: ExtractiveSummarizer) -> None:
        self._summarizer = summarizer

    async def handle(self, requests: Sequence[SummarizeRequest]) -> list[SummaryAnswer]:
        return await asyncio.to_thread(self._answer_all, requests)

    def _answer_all(self, requests: Sequence[SummarizeRequest]) -> list[SummaryAnswer]:
        return [self._answer(request) for request in requests]

    def _answer(self, request: SummarizeRequest) -> SummaryAnswer:
        budget = {"max_sentences": request.max_sentences, "max_chars": request.max_chars}
        if request.events is not None:
            return _digest_answer(request.events, **budget)
        text = request.text or ""
        check_text(text, max_chars=MAX_SOURCE_CHARS)
        summary = self._summarizer.summarize(text, **budget)
        return SummaryAnswer(
            summary=summary.text,
            sentences=tuple(SummarySentence(s.text, s.start, s.end) for s in summary.sentences),
        )


def _digest_answer(
    events: Sequence[Any], *, max_sentences: int | None, max_chars: int | None
) -> SummaryAnswer:
    """A digest, its sentences placed in the summary text they make up."""
    made = digest(events, max_sentences=max_sentences, max_chars=max_chars)
    sentences, at = [], 0
    for sentence in made.sentences:
        sentences.append(
            SummarySentence(sentence.text, at, at + len(sentence.text), sentence.events)
        )
        at += len(sentence.text) + 1
    return SummaryAnswer(summary=made.text, sentences=tuple(sentences), omitted=made.omitted)


def service_info(embedder: Embedder) -> ServiceInfo:
    task = "encoder (extractive summaries: redundancy and centrality)"
    return ServiceInfo(
        name="summarize",
        version=metadata.version("slm-mesh"),
        models=(encoder_info(embedder, task=task),),
    )


@asynccontextmanager
async def start(settings: Settings, shared: Shared) -> AsyncIterator[Started[Any, Any]]:
    embedder = await shared.encoder(settings.plugin)
    core = SummarizerCore(summarizer=ExtractiveSummarizer(embed=embedder.embed))
    yield Started(core=core, info=service_info(embedder))


SERVICE: Service[SummarizeRequest, SummaryAnswer] = Service(
    name="summarize",
    summary="a long text or a day of device events in, a short faithful summary out",
    contract=CONTRACT,
    start=start,
)
