"""A small OpenAI-compatible chat-completions server on 127.0.0.1, for the tests (standard library only).

It answers both request shapes the connector sends:

* OpenAI and compatible servers: ``POST /v1/chat/completions`` with ``Authorization: Bearer KEY``;
* Azure OpenAI: ``POST /openai/deployments/<deployment>/chat/completions?api-version=...``
  with an ``api-key: KEY`` header.

Each request takes the next behaviour from ``server.script`` (``"ok"`` once the script is
empty): ``ok``, ``length`` (finish reason "length"), ``429`` (with ``Retry-After``),
``500``, ``400``, ``401`` (whose message echoes the key, as some servers do), ``timeout``
(answers only after ``slow_seconds``), ``malformed`` (JSON content type, broken body),
``no_choices`` (a completion with ``choices: []``) and ``control`` (an answer holding
terminal control sequences, :data:`CONTROL_ANSWER`). Every request is kept in
``server.requests``. :class:`SilentServer` accepts connections and never answers.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SERVED_MODEL = "fake-model-1"
#: An answer that would clear the screen, retitle the window and ring the bell if printed raw.
CONTROL_ANSWER = "Before\x1b[2J\x1b]0;pwned\x07after \x1b[31mred\x1b[0m \u202eevil\u202c end"


def answer_for(prompt: str) -> str:
    """The fake model's answer: Markdown that names the prompt, so tests can tell answers apart."""
    return f"## Answer\n\nYou asked: *{prompt}*\n\n- one\n- two\n"


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


class FakeOpenAI:
    def __init__(self, retry_after: str = "0.2", slow_seconds: float = 1.5) -> None:
        self.script: list[str] = []
        self.requests: list[Seen] = []
        self.retry_after = retry_after
        self.slow_seconds = slow_seconds
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def next_behaviour(self, seen: Seen) -> str:
        with self._lock:
            self.requests.append(seen)
            return self.script.pop(0) if self.script else "ok"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts every connection and never sends a byte."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def connections(self) -> int:
        return len(self._held)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except (TimeoutError, OSError):
                continue
            self._held.append(connection)  # kept open, never read, never answered

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for connection in self._held:
            connection.close()
        self._socket.close()


def _completion(prompt: str, finish_reason: str = "stop", content: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": SERVED_MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer_for(prompt) if content is None else content},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _handler(server: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
            seen = Seen(parts.path, parse_qs(parts.query), {k.lower(): v for k, v in self.headers.items()}, body)
            behaviour = server.next_behaviour(seen)
            azure = parts.path.startswith("/openai/deployments/") and parts.path.endswith("/chat/completions")
            if not (azure or parts.path == "/v1/chat/completions"):
                self.send_json(404, {"error": {"message": f"no route {parts.path}", "type": "not_found"}})
                return
            prompt = body["messages"][-1]["content"]
            if behaviour == "ok":
                self.send_json(200, _completion(prompt))
            elif behaviour == "length":
                self.send_json(200, _completion(prompt, "length"))
            elif behaviour == "429":
                error = {"error": {"message": "Rate limit reached", "type": "rate_limit"}}
                self.send_json(429, error, {"Retry-After": server.retry_after})
            elif behaviour == "500":
                self.send_json(500, {"error": {"message": "The server had an error", "type": "server_error"}})
            elif behaviour == "400":
                self.send_json(400, {"error": {"message": "Bad request: unsupported", "type": "invalid_request"}})
            elif behaviour == "401":
                key = seen.headers.get("api-key") or seen.headers.get("authorization", "").removeprefix("Bearer ")
                error = {"error": {"message": f"Incorrect API key provided: {key}.", "type": "invalid_request"}}
                self.send_json(401, error)
            elif behaviour == "timeout":
                time.sleep(server.slow_seconds)
                try:
                    self.send_json(200, _completion(prompt))
                except OSError:
                    pass  # the client gave up long ago
            elif behaviour == "no_choices":
                self.send_json(200, {**_completion(prompt), "choices": []})
            elif behaviour == "control":
                self.send_json(200, _completion(prompt, content=CONTROL_ANSWER))
            elif behaviour == "malformed":
                self.send_json(200, b'{"id": "chatcmpl-broken", "choices": [{"message": ')
            else:
                raise AssertionError(f"unknown behaviour {behaviour!r}")

    return Handler


# ---------------------------------------------------------------- test helpers
PROVIDER_VARS = (
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "OPENAI_API_VERSION",
    "AZURE_OPENAI_DEPLOYMENT",
    "AZURE_OPENAI_AD_TOKEN",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "LLMARCH_LLM_MODE",
    "LLMARCH_RECORDINGS",
)
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def clean_environment(monkeypatch: Any) -> None:
    """No credentials, no mode, no proxies: every test states what it needs."""
    for name in (*PROVIDER_VARS, *PROXY_VARS):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def loopback_only(monkeypatch: Any) -> None:
    """Make any connection beyond 127.0.0.1 fail loudly (nothing in these tests may leave the machine)."""
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOOPBACK:
            raise AssertionError(f"a test tried to connect to {address!r}, beyond loopback")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


def no_network(monkeypatch: Any) -> list[Any]:
    """Make every connection attempt fail; returns the list of attempted addresses."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> Any:
        attempts.append(address)
        raise OSError("network unavailable (test)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


# Put on PYTHONPATH (as sitecustomize.py) to take the network away from a child process.
NO_NETWORK_SITECUSTOMIZE = """
import socket
def _refuse(self, address):
    raise OSError("network unavailable (sitecustomize)")
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
"""
