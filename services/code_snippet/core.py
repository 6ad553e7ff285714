"""The code-snippet core: a request in, a validated snippet out, streamed as it is written.
No gRPC, no MQTT.

With a generative plugin, the model writes first (guided by its format's schema and the
home, `generative`); an answer that fails validation is written once more, and if that
fails too the snippet library answers, and the notes say so. Without one, the library
answers (`retrieval`). Whichever wrote it, every answer is validated (`validate`) against
the home as it is now.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from slm_mesh.services.code_snippet.fill import Filler
from slm_mesh.services.code_snippet.generative import CodeGenerator
from slm_mesh.services.code_snippet.request_format import format_of
from slm_mesh.services.code_snippet.retrieval import SnippetIndex, retrieve
from slm_mesh.services.code_snippet.validate import validate
from slm_mesh.services.contracts.code import FORMATS, MAX_PROMPT_CHARS, CodeAnswer, CodeRequest
from slm_mesh.services.contracts.text import check_text
from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.home.model import Home
from slm_mesh.services.kit.contract import Piece
from slm_mesh.services.runtime.generator import GenerationLimit

ATTEMPTS = 2
"""Generative tries before the library answers."""


@dataclass
class _HomeView:
    """The home and what is built from it, swapped whole when the home changes."""

    home: Home
    filler: Filler


class CodeCore:
    def __init__(
        self, *, home: Home, index: SnippetIndex, generator: CodeGenerator | None = None
    ) -> None:
        self._view = _HomeView(home=home, filler=Filler(home=home))
        self._index = index
        self._generator = generator

    def use(self, home: Home) -> None:
        """The home as it is now (a device paired, an entity renamed)."""
        self._view = _HomeView(home=home, filler=Filler(home=home))

    async def handle(self, requests: Sequence[CodeRequest]) -> list[CodeAnswer]:
        for request in requests:
            check_request(request)
        return [await self._answer(request) for request in requests]

    async def stream(self, request: CodeRequest) -> AsyncIterator[Piece | CodeAnswer]:
        check_request(request)
        async for part in self._write(request):
            yield part

    async def _answer(self, request: CodeRequest) -> CodeAnswer:
        async for part in self._write(request):
            if isinstance(part, CodeAnswer):
                return part
        raise RuntimeError("the writer ended without an answer")

    async def _write(self, request: CodeRequest) -> AsyncIterator[Piece | CodeAnswer]:
        fmt = request.format or format_of(request.prompt)
        view = self._view
        notes: list[str] = []
        if self._generator is not None:
            for attempt in range(ATTEMPTS):
                written = ""
                pieces = self._generator.write(request.prompt, fmt=fmt, home=view.home,
                                               attempt=attempt)  # fmt: skip
                try:
                    async for text in pieces:
                        written += text
                        yield Piece(text, attempt)
                except GenerationLimit as err:
                    notes.append(f"the model's attempt {attempt + 1} stopped: {err}")
                    continue
                code = self._generator.finish(written, fmt=fmt)
                checked = validate(code, fmt, view.home)
                if checked.valid:
                    yield CodeAnswer(prompt=request.prompt, format=fmt, code=code, valid=True,
                                     tier="generative", source=self._generator.name,
                                     notes=tuple(notes))  # fmt: skip
                    return
                notes.append(f"the model's attempt {attempt + 1} failed validation: "
                             f"{'; '.join(checked.problems[:3])}")  # fmt: skip
            notes.append("answered from the snippet library instead")
        answer = await asyncio.to_thread(self._retrieve, request.prompt, fmt, view, notes)
        if answer.code:
            yield Piece(answer.code, ATTEMPTS if self._generator is not None else 0)
        yield answer

    def _retrieve(self, prompt: str, fmt: str, view: _HomeView, notes: list[str]) -> CodeAnswer:
        found = retrieve(prompt, fmt=fmt, index=self._index, filler=view.filler)
        if found is None:
            return CodeAnswer(
                prompt=prompt,
                format=fmt,
                code="",
                valid=False,
                problems=(f"the snippet library has nothing for {fmt}",),
                notes=tuple(notes),
            )
        problems = found.filled.problems
        if not problems:
            problems = validate(found.code, fmt, view.home).problems
        return CodeAnswer(
            prompt=prompt,
            format=fmt,
            code=found.code,
            valid=not problems,
            problems=problems,
            tier="retrieval",
            source=found.snippet.id,
            notes=(*notes, *found.filled.notes),
        )


def check_request(request: CodeRequest) -> None:
    """Refuse what no plugin should be asked: an empty or oversize prompt, a format that
    is not one of `FORMATS`."""
    check_text(request.prompt, max_chars=MAX_PROMPT_CHARS, field="prompt")
    if request.format is not None and request.format not in FORMATS:
        raise InvalidRequestError(
            f"unknown format {request.format!r}; one of {', '.join(FORMATS)}", field="format"
        )
