"""The HTTP front end of the local host: reads requests, enforces the body size limit, writes responses."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tools.localhost.http_dispatch import JSON_CONTENT_TYPE, HttpDispatcher, IncomingRequest, OutgoingResponse

logger = logging.getLogger(__name__)

# The Functions HTTP trigger rejects request bodies over 100 MB (104,857,600 bytes), per the
# "Limits" section of Microsoft's HTTP trigger documentation.
MAX_REQUEST_BODY_BYTES = 104_857_600
_MAX_CHUNK_LINE_BYTES = 1024
_NO_BODY_STATUSES = frozenset({204, 304})


class RequestTooLarge(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "LocalHttpServer"

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def handle_expect_100(self) -> bool:
        # Reject an announced oversized body before the client sends it.
        if self._declared_length() > self.server.max_body_bytes:
            self._send_too_large()
            return False
        return super().handle_expect_100()

    def _declared_length(self) -> int:
        try:
            return int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return 0

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked_body()
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            return b""
        length = int(length_header)  # a malformed header raises ValueError, which becomes a 400
        if length < 0:
            raise ValueError(f"negative Content-Length {length}")
        if length > self.server.max_body_bytes:
            raise RequestTooLarge
        return self.rfile.read(length)

    def _read_chunked_body(self) -> bytes:
        body = bytearray()
        while True:
            size_line = self.rfile.readline(_MAX_CHUNK_LINE_BYTES)
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while self.rfile.readline(_MAX_CHUNK_LINE_BYTES) not in (b"\r\n", b"\n", b""):
                    pass  # skip trailer fields
                return bytes(body)
            if len(body) + size > self.server.max_body_bytes:
                raise RequestTooLarge
            body += self.rfile.read(size)
            self.rfile.readline(_MAX_CHUNK_LINE_BYTES)

    def _handle(self) -> None:
        try:
            body = self._read_body()
        except RequestTooLarge:
            self._send_too_large()
            return
        except ValueError as error:
            self.close_connection = True
            self._send(self._error(400, "bad_request", f"Invalid request body framing: {error}."))
            return

        split = urlsplit(self.path)
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        host = headers.get("host") or "%s:%d" % self.server.server_address[:2]
        request = IncomingRequest(self.command, split.path or "/", split.query, headers, body, f"http://{host}")
        self._send(self.server.dispatcher.handle(request))

    def _error(self, status: int, error: str, message: str) -> OutgoingResponse:
        body = json.dumps({"error": error, "message": message}).encode("utf-8")
        return OutgoingResponse(status, [("Content-Type", JSON_CONTENT_TYPE)], body)

    def _send_too_large(self) -> None:
        self.close_connection = True
        limit = self.server.max_body_bytes
        self._send(self._error(413, "payload_too_large", f"The request body exceeds {limit} bytes."))

    def _send(self, response: OutgoingResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        if response.status not in _NO_BODY_STATUSES:
            self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and response.status not in _NO_BODY_STATUSES:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def log_error(self, format: str, *args: object) -> None:
        logger.warning("%s %s", self.address_string(), format % args)


class LocalHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], dispatcher: HttpDispatcher,
                 max_body_bytes: int = MAX_REQUEST_BODY_BYTES) -> None:
        super().__init__(address, _Handler)
        self.dispatcher = dispatcher
        self.max_body_bytes = max_body_bytes
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server_address[1]

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="http-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
        self.server_close()
