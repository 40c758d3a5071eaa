"""The outgoing ISO 18626 client against real HTTP servers on loopback."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from ill.iso18626.client import Iso18626Client, Peer, PeerError
from ill.iso18626.confirm import confirm
from ill.iso18626.messages import ErrorData
from ill.iso18626.xml import from_xml, to_xml
from web.oai.server import EndpointServer

from .messages import T0, loan_request, requester_message

SECRET = "s3cret-shared-with-ext-univ"


class Peer18626:
    """A WSGI app that answers posts from a script of (status, body-maker, delay, headers)."""

    def __init__(self, script):
        self.script = list(script)
        self.seen: list[dict] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        with self.lock:
            self.seen.append(
                {
                    "body": body,
                    "auth": environ.get("HTTP_AUTHORIZATION", ""),
                    "type": environ.get("CONTENT_TYPE", ""),
                }
            )
            status, make, delay, headers = self.script[min(len(self.seen), len(self.script)) - 1]
        if delay:
            time.sleep(delay)
        answer = make(body) if make else b""
        start_response(f"{status} X", [("Content-Type", "application/xml"), *headers])
        return [answer]


def ok(body: bytes) -> bytes:
    return to_xml(confirm(from_xml(body), T0))


def refused(body: bytes) -> bytes:
    return to_xml(confirm(from_xml(body), T0, (ErrorData("UnrecognisedDataValue", "unknown"),)))


@pytest.fixture
def served():
    with EndpointServer() as server:

        def start(app) -> Peer:
            return Peer("ext-univ", server.start(app) + "iso18626", SECRET)

        yield start


def client(**kwargs) -> tuple[Iso18626Client, list[float]]:
    waits: list[float] = []
    options = {"timeout": 2.0, "max_retries": 3, "backoff": 0.01, "sleep": waits.append}
    return Iso18626Client(**{**options, **kwargs}), waits


def test_a_request_is_posted_as_valid_xml_with_the_shared_secret(served):
    app = Peer18626([(200, ok, 0, ())])
    answer, _ = client()
    confirmation = answer.send(served(app), loan_request())
    assert confirmation.ok and confirmation.kind == "requestConfirmation"
    assert confirmation.requesting_request_id == "R-42"
    (seen,) = app.seen
    assert seen["auth"] == f"Peer {SECRET}"
    assert seen["type"].startswith("application/xml")
    assert from_xml(seen["body"]) == loan_request()


def test_busy_or_failing_peers_are_retried_until_they_answer(served):
    app = Peer18626([(503, None, 0, ()), (429, None, 0, (("Retry-After", "2"),)), (200, ok, 0, ())])
    sender, waits = client()
    assert sender.send(served(app), requester_message()).ok
    assert len(app.seen) == 3
    assert waits == [0.01, 2.0]  # exponential back-off, then the peer's own Retry-After


def test_an_error_confirmation_is_returned_for_the_caller_to_act_on(served):
    app = Peer18626([(200, refused, 0, ())])
    confirmation = client()[0].send(served(app), requester_message())
    assert not confirmation.ok
    assert confirmation.errors[0].type == "UnrecognisedDataValue"
    assert len(app.seen) == 1  # a refusal is an answer, not a fault: no retry


def test_a_peer_that_never_answers_in_time_fails_after_the_retries(served):
    app = Peer18626([(200, ok, 1.0, ())])
    sender, waits = client(timeout=0.2, max_retries=2)
    with pytest.raises(PeerError, match="no answer within 0.2s"):
        sender.send(served(app), requester_message())
    assert len(waits) == 2


def test_a_peer_that_answers_html_is_a_protocol_error(served):
    app = Peer18626([(200, lambda body: b"<html><body>Login</body></html>", 0, ())])
    with pytest.raises(PeerError, match="not a valid ISO 18626 message"):
        client()[0].send(served(app), requester_message())


def test_a_confirmation_of_the_wrong_kind_is_a_protocol_error(served):
    app = Peer18626([(200, lambda body: ok(to_xml(loan_request())), 0, ())])
    with pytest.raises(PeerError, match="answered a requestingAgencyMessage with a requestConf"):
        client()[0].send(served(app), requester_message())


def test_a_closed_port_is_reported_after_the_retries():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sender, waits = client(max_retries=1)
    with pytest.raises(PeerError, match="cannot connect"):
        sender.send(Peer("ext-univ", f"http://127.0.0.1:{port}/iso18626"), requester_message())
    assert len(waits) == 1
