"""A real HTTP webhook receiver for tests: listens on 127.0.0.1 (a free port) in a thread, records every
request, and answers from a script (status, headers, body, a delay or a hang)."""

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering; a hang is a delay longer than the client waits


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict
    body: bytes
    at: float


class WebhookReceiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._script: deque[Reply] = deque()
        self.default = Reply()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks?source=lms"

    def reply(self, *replies: Reply) -> "WebhookReceiver":
        """Answer the next requests with `replies`, in order; then `self.default`."""
        with self._lock:
            self._script.extend(replies)
        return self

    def start(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases handlers that are hanging
        self._server.shutdown()
        self._server.server_close()

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._script.popleft() if self._script else self.default

    def _handler_class(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.requests.append(
                        Received("POST", self.path, dict(self.headers.items()), body, time.monotonic())
                    )
                reply = receiver._next_reply()
                if reply.delay and receiver._stopping.wait(reply.delay):
                    return
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:  # the client gave up waiting (its read timeout) and closed the socket
                    pass

            def log_message(self, format, *args) -> None:
                pass

        return Handler


@pytest.fixture(name="receiver")
def receiver_fixture():
    """A started receiver (import this fixture into a test module to use `receiver`)."""
    server = WebhookReceiver().start()
    yield server
    server.stop()
