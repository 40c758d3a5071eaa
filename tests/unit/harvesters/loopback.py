"""Real HTTP servers on loopback for the harvester tests: canned replies and fault wrappers.

Nothing is mocked: requests, sickle and our client talk HTTP to werkzeug servers started here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl

from web.oai.server import EndpointServer

OAI_DATA = Path(__file__).resolve().parents[2] / "data" / "oai"
_REASONS = {
    200: "OK",
    404: "Not Found",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def oai_file(relative: str) -> bytes:
    """Return the bytes of a recorded response in tests/data/oai."""
    return (OAI_DATA / relative).read_bytes()


@dataclass(frozen=True)
class Reply:
    """One canned HTTP answer."""

    body: bytes = b""
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0  # seconds to wait before answering (timeouts)


@dataclass
class Seen:
    """What the server was asked: query parameters and the client's port (one per connection)."""

    params: list[dict[str, str]] = field(default_factory=list)
    ports: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, environ) -> dict[str, str]:
        params = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        with self.lock:
            self.params.append(params)
            self.ports.append(environ.get("REMOTE_PORT", ""))
        return params


def respond(start_response, reply: Reply) -> list[bytes]:
    """Send a Reply from a WSGI app."""
    if reply.delay:
        time.sleep(reply.delay)
    headers = [
        ("Content-Type", "text/xml; charset=utf-8"),
        ("Content-Length", str(len(reply.body))),
        *reply.headers,
    ]
    start_response(f"{reply.status} {_REASONS.get(reply.status, 'Status')}", headers)
    return [reply.body]


class Scripted:
    """A WSGI app answering requests in order from a script (the last reply repeats)."""

    def __init__(self, replies: Iterable[Reply]) -> None:
        self.replies = list(replies)
        self.seen = Seen()
        self._next = 0

    def __call__(self, environ, start_response):
        self.seen.add(environ)
        with self.seen.lock:
            reply = self.replies[min(self._next, len(self.replies) - 1)]
            self._next += 1
        return respond(start_response, reply)


class Routed:
    """A WSGI app answering by a function of the query parameters."""

    def __init__(self, route: Callable[[dict[str, str]], Reply]) -> None:
        self.route = route
        self.seen = Seen()

    def __call__(self, environ, start_response):
        return respond(start_response, self.route(self.seen.add(environ)))


class Switch:
    """A WSGI app passing requests to ``inner``, which a test may replace or wrap meanwhile."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.seen = Seen()
        self.rewrite: Callable[[dict[str, str], bytes], bytes] | None = None
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        params = self.seen.add(environ)
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            captured: dict = {}

            def capture(status, headers, exc_info=None):
                captured["status"], captured["headers"] = status, headers

            body = b"".join(self.inner(environ, capture))
            if self.rewrite is not None:
                body = self.rewrite(params, body)
            headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
            start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
            return [body]
        finally:
            with self._lock:
                self.in_flight -= 1


def serve(server: EndpointServer, app) -> str:
    """Serve ``app`` on a free loopback port; return its base URL."""
    return server.start(app)


class KeepAliveServer:
    """An HTTP/1.1 server that keeps connections open (werkzeug's dev server closes each one).

    Answers with ``route(params) -> Reply``; records the client port of every request.
    """

    def __init__(self, route: Callable[[dict[str, str]], Reply]) -> None:
        import http.server

        seen = self.seen = Seen()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                query = self.path.partition("?")[2]
                reply = route(
                    seen.add({"QUERY_STRING": query, "REMOTE_PORT": self.client_address[1]})
                )
                self.send_response(reply.status)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *_args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/oai"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> KeepAliveServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
