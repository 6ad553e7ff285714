"""An OpenAI-compatible chat-completions client: one POST, one answer's text, or an error
from `errors.py`. The API key goes only into the Authorization header, never into logs,
reprs or error messages."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

import httpx
from pydantic import SecretStr

from slm_mesh.services.fallback.errors import (
    FallbackGarbage,
    FallbackTimeout,
    FallbackUnavailable,
)
from slm_mesh.services.redact import redact_url


class ChatClient:
    """POSTs to `{base_url}/chat/completions`; `base_url` is like `http://localhost:11434/v1`."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: SecretStr | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(
                f"base_url must start with http:// or https://, not {redact_url(base_url)!r}"
            )
        if not model.strip():
            raise ValueError("model must not be empty")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.shown_url = redact_url(self.url)
        """The URL without its password: the only form messages and logs may carry."""
        self.model = model
        self._api_key = api_key
        self._http = http or httpx.AsyncClient()
        self._owns_http = http is None

    def __repr__(self) -> str:
        return f"ChatClient(url={self.shown_url!r}, model={self.model!r})"

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> ChatClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _headers(self) -> dict[str, str]:
        if self._api_key is None:
            return {}
        return {"Authorization": f"Bearer {self._api_key.get_secret_value()}"}

    async def complete(
        self,
        messages: list[dict[str, str]],
        *,
        timeout_s: float,
        response_format: dict[str, Any] | None = None,
    ) -> str:
        """The first choice's message text; the whole call, connect to last byte, is bounded
        by `timeout_s` (httpx's own timeouts are per operation, so a trickle could outlast it)."""
        body: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": 0}
        if response_format is not None:
            body["response_format"] = response_format
        try:
            async with asyncio.timeout(timeout_s):
                response = await self._http.post(
                    self.url, json=body, headers=self._headers(), timeout=timeout_s
                )
        except (TimeoutError, httpx.TimeoutException):
            raise FallbackTimeout(timeout_s) from None
        except httpx.HTTPError as err:
            raise FallbackUnavailable(
                f"cannot reach {self.shown_url}: {type(err).__name__}"
            ) from None
        if response.status_code != 200:
            raise FallbackUnavailable(
                f"{self.shown_url} answered HTTP {response.status_code}",
                status=response.status_code,
            )
        return _content(response)


def _content(response: httpx.Response) -> str:
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, LookupError, TypeError):
        raise FallbackGarbage("the server's answer is not a chat completion") from None
    if not isinstance(content, str):
        raise FallbackGarbage("the chat completion has no text content")
    return content
