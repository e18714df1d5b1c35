"""A real HTTP server on 127.0.0.1 that speaks the two chat protocols Vedette's client uses.

``POST /v1/chat/completions`` (OpenAI-compatible: JSON, or server-sent events when the request
says ``"stream": true``) and ``POST /api/chat`` (Ollama: JSON, or one JSON object a line).
Each request takes the next action from ``script``; when it is empty, ``default`` (an action,
or a function of the request returning one). Every request is recorded in ``requests``::

    with LLMServer(default=Reply('{"summary": "..."}')) as server:
        server.script = [Status(503), Status(429, headers={"Retry-After": "1"})]
        ... LLMSettings(url=server.url + "/v1", model="m") ...
        assert len(server.requests) == 3
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """Answer with ``content`` in the request's protocol; streamed in ``chunks`` pieces when asked."""

    content: str
    chunks: int = 4
    pause_s: float = 0.0   # between streamed pieces
    delay_s: float = 0.0   # before answering (a model thinking)


@dataclass
class Status:
    """Answer with an HTTP error status (and headers, e.g. Retry-After)."""

    code: int
    body: str = '{"error": {"message": "server busy"}}'
    headers: dict = field(default_factory=dict)


@dataclass
class Hang:
    """Accept the request and say nothing for ``seconds`` (or until the server stops), then hang up."""

    seconds: float


@dataclass
class Raw:
    """Send these bytes as a 200 answer, whatever the protocol (malformed JSON and such)."""

    body: bytes
    content_type: str = "application/json"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict
    body: dict | None
    at: float

    @property
    def messages(self) -> list[dict]:
        return (self.body or {}).get("messages", [])


Action = Reply | Status | Hang | Raw


class LLMServer:
    def __init__(self, default: Action | Callable[[Received], Action] | None = None) -> None:
        self.script: list[Action] = []
        self.default = default or Reply('{"summary": "A default answer from the test server for this incident."}')
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                owner._handle(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="llm-test-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> LLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> LLMServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _next(self, req: Received) -> Action:
        with self._lock:
            self.requests.append(req)
            if self.script:
                return self.script.pop(0)
        return self.default(req) if callable(self.default) else self.default

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        req = Received(h.path, {k.lower(): v for k, v in h.headers.items()}, body, time.monotonic())
        action = self._next(req)
        ollama = h.path.startswith("/api/")
        if h.path not in ("/v1/chat/completions", "/api/chat"):
            action = Status(404, '{"error": "no such endpoint"}')
        try:
            if isinstance(action, Hang):
                self._stop.wait(action.seconds)
                h.close_connection = True
                return
            if isinstance(action, Status):
                self._send(h, action.code, action.body.encode(), "application/json", action.headers)
                return
            if isinstance(action, Raw):
                self._send(h, 200, action.body, action.content_type)
                return
            if action.delay_s:
                self._stop.wait(action.delay_s)
            stream = bool((body or {}).get("stream", ollama))
            model = (body or {}).get("model", "test-model")
            if not stream:
                doc = ({"model": model, "message": {"role": "assistant", "content": action.content}, "done": True}
                       if ollama else
                       {"id": "chatcmpl-test", "object": "chat.completion", "model": model,
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": action.content},
                                     "finish_reason": "stop"}]})
                self._send(h, 200, json.dumps(doc).encode(), "application/json")
                return
            h.send_response(200)
            h.send_header("Content-Type", "application/x-ndjson" if ollama else "text/event-stream")
            h.end_headers()
            for piece in _pieces(action.content, action.chunks):
                if ollama:
                    line = json.dumps({"model": model, "message": {"role": "assistant", "content": piece},
                                       "done": False}) + "\n"
                else:
                    line = "data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": piece}}]}) + "\n\n"
                h.wfile.write(line.encode())
                h.wfile.flush()
                if action.pause_s:
                    time.sleep(action.pause_s)
            end = (json.dumps({"model": model, "message": {"role": "assistant", "content": ""}, "done": True}) + "\n"
                   if ollama else "data: [DONE]\n\n")
            h.wfile.write(end.encode())
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, code: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
        h.send_response(code)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)


def _pieces(text: str, n: int) -> list[str]:
    n = max(1, min(n, len(text) or 1))
    size = -(-len(text) // n) if text else 1
    return [text[i: i + size] for i in range(0, len(text), size)] or [""]


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
