"""Generative models on onnxruntime-genai: a chat prompt in, text pieces out as tokens come.

    model = GenerativeModel.load(Path("models/smollm2-135m-instruct"))
    generation = model.stream(model.chat_prompt(messages), max_new_tokens=128, time_limit_s=10)
    text = "".join(generation)      # or forward each piece as it comes
    generation.stats                # tokens, seconds to first token, tokens/s, why it stopped

Any model folder in onnxruntime-genai's layout loads (`generator_folder.py` checks it first);
onnxruntime-genai keeps the KV cache, samples, applies the chat template of
tokenizer_config.json and, with a `Guidance`, constrains the output to a JSON schema, a Lark
grammar or a regular expression (llguidance), so even a small model's JSON parses.

Threads: onnxruntime-genai's API is not thread-safe (its C header says so) and its Python
binding keeps the GIL inside each call. A `GenerativeModel` may be shared by threads: every
call into onnxruntime-genai takes the model's one lock, for one token at a time, so several
generations interleave token by token (each with its own KV cache) rather than run in
parallel. A `Generation` is iterated by one thread at a time, e.g. a service's
`asyncio.to_thread` worker that hands each piece to the event loop's queue.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from slm_mesh.services.errors import DeadlineExceeded, InvalidRequestError, ModelError
from slm_mesh.services.runtime.generator_folder import GenaiFolder, check_genai_folder

__all__ = [
    "GenaiFolder",
    "Generation",
    "GenerationLimit",
    "GenerationStats",
    "GenerativeModel",
    "Guidance",
    "check_genai_folder",
]

GuidanceKind = Literal["json_schema", "lark_grammar", "regex"]
StopReason = Literal["end", "max_tokens", "time_limit", "closed", "failed"]


class GenerationLimit(DeadlineExceeded):
    """The time limit passed while tokens were still coming; `stats` says how far it got."""

    code = "deadline_exceeded"

    def __init__(self, message: str, *, stats: GenerationStats) -> None:
        super().__init__(message)
        self.stats = stats


@dataclass(frozen=True)
class Guidance:
    """A constraint on what the model may write, compiled by llguidance."""

    kind: GuidanceKind
    text: str
    """The JSON schema (as JSON text), the Lark grammar or the regular expression."""

    def __post_init__(self) -> None:
        if self.kind not in get_args(GuidanceKind):
            raise ValueError(f"guidance kind {self.kind!r} is not one of {get_args(GuidanceKind)}")

    @classmethod
    def json_schema(cls, schema: Mapping[str, Any], *, compact: bool = True) -> Guidance:
        """Output that is one JSON value valid under `schema`. llguidance allows any
        whitespace between tokens by default, and a small model may spend its whole budget
        on spaces; `compact` allows none (llguidance's `x-guidance` options, unless the
        schema sets its own)."""
        if compact and "x-guidance" not in schema:
            schema = {**schema, "x-guidance": {"whitespace_flexible": False}}
        return cls("json_schema", json.dumps(schema))


@dataclass(frozen=True, kw_only=True)
class GenerationStats:
    """How one generation went; `stopped_because` is None while it runs."""

    prompt_tokens: int
    tokens: int
    """Tokens generated, the end-of-sequence token included."""
    first_token_s: float | None
    """Seconds from the call to `stream` to the first generated token (prompt included)."""
    total_s: float
    stopped_because: StopReason | None

    @property
    def tokens_per_second(self) -> float:
        """Generated tokens over the whole time, the prompt's processing included."""
        return self.tokens / self.total_s if self.total_s > 0 else 0.0


class GenerativeModel:
    """One onnxruntime-genai model and its tokenizer, on the CPU; see the module's threads."""

    def __init__(self, *, folder: GenaiFolder, intra_op_threads: int | None = None) -> None:
        if intra_op_threads is not None and intra_op_threads < 1:
            raise ValueError(f"intra_op_threads must be at least 1, got {intra_op_threads}")
        self._folder = folder
        self._lock = threading.Lock()
        self._og: Any = _onnxruntime_genai()
        # Like onnx_session.create_session: few threads, none spinning between tokens.
        options = {
            "intra_op_num_threads": intra_op_threads or min(2, os.cpu_count() or 1),
            "inter_op_num_threads": 1,
            "session.intra_op.allow_spinning": "0",
            "session.inter_op.allow_spinning": "0",
        }
        try:
            config = self._og.Config(str(folder.path))
            config.clear_providers()  # the CPU
            config.overlay(json.dumps({"model": {"decoder": {"session_options": options}}}))
            self._model: Any = self._og.Model(config)
            self._tokenizer: Any = self._og.Tokenizer(self._model)
        except Exception as err:  # onnxruntime-genai raises RuntimeError for every failure
            raise ModelError(f"onnxruntime-genai cannot load {folder.path}: {err}") from err

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        verify: bool = True,
        cache_dir: Path | None = None,
        intra_op_threads: int | None = None,
    ) -> GenerativeModel:
        """The model in `path`, checked first (`check_genai_folder`): ModelError names the
        missing or altered file."""
        folder = check_genai_folder(path, verify=verify, cache_dir=cache_dir)
        return cls(folder=folder, intra_op_threads=intra_op_threads)

    @property
    def folder(self) -> GenaiFolder:
        return self._folder

    @property
    def max_length(self) -> int:
        """The most tokens a prompt and its answer may hold together."""
        return self._folder.max_length

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self._tokenizer.encode(text))

    def chat_prompt(self, messages: Sequence[Mapping[str, str]]) -> str:
        """The prompt for a conversation ({"role", "content"} each) ending where the assistant
        answers: the model's chat template, or "role: content" lines without one."""
        turns = [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]
        if not self._folder.has_chat_template:
            return "".join(f"{t['role']}: {t['content']}\n" for t in turns) + "assistant:"
        try:
            with self._lock:
                prompt = self._tokenizer.apply_chat_template(
                    json.dumps(turns), add_generation_prompt=True
                )
        except Exception as err:  # the template refused the messages (roles, order, …)
            raise InvalidRequestError(
                f"the chat template of {self._folder.tokenizer_config} refused the messages: {err}",
                field="messages",
            ) from err
        return str(prompt)

    def stream(
        self,
        prompt: str,
        *,
        max_new_tokens: int,
        time_limit_s: float,
        guidance: Guidance | None = None,
        temperature: float = 0.0,
        top_k: int = 50,
        top_p: float = 1.0,
        seed: int | None = None,
    ) -> Generation:
        """The text pieces the model writes after `prompt`, as its tokens come.

        Stops at the end-of-sequence token or after `max_new_tokens`; raises GenerationLimit
        once `time_limit_s` (counted from this call) has passed. `temperature` 0 is greedy;
        above 0 samples from the `top_k` most likely tokens within `top_p`. A prompt that
        leaves no room for `max_new_tokens` in the model's context is refused here, as is
        guidance llguidance cannot compile (InvalidRequestError).
        """
        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
        if not time_limit_s > 0:
            raise ValueError(f"time_limit_s must be positive, got {time_limit_s}")
        started = time.monotonic()
        with self._lock:
            tokens = self._tokenizer.encode(prompt)
        if len(tokens) == 0:
            raise InvalidRequestError("the prompt is empty", field="prompt")
        limit = self._folder.max_length
        if len(tokens) + max_new_tokens > limit:
            raise InvalidRequestError(
                f"the prompt is {len(tokens)} tokens and asks for up to {max_new_tokens} more, "
                f"but the model ({self._folder.path.name}) holds {limit} tokens in all; "
                "shorten the prompt or ask for fewer new tokens",
                field="prompt",
            )
        search: dict[str, Any] = {
            # The KV cache is allocated for max_length tokens: no more than this generation
            # needs, but never less than a sliding window (onnxruntime-genai refuses that).
            "max_length": min(
                limit, max(len(tokens) + max_new_tokens, self._folder.min_cache_length)
            ),
            "do_sample": temperature > 0,
            "batch_size": 1,
        }
        if temperature > 0:
            search.update(temperature=temperature, top_k=top_k, top_p=top_p)
        if seed is not None:
            search["random_seed"] = seed
        with self._lock:
            params = self._og.GeneratorParams(self._model)
            params.set_search_options(**search)
            if guidance is not None:
                params.set_guidance(guidance.kind, guidance.text)
            try:
                generator = self._og.Generator(self._model, params)
            except Exception as err:  # llguidance's compile error, as onnxruntime-genai's
                if guidance is None:
                    raise ModelError(f"onnxruntime-genai cannot generate: {err}") from err
                raise InvalidRequestError(
                    f"the {guidance.kind} guidance cannot be used: {err}", field="guidance"
                ) from err
            pieces = self._tokenizer.create_stream()
        return Generation(
            model_name=str(self._folder.path),
            lock=self._lock,
            eos_token_ids=self._folder.eos_token_ids,
            generator=generator,
            pieces=pieces,
            prompt=tokens,
            max_new_tokens=max_new_tokens,
            deadline=started + time_limit_s,
            time_limit_s=time_limit_s,
            started=started,
        )


class Generation(Iterator[str]):
    """One generation's text pieces (never empty strings) and, as it goes, its `stats`."""

    def __init__(
        self,
        *,
        model_name: str,
        lock: threading.Lock,
        eos_token_ids: tuple[int, ...],
        generator: Any,
        pieces: Any,
        prompt: Any,
        max_new_tokens: int,
        deadline: float,
        time_limit_s: float,
        started: float,
    ) -> None:
        self._model_name = model_name
        self._lock = lock
        self._eos = frozenset(eos_token_ids)
        self._generator: Any = generator
        self._pieces: Any = pieces
        self._prompt: Any = prompt
        self._max_new_tokens = max_new_tokens
        self._deadline = deadline
        self._time_limit_s = time_limit_s
        self._started = started
        self._tokens = 0
        self._first_token_s: float | None = None
        self._ended: float | None = None
        self._stopped: StopReason | None = None

    @property
    def stats(self) -> GenerationStats:
        now = self._ended if self._ended is not None else time.monotonic()
        return GenerationStats(
            prompt_tokens=len(self._prompt),
            tokens=self._tokens,
            first_token_s=self._first_token_s,
            total_s=now - self._started,
            stopped_because=self._stopped,
        )

    def __iter__(self) -> Generation:
        return self

    def __next__(self) -> str:
        while self._stopped is None:
            if time.monotonic() >= self._deadline:
                self._finish("time_limit")
                raise GenerationLimit(
                    f"generation stopped after {self._tokens} tokens: its time limit of "
                    f"{self._time_limit_s:g} s passed",
                    stats=self.stats,
                )
            try:
                with self._lock:
                    if self._tokens == 0:
                        self._generator.append_tokens(self._prompt)  # the prompt, all at once
                    self._generator.generate_next_token()
                    token = int(self._generator.get_next_tokens()[0])
                    done = bool(self._generator.is_done())
                    piece = "" if token in self._eos else str(self._pieces.decode(token))
            except Exception as err:  # onnxruntime-genai's RuntimeError from ONNX Runtime
                self._finish("failed")
                raise ModelError(
                    f"onnxruntime-genai failed generating token {self._tokens + 1} with "
                    f"{self._model_name}: {err}"
                ) from err
            self._tokens += 1
            if self._first_token_s is None:
                self._first_token_s = time.monotonic() - self._started
            if token in self._eos or (done and self._tokens < self._max_new_tokens):
                self._finish("end")
            elif done or self._tokens >= self._max_new_tokens:
                self._finish("max_tokens")
            if piece:
                return piece
        raise StopIteration

    def close(self) -> None:
        """Stop early (the caller went away) and free the KV cache now."""
        if self._stopped is None:
            self._finish("closed")

    def _finish(self, reason: StopReason) -> None:
        self._stopped = reason
        self._ended = time.monotonic()
        with self._lock:  # the generator is freed here, not while another thread uses the model
            self._generator = None
            self._pieces = None


def _onnxruntime_genai() -> Any:
    """The onnxruntime_genai module, typed Any: it ships no type stubs, and it is imported
    only by the services that generate (its import loads the native library)."""
    try:
        return importlib.import_module("onnxruntime_genai")
    except ImportError as err:
        raise ModelError(
            f"onnxruntime-genai is not installed ({err}); `pip install onnxruntime-genai`"
        ) from err
