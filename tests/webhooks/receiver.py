"""A webhook receiver on 127.0.0.1 for tests: checks each signature, records each request and
responds with the scripted replies in order, then with 200."""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from shared.domain import events


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0  # wait this long before responding, to provoke a client timeout


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_valid: bool

    @property
    def event_id(self) -> str | None:
        return self.headers.get(events.EVENT_ID_HEADER)


class Receiver:
    """Runs in a background thread between start() and stop(), or as a context manager."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.requests: list[ReceivedRequest] = []
        self._replies: collections.deque[Reply] = collections.deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        # A short poll interval makes stop() return quickly.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def reply(self, status: int, headers: dict[str, str] | None = None, delay_seconds: float = 0.0) -> None:
        """Queue the reply to the first request that has no scripted reply yet."""
        with self._lock:
            self._replies.append(Reply(status, headers or {}, delay_seconds))

    def deliveries_per_event(self) -> collections.Counter:
        """Count the validly signed requests per event id. A deduplicating receiver keeps one per id."""
        with self._lock:
            return collections.Counter(r.event_id for r in self.requests if r.signature_valid)

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "Receiver":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _record(self, request: ReceivedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if not request.signature_valid:
                return Reply(401)
            return self._replies.popleft() if self._replies else Reply(200)


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            valid = events.verify_signature(
                receiver.secret,
                self.headers.get(events.TIMESTAMP_HEADER, ""),
                body,
                self.headers.get(events.SIGNATURE_HEADER),
                now=datetime.now(timezone.utc),
            )
            reply = receiver._record(ReceivedRequest(self.path, dict(self.headers.items()), body, valid))
            if reply.delay_seconds:
                time.sleep(reply.delay_seconds)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and closed the connection first

        def log_message(self, format: str, *args) -> None:
            pass  # keep test output quiet

    return Handler
