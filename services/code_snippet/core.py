"""The code-snippet core: a request in, a validated snippet out, streamed as it is written.
No gRPC, no MQTT.

The snippet library answers (`retrieval`). With a generative plugin, the model writes
what the library has no close snippet for (or every answer, `model_first`), guided by its
format's schema and the home and shown the library's closest snippet (`generative`); an
answer that fails validation is written once more, and if that fails too the library
answers, and the notes say so. Whichever wrote it, every answer is validated (`validate`)
against the home as it is now.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace

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
CLOSE_MATCH = 0.45
"""Closeness (`retrieval`) from which the library's valid snippet is the answer, unless the
model is to write every answer. On the development requests the least close right snippet
scored 0.53; a request for a kind of snippet the library lacked (a backup script) 0.23."""


@dataclass
class _HomeView:
    """The home and what is built from it, swapped whole when the home changes."""

    home: Home
    filler: Filler


class CodeCore:
    def __init__(
        self,
        *,
        home: Home,
        index: SnippetIndex,
        generator: CodeGenerator | None = None,
        model_first: bool = False,
    ) -> None:
        self._view = _HomeView(home=home, filler=Filler(home=home))
        self._index = index
        self._generator = generator
        self._model_first = model_first

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
        library, closeness = await asyncio.to_thread(self.library_answer, request.prompt, fmt, view)
        notes: list[str] = []
        close = library.valid and closeness >= CLOSE_MATCH
        if self._generator is not None and (self._model_first or not close):
            async for part in self._generate(request.prompt, fmt, view, library, notes):
                yield part
                if isinstance(part, CodeAnswer):
                    return
            notes.append("answered from the snippet library instead")
            attempt = ATTEMPTS
        else:
            attempt = 0
        if library.code:
            yield Piece(library.code, attempt)
        yield replace(library, notes=(*notes, *library.notes))

    async def _generate(
        self, prompt: str, fmt: str, view: _HomeView, library: CodeAnswer, notes: list[str]
    ) -> AsyncIterator[Piece | CodeAnswer]:
        """The model's attempts, streamed, each shown the library's closest snippet as an
        example; the first that passes validation is the answer (`notes` say why the
        others failed)."""
        assert self._generator is not None
        example = library.code if library.valid else None
        for attempt in range(ATTEMPTS):
            written = ""
            pieces = self._generator.write(prompt, fmt=fmt, home=view.home, attempt=attempt,
                                           example=example)  # fmt: skip
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
                yield CodeAnswer(prompt=prompt, format=fmt, code=code, valid=True,
                                 tier="generative", source=self._generator.name,
                                 notes=tuple(notes))  # fmt: skip
                return
            notes.append(f"the model's attempt {attempt + 1} failed validation: "
                         f"{'; '.join(checked.problems[:3])}")  # fmt: skip

    def library_answer(
        self, prompt: str, fmt: str, view: _HomeView | None = None
    ) -> tuple[CodeAnswer, float]:
        """What the library alone answers, and how close its snippet is to the request
        (also what the model is shown as an example)."""
        view = view or self._view
        found = retrieve(prompt, fmt=fmt, index=self._index, filler=view.filler)
        if found is None:
            why = f"the snippet library has nothing for {fmt}"
            return CodeAnswer(prompt, fmt, code="", valid=False, problems=(why,)), 0.0
        problems = found.filled.problems
        if not problems:
            problems = validate(found.code, fmt, view.home).problems
        answer = CodeAnswer(
            prompt=prompt,
            format=fmt,
            code=found.code,
            valid=not problems,
            problems=problems,
            tier="retrieval",
            source=found.snippet.id,
            notes=found.filled.notes,
        )
        return answer, found.closeness


def check_request(request: CodeRequest) -> None:
    """Refuse what no plugin should be asked: an empty or oversize prompt, a format that
    is not one of `FORMATS`."""
    check_text(request.prompt, max_chars=MAX_PROMPT_CHARS, field="prompt")
    if request.format is not None and request.format not in FORMATS:
        raise InvalidRequestError(
            f"unknown format {request.format!r}; one of {', '.join(FORMATS)}", field="format"
        )
