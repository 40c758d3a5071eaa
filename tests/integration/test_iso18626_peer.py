"""A member's own ISO 18626 system and the broker finish loans and copies over real HTTP.

Both sides run on loopback: the platform (the Flask app behind werkzeug) and a simulated
external ILL system (``servers/iso18626_peer.py``) playing the member ``ldu``. The peer borrows
from the alliance, and lends to it; every message in both directions is checked against the
ISO 18626 2021-2 schema by a second validator (xmlschema).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
import xmlschema

from federation.alliance import load_alliance
from federation.members import import_alliance
from federation.roles import SYSTEM, Actor, Role
from ill import services
from ill.iso18626.client import Peer
from ill.iso18626.messages import (
    AgencyId,
    Bibliographic,
    Header,
    Identifier,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from ill.iso18626.outbox import CLUSTER_ID_CODE
from ill.iso18626.resend import resend_undelivered
from ill.models import IllEvent, IllRequest
from tests.conftest import DEMO_ALLIANCE
from tests.integration.servers.iso18626_peer import SimulatedIllSystem
from tests.support.ill import Clock, add_cluster
from web.oai.server import EndpointServer

pytestmark = pytest.mark.integration

PEER = "ldu"
SECRET = "ldu-and-the-alliance-share-this-0123"
SCHEMA = (
    Path(__file__).resolve().parents[2] / "ill" / "iso18626" / "schemas" / "ISO-18626-2021-2.xsd"
)
# Tuesday 10 March 2026, 10:00 in Yantai: every demo library is open.
TUESDAY_MORNING = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def wire(settings_overrides, db, tmp_path):
    """The platform and the peer, each serving HTTP on loopback, wired to each other."""
    peer = SimulatedIllSystem(PEER, SECRET)
    now = {"ILL_PEER_SEND_IN_BACKGROUND": False}  # these tests read what the peer got at once
    with _platform(settings_overrides, db, tmp_path, peer, **now) as (servers, app):
        peer.platform = Peer("alliance", servers.start(app) + "iso18626", SECRET)
        yield peer, app.extensions["ill.context"]


@contextmanager
def _platform(settings_overrides, db, tmp_path, peer_app, **settings):
    """Serve ``peer_app`` as ldu's own ISO 18626 system; yield the servers and the platform app."""
    from web import create_app

    with EndpointServer() as servers:
        alliance_file = tmp_path / "alliance.yaml"
        alliance_file.write_text(_with_endpoint(servers.start(peer_app) + "iso18626"), "utf-8")
        with db.session() as session:
            import_alliance(session, load_alliance(alliance_file))
        app = create_app(
            {
                **settings_overrides,
                "ALLIANCE_FILE": str(alliance_file),
                "ILL_PEER_SECRETS": f"{PEER}={SECRET}",
                "ILL_PEER_MAX_RETRIES": 1,
                **settings,
            }
        )
        app.extensions["ill.context"].clock = Clock(TUESDAY_MORNING)
        yield servers, app
        app.extensions["federation.db"].dispose()


def _with_endpoint(url: str) -> str:
    """Return the demo alliance with ldu running its own ISO 18626 system at ``url``."""
    text = DEMO_ALLIANCE.read_text(encoding="utf-8")
    head, sep, rest = text.partition("  - code: ldu\n")
    anchor = "      response_hours: 24\n"
    assert sep and anchor in rest
    return head + sep + rest.replace(anchor, f"{anchor}      iso18626_endpoint: {url}\n", 1)


def staff(member: str) -> Actor:
    return Actor(Role.ILL_STAFF, member, user_id=7, name="staff")


def supply(db, ctx, rid: int, status: str) -> None:
    """Our lender's staff record a status, as its screens would."""
    with db.session() as session:
        lender = session.get(IllRequest, rid).lender_code
        services.apply_supplier_status(session, staff(lender), rid, status, ctx=ctx)


def act(db, ctx, rid: int, action: str, who: str = "zhifu-pl") -> None:
    """Our borrower's staff take an action, as its screens would."""
    with db.session() as session:
        services.apply_requester_action(session, staff(who), rid, action, ctx=ctx)


def request_row(db, rid: int) -> IllRequest:
    with db.session() as session:
        return session.get(IllRequest, rid)


def peer_request(number: str, cluster: str, service: str) -> Request:
    return Request(
        header=Header(AgencyId(PEER), number, AgencyId("alliance")),
        bibliographic=Bibliographic(
            title="数据结构", record_ids=(Identifier(CLUSTER_ID_CODE, cluster),)
        ),
        service_type=service,
        service_level="Normal",
        pickup_location="鲁东大学 ILL desk",
    )


def peer_action(number: str, action: str) -> RequestingAgencyMessage:
    return RequestingAgencyMessage(
        header=Header(AgencyId(PEER), number, AgencyId("ytu")), action=action
    )


def peer_status(rid: int, status: str, borrower: str = "zhifu-pl") -> SupplyingAgencyMessage:
    return SupplyingAgencyMessage(
        header=Header(AgencyId(borrower), str(rid), AgencyId(PEER), f"LDU-{rid}"),
        reason_for_message="RequestResponse" if status == "WillSupply" else "StatusChange",
        status=status,
    )


def assert_all_schema_valid(peer: SimulatedIllSystem) -> None:
    validator = xmlschema.XMLSchema(str(SCHEMA))
    assert peer.exchanges
    for exchange in peer.exchanges:
        validator.validate(exchange.body.decode("utf-8"))


def events(db, rid: int) -> list[str]:
    with db.session() as session:
        return [
            e.event for e in session.query(IllEvent).filter_by(request_id=rid).order_by(IllEvent.id)
        ]


def _peer_places(db, peer, cluster_id: str, number: str, service: str) -> IllRequest:
    answer = peer.send(peer_request(number, cluster_id, service))
    assert answer.ok, answer.errors
    with db.session() as session:
        row = session.query(IllRequest).filter_by(borrower_code=PEER, idempotency_key=number).one()
    assert row.lender_code == "ytu" and row.status == "RequestReceived"
    return row


def test_the_peer_borrows_a_loan_from_the_alliance_start_to_finish(wire, db):
    peer, ctx = wire
    add_cluster(db, "c-wire-loan", "数据结构", {"ytu": ["在架"], PEER: ["在架"]})
    row = _peer_places(db, peer, "c-wire-loan", "LDU-100", "Loan")
    assert peer.send(peer_request("LDU-100", "c-wire-loan", "Loan")).ok  # a resend is harmless
    supply(db, ctx, row.id, "WillSupply")
    supply(db, ctx, row.id, "Loaned")
    assert peer.send(peer_action("LDU-100", "Received")).ok
    assert peer.send(peer_action("LDU-100", "Renew")).ok
    assert peer.send(peer_action("LDU-100", "ShippedReturn")).ok
    supply(db, ctx, row.id, "LoanCompleted")

    assert peer.statuses() == ["WillSupply", "Loaned", "Loaned", "LoanCompleted"]
    news = peer.received(SupplyingAgencyMessage)
    assert [m.reason_for_message for m in news] == [
        "RequestResponse",
        "StatusChange",
        "RenewResponse",
        "StatusChange",
    ]
    assert news[1].due_date is not None and news[2].due_date > news[1].due_date  # renewed
    assert all(m.header.requesting_request_id == "LDU-100" for m in news)
    assert request_row(db, row.id).status == "LoanCompleted"
    assert len([r for r in peer.exchanges if isinstance(r.message, Request)]) == 2  # ours only
    assert_all_schema_valid(peer)


def test_the_peer_borrows_a_copy_from_the_alliance(wire, db):
    peer, ctx = wire
    add_cluster(db, "c-wire-copy", "图书馆学期刊", {"ytu": ["在架"]})
    row = _peer_places(db, peer, "c-wire-copy", "LDU-200", "Copy")
    supply(db, ctx, row.id, "WillSupply")
    assert peer.send(peer_action("LDU-200", "StatusRequest")).ok
    supply(db, ctx, row.id, "CopyCompleted")
    assert peer.send(peer_action("LDU-200", "Received")).ok
    assert peer.statuses() == ["WillSupply", "WillSupply", "CopyCompleted"]
    reasons = [m.reason_for_message for m in peer.received(SupplyingAgencyMessage)]
    assert reasons == ["RequestResponse", "StatusRequestResponse", "StatusChange"]
    assert peer.received(SupplyingAgencyMessage)[-1].date_sent is not None
    assert request_row(db, row.id).requester_state == "Received"
    assert_all_schema_valid(peer)


def test_an_alliance_member_borrows_a_loan_from_the_peer(wire, db):
    peer, ctx = wire
    add_cluster(db, "c-wire-from-peer", "软件工程", {PEER: ["在架"]})
    with db.session() as session:
        rid = services.create_request(
            session,
            staff("zhifu-pl"),
            ctx=ctx,
            cluster_id="c-wire-from-peer",
            service_type="Loan",
            patron_name="王小明",
            patron_card="20260001",
        ).id
    (sent,) = peer.received(Request)
    assert sent.header.requesting_request_id == str(rid)
    assert sent.bibliographic.record_ids[0].value == "c-wire-from-peer"
    assert peer.send(peer_status(rid, "WillSupply")).ok
    assert peer.send(peer_status(rid, "Loaned")).ok
    act(db, ctx, rid, "Received")
    act(db, ctx, rid, "ShippedReturn")
    assert peer.send(peer_status(rid, "LoanCompleted")).ok

    assert [m.action for m in peer.received(RequestingAgencyMessage)] == [
        "Received",
        "ShippedReturn",
    ]
    row = request_row(db, rid)
    assert row.status == "LoanCompleted" and row.closed_at is not None
    assert events(db, rid)[-5:] == [
        "WillSupply",
        "Loaned",
        "Received",
        "ShippedReturn",
        "LoanCompleted",
    ]
    assert not any("王小明".encode() in e.body or b"20260001" in e.body for e in peer.exchanges)
    assert_all_schema_valid(peer)


def test_an_alliance_member_borrows_a_copy_from_the_peer(wire, db):
    peer, ctx = wire
    add_cluster(db, "c-wire-copy-peer", "情报学报", {PEER: ["在架"]})
    with db.session() as session:
        rid = services.create_request(
            session,
            staff("zhifu-pl"),
            ctx=ctx,
            cluster_id="c-wire-copy-peer",
            service_type="Copy",
        ).id
    assert peer.received(Request)[0].service_type == "Copy"
    assert peer.send(peer_status(rid, "WillSupply")).ok
    news = dataclasses.replace(
        peer_status(rid, "WillSupply"), reason_for_message="Notification", note="scanning today"
    )
    assert peer.send(news).ok  # news without a change of status goes on the timeline
    assert peer.send(peer_status(rid, "CopyCompleted")).ok
    act(db, ctx, rid, "Received")
    assert "Notification" in events(db, rid)
    assert request_row(db, rid).status == "CopyCompleted"
    assert [m.action for m in peer.received(RequestingAgencyMessage)] == ["Received"]
    assert_all_schema_valid(peer)


def test_the_peer_is_refused_what_the_state_machine_does_not_allow(wire, db):
    peer, ctx = wire
    add_cluster(db, "c-wire-refused", "操作系统", {PEER: ["在架"]})
    with db.session() as session:
        rid = services.create_request(
            session, staff("zhifu-pl"), ctx=ctx, cluster_id="c-wire-refused", service_type="Copy"
        ).id
    answer = peer.send(peer_status(rid, "Loaned"))  # a copy cannot be loaned
    assert answer.status == "ERROR" and answer.errors[0].type == "UnrecognisedDataValue"
    assert "allowed now" in answer.errors[0].value
    answer = peer.send(peer_status(rid + 1000, "WillSupply"))
    assert answer.status == "ERROR" and f"no ILL request '{rid + 1000}'" in answer.errors[0].value
    answer = peer.send(peer_status(rid, "WillSupply", borrower="ytu"))  # wrong borrower
    assert answer.status == "ERROR"
    assert request_row(db, rid).status == "RequestReceived"  # nothing half-done


def _borrow_from_peer(db, ctx, cluster_id: str, holders: dict) -> int:
    add_cluster(db, cluster_id, "编译原理", holders)
    with db.session() as session:
        request = services.create_request(
            session, staff("zhifu-pl"), ctx=ctx, cluster_id=cluster_id, service_type="Loan"
        )
        assert request.lender_code == PEER  # same district, copy on the shelf: asked first
        return request.id


def test_a_peer_that_does_not_answer_in_time_is_told_the_request_went_elsewhere(wire, db):
    peer, ctx = wire
    rid = _borrow_from_peer(db, ctx, "c-wire-timeout", {PEER: ["在架"], "sdtbu": ["在架"]})
    ctx.clock.advance(days=7)
    with db.session() as session:
        assert services.time_out(session, SYSTEM, rid, PEER, ctx=ctx) == 1
    (cancel,) = peer.received(RequestingAgencyMessage)
    assert cancel.action == "Cancel" and cancel.header.requesting_request_id == str(rid)
    assert "another library" in cancel.note
    assert request_row(db, rid).lender_code == "sdtbu"
    assert_all_schema_valid(peer)


def test_our_borrower_cancels_and_the_peer_confirms_the_cancellation(wire, db):
    peer, ctx = wire
    rid = _borrow_from_peer(db, ctx, "c-wire-cancel", {PEER: ["在架"]})
    act(db, ctx, rid, "Cancel")
    (cancel,) = peer.received(RequestingAgencyMessage)
    assert cancel.action == "Cancel"
    reply = SupplyingAgencyMessage(
        header=Header(AgencyId("zhifu-pl"), str(rid), AgencyId(PEER)),
        reason_for_message="CancelResponse",
        status="Cancelled",
        answer_yes_no="Y",
    )
    assert peer.send(reply).ok
    assert request_row(db, rid).status == "Cancelled"
    assert_all_schema_valid(peer)


def test_a_peer_that_is_down_leaves_a_note_on_the_timeline(wire, db):
    peer, ctx = wire
    peer.down = True
    rid = _borrow_from_peer(db, ctx, "c-wire-down", {PEER: ["在架"]})
    with db.session() as session:
        notes = [
            e.message
            for e in session.query(IllEvent).filter_by(request_id=rid, event="PeerMessageFailed")
        ]
    assert len(notes) == 1
    assert f"Request to {PEER} not delivered" in notes[0] and "HTTP 503" in notes[0]
    assert request_row(db, rid).status == "RequestReceived"  # the response timer still runs


@pytest.fixture
def timers_job(settings_overrides, tmp_path, monkeypatch):
    """The scheduler's ILL timers job, configured through the environment as in production."""
    env = {
        "FEDERATION_INSTANCE_PATH": settings_overrides["INSTANCE_PATH"],
        "FEDERATION_DATABASE_URL": settings_overrides["DATABASE_URL"],
        "FEDERATION_ALLIANCE_FILE": str(tmp_path / "alliance.yaml"),
        "FEDERATION_ILL_PEER_SECRETS": f"{PEER}={SECRET}",
        "FEDERATION_SECRET_KEY": "test-secret",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from ill.tasks import timers_job

    return timers_job


def test_the_scheduler_tells_the_peer_when_a_timeout_routes_the_request_to_it(wire, db, timers_job):
    peer, ctx = wire
    # ytlib has a copy on the shelf and is asked first; the peer's copy is out: second.
    add_cluster(db, "c-wire-timer", "计算机网络", {"ytlib": ["在架"], PEER: ["借出"]})
    with db.session() as session:
        request = services.create_request(
            session, staff("zhifu-pl"), ctx=ctx, cluster_id="c-wire-timer", service_type="Loan"
        )
        rid, first = request.id, request.lender_code
    assert first == "ytlib" and peer.received(Request) == []
    timers_job()  # the scheduler's job, on the real clock: ytlib's deadline passed long ago
    assert request_row(db, rid).lender_code == PEER
    (sent,) = peer.received(Request)
    assert sent.header.requesting_request_id == str(rid)
    assert_all_schema_valid(peer)


def test_the_peer_cannot_supply_and_the_broker_moves_on_with_its_reason(wire, db):
    peer, ctx = wire
    rid = _borrow_from_peer(db, ctx, "c-wire-unfilled", {PEER: ["在架"], "sdtbu": ["在架"]})
    answer = dataclasses.replace(peer_status(rid, "Unfilled"), reason_unfilled="NotOnShelf")
    assert peer.send(answer).ok
    row = request_row(db, rid)
    assert (row.lender_code, row.status) == ("sdtbu", "RequestReceived")
    with db.session() as session:
        said = session.query(IllEvent).filter_by(request_id=rid, event="Unfilled").one().message
    assert "NotOnShelf" in said
    assert peer.received(RequestingAgencyMessage) == []  # it said no itself: nothing to cancel


def test_the_scheduler_tells_a_peer_borrower_its_loan_is_overdue(wire, db, timers_job):
    peer, ctx = wire
    add_cluster(db, "c-wire-overdue", "人工智能", {"ytu": ["在架"]})
    row = _peer_places(db, peer, "c-wire-overdue", "LDU-300", "Loan")
    supply(db, ctx, row.id, "WillSupply")
    supply(db, ctx, row.id, "Loaned")  # due 30 days after March 2026: long past today
    timers_job()
    assert request_row(db, row.id).status == "Overdue"
    assert peer.statuses() == ["WillSupply", "Loaned", "Overdue"]
    assert peer.received(SupplyingAgencyMessage)[-1].header.requesting_request_id == "LDU-300"
    assert_all_schema_valid(peer)


def delivery_events(db, rid: int) -> list[str]:
    return [e for e in events(db, rid) if e.startswith("PeerMessage")]


def test_what_a_peer_missed_while_down_is_sent_again_once_it_is_back(wire, db):
    peer, ctx = wire
    peer.down = True
    rid = _borrow_from_peer(db, ctx, "c-wire-resend", {PEER: ["在架"]})
    failed_at = ctx.now()
    peer.down = False
    assert resend_undelivered(db, ctx, now=failed_at + dt.timedelta(seconds=30)) == 0  # waits
    assert peer.received(Request) == []
    assert resend_undelivered(db, ctx, now=failed_at + dt.timedelta(minutes=2)) == 1
    (sent,) = peer.received(Request)
    assert sent.header.requesting_request_id == str(rid)
    assert delivery_events(db, rid) == ["PeerMessageFailed", "PeerMessageSettled"]
    assert resend_undelivered(db, ctx, now=failed_at + dt.timedelta(hours=1)) == 0  # settled
    assert len(peer.received(Request)) == 1
    assert_all_schema_valid(peer)


def test_the_wait_doubles_while_the_peer_stays_down(wire, db):
    peer, ctx = wire
    peer.down = True
    rid = _borrow_from_peer(db, ctx, "c-wire-backoff", {PEER: ["在架"]})
    start = ctx.now()
    ctx.clock.advance(minutes=1)
    assert resend_undelivered(db, ctx) == 0  # tried after 1 minute, failed again
    ctx.clock.advance(minutes=1)
    assert resend_undelivered(db, ctx) == 0  # 1 minute after: too early (the wait is now 2)
    assert delivery_events(db, rid) == ["PeerMessageFailed", "PeerMessageFailed"]
    peer.down = False
    ctx.clock.advance(minutes=1)
    assert resend_undelivered(db, ctx) == 1
    assert ctx.now() - start == dt.timedelta(minutes=3)


def test_a_message_no_longer_needed_is_not_sent_again(wire, db):
    peer, ctx = wire
    peer.down = True
    rid = _borrow_from_peer(db, ctx, "c-wire-moot", {PEER: ["在架"], "sdtbu": ["在架"]})
    ctx.clock.advance(days=7)
    with db.session() as session:  # the peer never answered: the broker moves on
        services.time_out(session, SYSTEM, rid, PEER, ctx=ctx)
    peer.down = False
    ctx.clock.advance(minutes=5)
    assert resend_undelivered(db, ctx) == 0
    assert peer.received(Request) == []  # the request is with sdtbu now
    assert peer.received(RequestingAgencyMessage) == []  # it never had it: nothing to cancel
    assert delivery_events(db, rid)[-1] == "PeerMessageSettled"


def test_a_withdrawal_the_peer_missed_is_sent_again(wire, db):
    peer, ctx = wire
    rid = _borrow_from_peer(db, ctx, "c-wire-withdraw", {PEER: ["在架"], "sdtbu": ["在架"]})
    assert len(peer.received(Request)) == 1  # it got the request...
    peer.down = True
    ctx.clock.advance(days=7)
    with db.session() as session:  # ...but was down when the broker gave up waiting
        services.time_out(session, SYSTEM, rid, PEER, ctx=ctx)
    peer.down = False
    ctx.clock.advance(minutes=5)
    assert resend_undelivered(db, ctx) == 1
    (cancel,) = peer.received(RequestingAgencyMessage)
    assert cancel.action == "Cancel" and cancel.header.supplying_agency.value == PEER
    assert_all_schema_valid(peer)


class GatedPeer:
    """The simulated peer, holding every message at its door until the test opens it."""

    def __init__(self, peer: SimulatedIllSystem) -> None:
        self.peer = peer
        self.knocked = threading.Event()
        self.open = threading.Event()

    def __call__(self, environ, start_response):
        self.knocked.set()
        self.open.wait(timeout=60)
        return self.peer(environ, start_response)


def test_a_clerks_click_does_not_wait_for_a_slow_peer(settings_overrides, db, tmp_path):
    """The web application sends a peer its messages after the page is answered: the clerk's
    request is placed and the page returned while the peer still holds the message."""
    from tests.support.accounts import csrf, sign_in_as

    peer = SimulatedIllSystem(PEER, SECRET)
    gate = GatedPeer(peer)
    with _platform(settings_overrides, db, tmp_path, gate) as (_servers, app):
        add_cluster(db, "c-gated", "软件工程", {PEER: ["在架"]})
        clerk = app.test_client()
        sign_in_as(clerk, app, Role.ILL_STAFF, "zhifu-pl")
        form = {"csrf_token": csrf(clerk), "cluster_id": "c-gated", "form_key": "gated-1"}
        placed = clerk.post("/ill/new", data=form)
        assert placed.status_code == 303
        assert gate.knocked.wait(timeout=30), "the request was never sent to the peer"
        assert peer.received(Request) == []  # the page came back while the peer held it
        gate.open.set()
        outbox = next(x for x in app.extensions["ill.context"].listeners if hasattr(x, "flush"))
        assert outbox.flush(timeout=60)
        (sent,) = peer.received(Request)
        assert sent.bibliographic.record_ids[0].value == "c-gated"
        rid = int(placed.headers["Location"].rstrip("/").split("/")[-1])
        assert "PeerMessageFailed" not in events(db, rid)


def _renew_answer(rid: int, answer: str, due: dt.datetime) -> SupplyingAgencyMessage:
    return SupplyingAgencyMessage(
        header=Header(AgencyId("zhifu-pl"), str(rid), AgencyId(PEER), f"LDU-{rid}"),
        reason_for_message="RenewResponse",
        status="Loaned",
        answer_yes_no=answer,
        due_date=due,
        note="wanted by one of our readers" if answer == "N" else None,
    )


def test_the_peer_lenders_due_date_and_its_answers_to_renew_are_kept(wire, db):
    peer, ctx = wire
    rid = _borrow_from_peer(db, ctx, "c-wire-renew", {PEER: ["在架"]})
    assert peer.send(peer_status(rid, "WillSupply")).ok
    due = dt.datetime(2026, 4, 2, 16, 0, tzinfo=dt.UTC)  # the peer's own loan rules
    loaned = dataclasses.replace(peer_status(rid, "Loaned"), due_date=due)
    assert peer.send(loaned).ok
    assert request_row(db, rid).due_at.replace(tzinfo=dt.UTC) == due

    act(db, ctx, rid, "Renew")  # granted here at once, and sent to the peer
    assert [m.action for m in peer.received(RequestingAgencyMessage)] == ["Renew"]
    assert request_row(db, rid).renewals == 1
    assert peer.send(_renew_answer(rid, "N", due)).ok
    row = request_row(db, rid)
    assert row.renewals == 0 and row.due_at.replace(tzinfo=dt.UTC) == due and row.status == "Loaned"
    assert events(db, rid)[-1] == "RenewRefused"

    act(db, ctx, rid, "Renew")
    later = due + dt.timedelta(days=14)
    assert peer.send(_renew_answer(rid, "Y", later)).ok
    row = request_row(db, rid)
    assert row.renewals == 1 and row.due_at.replace(tzinfo=dt.UTC) == later
    assert events(db, rid)[-1] == "RenewConfirmed"
    assert_all_schema_valid(peer)
