"""What every test OAI-PMH server here shares: reading a request and keeping a log of them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

StartResponse = Callable[..., Any]
XML_TYPE = "text/xml; charset=utf-8"
MAX_BODY = 64 * 1024
_REASONS = {
    200: "OK",
    404: "Not Found",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def request_params(environ: dict[str, Any]) -> dict[str, list[str]]:
    """Return the OAI-PMH arguments of a GET or form POST request (repeats kept)."""
    if environ.get("REQUEST_METHOD", "GET").upper() == "POST":
        length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_BODY)
        raw = environ["wsgi.input"].read(length).decode("utf-8", "replace")
    else:
        # PEP 3333 hands the query string over as latin-1 decoded bytes.
        raw = environ.get("QUERY_STRING", "").encode("latin-1").decode("utf-8", "replace")
    return parse_qs(raw, keep_blank_values=True)


def first_values(params: dict[str, list[str]]) -> dict[str, str]:
    """Return each argument's first value."""
    return {name: values[0] for name, values in params.items() if values}


def respond(
    start_response: StartResponse,
    body: bytes,
    status: int = 200,
    content_type: str = XML_TYPE,
    headers: Iterable[tuple[str, str]] = (),
) -> list[bytes]:
    """Send ``body`` with its length and the given status."""
    reason = _REASONS.get(status, "Status")
    start_response(
        f"{status} {reason}",
        [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers],
    )
    return [body]


@dataclass(frozen=True)
class Request:
    """One request a test server received, and what it did about it."""

    number: int  # 1-based, in arrival order
    params: dict[str, str]
    at: float  # time.monotonic() on arrival
    page: int | None = None  # which page of a list the answer holds (fault server)
    fault: str | None = None  # the fault injected, if any
    status: int | None = None  # HTTP status sent (None: the connection was dropped)
    source: str | None = None  # the recorded file answered (replay server)

    @property
    def verb(self) -> str | None:
        return self.params.get("verb")

    @property
    def token(self) -> str | None:
        return self.params.get("resumptionToken")


@dataclass
class RequestLog:
    """A thread-safe list of the requests a server received."""

    entries: list[Request] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, params: dict[str, str], **details: Any) -> Request:
        """Record a request and return it."""
        with self._lock:
            entry = Request(len(self.entries) + 1, params, time.monotonic(), **details)
            self.entries.append(entry)
            return entry

    def all(self, verb: str | None = None) -> list[Request]:
        """Return the requests so far (only those of ``verb`` if given)."""
        with self._lock:
            return [e for e in self.entries if verb is None or e.verb == verb]

    def clear(self) -> None:
        """Forget every request so far."""
        with self._lock:
            self.entries.clear()
