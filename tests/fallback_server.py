"""A real OpenAI-compatible chat-completions server on a free loopback port, for the
fallback's tests. `mode` says how it behaves; it counts and keeps every request."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal

Mode = Literal["intent", "answer", "slow", "garbage", "wrong_schema", "error500"]


class _QuietServer(ThreadingHTTPServer):
    """A client that gave up (the slow mode's timeout) is expected, not an error."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


def free_port() -> int:
    """A loopback port nothing listens on (the "down" server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def completion(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
    }


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeLlmServer:
    """`reply` is the JSON object the model "says" in modes intent and answer."""

    mode: Mode = "intent"
    reply: dict[str, Any] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    _release: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeLlmServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests read `requests` instead."""

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(Recorded(self.path, dict(self.headers), body))
                fake.respond(self)

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None and self._thread is not None
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def respond(self, handler: BaseHTTPRequestHandler) -> None:
        if self.mode == "slow":
            self._release.wait(timeout=5)
            status, payload = 200, json.dumps(completion(json.dumps(self.reply))).encode()
        elif self.mode == "error500":
            status, payload = 500, b'{"error": "model crashed"}'
        elif self.mode == "garbage":
            status, payload = 200, b"<html>not a completion</html>"
        elif self.mode == "wrong_schema":
            status, payload = 200, json.dumps(completion("Sure! I turned it on.")).encode()
        else:
            status, payload = 200, json.dumps(completion(json.dumps(self.reply))).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)
