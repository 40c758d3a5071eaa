"""A library's own ILL system speaking ISO 18626 over HTTP, for the broker to talk to.

It keeps every message it receives and sends (the raw XML, so a test can check each against
the schema), answers each with the matching confirmation, refuses callers without its shared
secret, and knows the requests it was sent so that news about an unknown one gets an ERROR.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field

from ill.iso18626.client import Iso18626Client, Peer
from ill.iso18626.confirm import confirm, refuse_raw
from ill.iso18626.messages import (
    Confirmation,
    ErrorData,
    Message,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from ill.iso18626.schema import WireError, parse_document
from ill.iso18626.xml import from_element, to_xml
from tests.integration.servers.common import respond

XML = "application/xml; charset=utf-8"


@dataclass
class Exchange:
    """One message on the wire: which way, its raw XML, and the parsed message."""

    direction: str  # "in" (the platform sent it to us) or "out" (we sent it to the platform)
    body: bytes
    message: Message


@dataclass
class SimulatedIllSystem:
    """A WSGI app playing member ``code``'s own ISO 18626 system."""

    code: str
    secret: str
    exchanges: list[Exchange] = field(default_factory=list)
    requests: dict[str, Request] = field(default_factory=dict)  # by requestingAgencyRequestId
    lock: threading.Lock = field(default_factory=threading.Lock)
    platform: Peer | None = None  # where to send our own messages (set by the test)
    down: bool = False  # answer 503 to everything, as a system being restarted would

    def __call__(self, environ, start_response):
        if self.down:
            return respond(start_response, b"restarting", 503, "text/plain")
        if environ.get("HTTP_AUTHORIZATION", "") != f"Peer {self.secret}":
            return respond(start_response, b"who are you?", 401, "text/plain")
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        received = dt.datetime.now(dt.UTC).replace(microsecond=0)
        try:
            root = parse_document(body)
            message = from_element(root)
        except WireError as exc:
            error = ErrorData(exc.error_type, exc.message)
            return respond(start_response, to_xml(refuse_raw(None, received, error)), 400, XML)
        with self.lock:
            self.exchanges.append(Exchange("in", body, message))
            answer = self._answer(message, received)
        return respond(start_response, to_xml(answer), 200, XML)

    def _answer(self, message: Message, received: dt.datetime) -> Confirmation:
        if isinstance(message, Request):
            self.requests[message.header.requesting_request_id] = message
            return confirm(message, received)
        unknown = message.header.requesting_request_id not in self.requests  # type: ignore[union-attr]
        if isinstance(message, RequestingAgencyMessage) and unknown:
            error = ErrorData("UnrecognisedDataValue", "unknown request")
            return confirm(message, received, (error,))
        return confirm(message, received)  # type: ignore[arg-type]

    def send(self, message: Message) -> Confirmation:
        """Send a message to the platform as this library; return its confirmation."""
        assert self.platform is not None, "set .platform before sending"
        answer = Iso18626Client(timeout=10, max_retries=0).send(self.platform, message)
        with self.lock:
            self.exchanges.append(Exchange("out", to_xml(message), message))
        return answer

    def received(self, kind: type) -> list:
        """Return the messages of one type the platform sent us, oldest first."""
        with self.lock:
            return [
                e.message
                for e in self.exchanges
                if e.direction == "in" and isinstance(e.message, kind)
            ]

    def statuses(self) -> list[str]:
        """Return the statuses the platform reported to us, in order."""
        return [m.status for m in self.received(SupplyingAgencyMessage)]
