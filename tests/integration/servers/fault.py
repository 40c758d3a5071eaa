"""A misbehaving OAI-PMH endpoint on loopback: our own provider, broken on purpose by a script.

The server answers every request from a real ``OAIProvider`` over generated MARCXML records
(some deleted). Before sending the answer it looks for a scripted ``Fault`` matching the
request's verb and the page the answer holds, and if one matches it spoils the answer:

- ``http_status``: 503 (optionally with Retry-After), 429, 500 ... with a text body;
- ``delay``: wait longer than the client's timeout before answering;
- ``drop``: send part of the body (or nothing) and close the socket with SO_LINGER 0; the
  client reads a short body (``ChunkedEncodingError`` in requests) or no response at all
  (``ConnectionError``);
- ``truncate``: a 200 whose body stops mid-document (Content-Length matches the cut body);
- ``illegal_chars``: U+000B and U+001A inside record titles (not allowed in XML 1.0);
- ``bad_token``: the provider's own badResumptionToken answer; ``expired_token``: the provider
  asked as if the token's hour had passed; ``repeat_token``: the page with the token the
  client just sent instead of the next one; ``oai_error``: any OAI error, any HTTP status.

Pages are numbered from 0 within the list being served (a list restarted with ``from`` counts
from 0 again). Every request is logged with the page, the fault and the status it got.
"""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.servers.common import (
    RequestLog,
    StartResponse,
    first_values,
    request_params,
    respond,
)
from tests.integration.servers.marc import MARC21, identifier, make_records, marcxml
from web.oai.dates import format_datestamp
from web.oai.provider import MemoryRecord, MemoryRepository, OAIProvider
from web.oai.render import envelope, serialize, sub

LIST_VERBS = ("ListRecords", "ListIdentifiers", "ListSets")
_CURSOR = re.compile(rb'<resumptionToken[^>]*\scursor="(\d+)"')
_TOKEN_ELEMENT = re.compile(rb"(<resumptionToken[^>]*>)[^<]*(</resumptionToken>)")
_TITLE = re.compile(rb'(<datafield tag="245"[^>]*><subfield code="a">)([^<]*)(</subfield>)')
ILLEGAL = (b"\x0b", b"\x1a")  # vertical tab and SUB: real MARC data carries both


@dataclass
class Fault:
    """One scripted misbehaviour: what, for which requests, and how many times (None: always)."""

    kind: str
    page: int | None = None  # None: any page (and answers that hold none, like errors)
    verb: str = "ListRecords"
    times: int | None = 1
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0
    keep: float = 0.5  # share of the body sent before a drop or a truncation
    code: str = ""  # OAI error code for oai_error
    records: int = 3  # titles spoiled by illegal_chars

    def matches(self, verb: str | None, page: int | None, resumed: bool) -> bool:
        """Tell whether this fault applies to a request (and still has uses left)."""
        if self.times is not None and self.times <= 0:
            return False
        if verb != self.verb or (self.page is not None and page != self.page):
            return False
        # A token can only go bad, expire or come back on a request that sent one.
        return resumed or self.kind not in ("bad_token", "expired_token", "repeat_token")


def http_status(
    status: int, page: int | None = None, retry_after: str | None = None, times: int | None = 1
) -> Fault:
    """Answer with an HTTP error status (and a Retry-After header if given)."""
    headers = (("Retry-After", retry_after),) if retry_after is not None else ()
    return Fault("http_status", page, status=status, headers=headers, times=times)


def delay(seconds: float, page: int | None = None, times: int | None = 1) -> Fault:
    """Wait ``seconds`` before answering (longer than the client's timeout, to time it out)."""
    return Fault("delay", page, seconds=seconds, times=times)


def drop(page: int | None = None, keep: float = 0.5, times: int | None = 1) -> Fault:
    """Close the connection after ``keep`` of the body (0: before any byte of the response)."""
    return Fault("drop", page, keep=keep, times=times)


def truncate(page: int | None = None, keep: float = 0.6, times: int | None = 1) -> Fault:
    """Answer 200 with only the first ``keep`` of the document."""
    return Fault("truncate", page, keep=keep, times=times)


def illegal_chars(page: int | None = None, records: int = 3, times: int | None = 1) -> Fault:
    """Put characters XML 1.0 forbids into the titles of the page's first ``records`` records."""
    return Fault("illegal_chars", page, records=records, times=times)


def bad_token(page: int | None = None, status: int = 200, times: int | None = 1) -> Fault:
    """Refuse the request's resumption token with badResumptionToken (HTTP ``status``)."""
    return Fault("bad_token", page, status=status, times=times)


def expired_token(page: int | None = None, times: int | None = 1) -> Fault:
    """Answer as if the token's lifetime had passed (the provider's own expiry check)."""
    return Fault("expired_token", page, times=times)


def repeat_token(page: int | None = None, times: int | None = 1) -> Fault:
    """Send the page with the very token the client sent, instead of the next one."""
    return Fault("repeat_token", page, times=times)


def oai_error(
    code: str, page: int | None = None, status: int = 422, verb: str = "ListRecords",
    times: int | None = 1,
) -> Fault:  # fmt: skip
    """Answer with the OAI-PMH error ``code`` sent with HTTP ``status`` (Zenodo uses 422)."""
    return Fault("oai_error", page, verb=verb, status=status, code=code, times=times)


class FaultServer:
    """An OAI-PMH endpoint over generated records that injects the scripted faults."""

    def __init__(
        self,
        records: Iterable[MemoryRecord] | None = None,
        *,
        page_size: int = 40,
        oai_error_status: int = 200,
        list_delay: float = 0.0,
        token_ttl: timedelta = timedelta(hours=1),
        deleted_record: str = "persistent",
    ) -> None:
        self.page_size = page_size
        self.oai_error_status = oai_error_status  # e.g. 422 to answer every OAI error like Zenodo
        self.list_delay = list_delay  # seconds before each list page: a slow server
        self.token_ttl = token_ttl
        self.log = RequestLog()
        self.deleted_record = deleted_record  # "no": deletions vanish without a trace
        self._records = {r.identifier: r for r in (records or make_records())}
        self.base_url = ""
        self._build()
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def _build(self) -> None:
        """(Re)build the repository and provider over the current records."""
        self.repository = MemoryRepository(
            "Fault injection test repository",
            self.base_url,
            self._records.values(),
            [MARC21],
            deleted_record=self.deleted_record,
        )
        self.provider = OAIProvider(
            self.repository, page_size=self.page_size, token_ttl=self.token_ttl
        )

    # -- set-up ------------------------------------------------------------------------------

    def start(self, endpoints: Any) -> str:
        """Serve on a free loopback port of ``endpoints`` (an EndpointServer); return the URL."""
        self.base_url = endpoints.start(self)
        self.repository.base_url = self.base_url
        return self.base_url

    def stop_waiting(self) -> None:
        """Cut every injected delay short (call before stopping the HTTP server)."""
        self._stopping.set()

    def script(self, *faults: Fault) -> None:
        """Replace the faults still pending with these."""
        with self._lock:
            self._faults = list(faults)

    def pending(self) -> list[Fault]:
        """Return the faults not yet used up."""
        with self._lock:
            return [f for f in self._faults if f.times is None or f.times > 0]

    # -- the records -------------------------------------------------------------------------

    def expected(self) -> dict[str, str]:
        """Return every record the server holds as identifier -> 'active' or 'deleted'."""
        with self._lock:
            return {i: "deleted" if r.deleted else "active" for i, r in self._records.items()}

    def first_pages(self, pages: int) -> dict[str, str]:
        """Return, like ``expected``, only the records on the first ``pages`` pages of a list."""
        with self._lock:
            ordered = sorted(self._records.values(), key=lambda r: (r.datestamp, r.identifier))
        return {
            r.identifier: "deleted" if r.deleted else "active"
            for r in ordered[: pages * self.page_size]
        }

    def record(self, identifier: str) -> MemoryRecord:
        """Return the server's record with ``identifier``."""
        with self._lock:
            return self._records[identifier]

    def change(self, number: int, *, deleted: bool = False, new_title: str | None = None) -> str:
        """Add, update or delete generated record ``number`` now; return its identifier."""
        ident = identifier(number)
        stamp = datetime.now(UTC).replace(microsecond=0)
        payloads = {} if deleted else {"marc21": marcxml(number, new_title)}
        record = MemoryRecord(ident, stamp, payloads, deleted=deleted)
        with self._lock:
            self._records[ident] = record
        self.repository.put(record)
        return ident

    def remove(self, *numbers: int) -> list[str]:
        """Drop generated records without a tombstone (deletedRecord "no"); return their ids.

        The provider is rebuilt, so resumption tokens issued before stop working.
        """
        gone = [identifier(n) for n in numbers]
        with self._lock:
            for ident in gone:
                del self._records[ident]
            self._build()
        return gone

    # -- WSGI --------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        params = request_params(environ)
        args = first_values(params)
        verb, resumed = args.get("verb"), "resumptionToken" in args
        now = datetime.now(UTC)
        body = self.provider.handle(params, now=now, base_url=self.base_url)
        page = _page(body, self.page_size) if verb in LIST_VERBS else None
        fault = self._take(verb, page, resumed)
        if self.list_delay and verb in LIST_VERBS:
            self._stopping.wait(self.list_delay)
        if fault is None:
            status = self.oai_error_status if b"<error code=" in body else 200
            self.log.add(args, page=page, status=status)
            return respond(start_response, body, status)
        self.log.add(args, page=page, fault=fault.kind, status=_status_of(fault))
        return self._inject(fault, environ, start_response, params, now, body)

    def _take(self, verb: str | None, page: int | None, resumed: bool) -> Fault | None:
        """Return the first matching fault, using up one of its times."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(verb, page, resumed):
                    if fault.times is not None:
                        fault.times -= 1
                    return replace(fault)
        return None

    def _inject(
        self,
        fault: Fault,
        environ: dict[str, Any],
        start_response: StartResponse,
        params: dict[str, list[str]],
        now: datetime,
        body: bytes,
    ) -> Iterable[bytes]:
        kind = fault.kind
        if kind == "http_status":
            text = f"{fault.status} injected by the fault server\n".encode()
            return respond(start_response, text, fault.status, "text/plain", fault.headers)
        if kind == "delay":
            self._stopping.wait(fault.seconds)
            return respond(start_response, body)
        if kind == "drop":
            return _dropped(environ, start_response, body, fault.keep)
        if kind == "truncate":
            return respond(start_response, body[: int(len(body) * fault.keep)])
        if kind == "illegal_chars":
            spoiled = _TITLE.sub(
                rb"\1" + ILLEGAL[0] + rb"\2" + ILLEGAL[1] + rb"\3", body, count=fault.records
            )
            return respond(start_response, spoiled)
        if kind == "expired_token":
            later = now + self.token_ttl + timedelta(minutes=1)
            expired = self.provider.handle(params, now=later, base_url=self.base_url)
            return respond(start_response, expired, self.oai_error_status)
        if kind == "repeat_token":
            sent = first_values(params)["resumptionToken"].encode("ascii")
            return respond(start_response, _TOKEN_ELEMENT.sub(rb"\1" + sent + rb"\2", body))
        if kind == "bad_token":
            message = "The resumption token is not valid (injected by the fault server)."
            return respond(
                start_response, self._error("badResumptionToken", message, params), fault.status
            )
        if kind == "oai_error":
            message = f"{fault.code} injected by the fault server."
            return respond(start_response, self._error(fault.code, message, params), fault.status)
        raise ValueError(f"unknown fault kind {kind!r}")

    def _error(self, code: str, message: str, params: dict[str, list[str]]) -> bytes:
        """Return an OAI-PMH error document as our provider would write it."""
        echo = first_values(params) if code not in ("badVerb", "badArgument") else None
        root = envelope(format_datestamp(datetime.now(UTC)), self.base_url, echo)
        sub(root, "error", message, code=code)
        return serialize(root)


def _page(body: bytes, page_size: int) -> int | None:
    """Return which page of its list a response holds (0: the whole list; None: an error)."""
    if b"<error code=" in body:
        return None
    match = _CURSOR.search(body)
    return int(match.group(1)) // page_size if match else 0


def _status_of(fault: Fault) -> int | None:
    if fault.kind == "drop":
        return None
    return fault.status if fault.kind in ("http_status", "bad_token", "oai_error") else 200


def _dropped(
    environ: dict[str, Any], start_response: StartResponse, body: bytes, keep: float
) -> Iterator[bytes]:
    """Send the headers and ``keep`` of the body, then drop the connection."""
    sock = environ.get("werkzeug.socket")
    cut = int(len(body) * keep)
    if cut:
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])  # fmt: skip
        yield body[:cut]
    if sock is not None:
        # Linger 0: the kernel aborts the connection with RST when werkzeug closes it; the
        # shutdown makes the client see the end at once instead of waiting for keep-alive.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):  # the client may have gone already
            sock.shutdown(socket.SHUT_RDWR)
    # werkzeug treats ConnectionError from the app as a dropped connection: it sends nothing more.
    raise ConnectionResetError("connection dropped on purpose by the fault server")
