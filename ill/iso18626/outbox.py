"""Tell members that run their own ISO 18626 system what happened to their requests.

:class:`Outbox` listens to the broker (``IllContext.listeners``). Each change that concerns a
peer becomes an ISO 18626 message, queued on the database session and sent only after the
session commits: a rolled-back change sends nothing, and a peer answering at once sees the
committed request.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from federation.alliance.model import Alliance
from ill.iso18626.client import Iso18626Client, Peer, PeerError
from ill.iso18626.messages import (
    AgencyId,
    Bibliographic,
    Costs,
    Header,
    Identifier,
    Message,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from ill.iso18626.peers import peer_for

log = logging.getLogger("federation.ill.iso18626")
CLUSTER_ID_CODE = "FEDERATION-CLUSTER"  # bibliographicRecordId code of a union-catalogue title
OUTBOX_KEY = "iso18626_outbox"
LISTENING_KEY = "iso18626_listening"
WIRE_ACTIONS = frozenset(
    {"StatusRequest", "Received", "Cancel", "Renew", "ShippedReturn", "Notification", "Lost"}
)
# Answers a supplier owes to a requester's action (reasonForMessage).
RESPONSES = {
    "Cancel": "CancelResponse",
    "Renew": "RenewResponse",
    "StatusRequest": "StatusRequestResponse",
}
ANSWERS = frozenset({"ExpectToSupply", "WillSupply"})  # a supplier's first answer to a request
DECLINES = frozenset({"Unfilled", "RetryPossible"})  # the broker moves on: not final for the peer


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def requester_request_id(request: Any) -> str:
    """Return the id the borrowing system knows the request by (a peer's own, or ours)."""
    return request.idempotency_key or str(request.id)


def _header(request: Any, now: dt.datetime) -> Header:
    supplier = AgencyId(request.lender_code) if request.lender_code else None
    return Header(
        requesting_agency=AgencyId(request.borrower_code),
        requesting_request_id=requester_request_id(request),
        supplying_agency=supplier,
        supplying_request_id=str(request.id),
        timestamp=now,
    )


def bibliographic_of(request: Any) -> Bibliographic:
    """Describe the requested item: the union title, or the citation staff typed."""
    c = request.citation or {}
    items = tuple(Identifier(code.upper(), c[code]) for code in ("isbn", "issn") if c.get(code))
    records = (Identifier(CLUSTER_ID_CODE, request.cluster_id),) if request.cluster_id else ()
    component = bool(c.get("article_title"))
    return Bibliographic(
        title=(c.get("journal") if component else None) or c.get("title") or request.title,
        author=None if component else c.get("author") or None,
        title_of_component=c.get("article_title") or None,
        author_of_component=c.get("author") if component else None,
        volume=c.get("volume") or None,
        issue=c.get("issue") or None,
        pages_requested=c.get("pages") or None,
        item_ids=items,
        record_ids=records,
        publication_date=c.get("year") or None,
    )


def request_message(request: Any, now: dt.datetime) -> Request:
    """Build the ISO 18626 request a peer lender receives (never the reader's identity)."""
    need = request.needed_by
    return Request(
        header=Header(
            AgencyId(request.borrower_code),
            str(request.id),
            AgencyId(request.lender_code),
            timestamp=now,
        ),
        bibliographic=bibliographic_of(request),
        service_type=request.service_type,
        service_level=request.service_level,
        need_before=dt.datetime(need.year, need.month, need.day, tzinfo=dt.UTC) if need else None,
        note=request.note or None,
        max_cost=Costs(request.max_cost) if request.max_cost is not None else None,
        pickup_location=request.pickup_location or None,
    )


def supplier_message(
    request: Any, now: dt.datetime, reason: str, note: str = "", answer: str | None = None
) -> SupplyingAgencyMessage:
    """Build the message a peer borrower receives about its request's status."""
    shipped = request.status in ("Loaned", "CopyCompleted")
    unfilled = request.status == "Unfilled"
    return SupplyingAgencyMessage(
        header=_header(request, now),
        reason_for_message=reason,
        status=request.status,
        last_change=_utc(request.updated_at) or now,
        answer_yes_no=answer,
        note=note[:2000] or None,
        reason_unfilled="NotAvailableForILL" if unfilled else None,
        due_date=_utc(request.due_at)
        if request.status in ("Loaned", "Overdue", "Recalled")
        else None,
        date_sent=now if shipped and reason != "StatusRequestResponse" else None,
    )


def action_message(
    request: Any, action: str, note: str, now: dt.datetime
) -> RequestingAgencyMessage:
    """Build the message a peer lender receives when the borrower acts."""
    header = _header(request, now)
    header = Header(header.requesting_agency, str(request.id), header.supplying_agency, None, now)
    return RequestingAgencyMessage(header=header, action=action, note=note[:2000] or None)


@dataclass
class Outbox:
    """Listen to the broker and send peers their messages once the change is committed."""

    alliance: Alliance
    secrets: Mapping[str, str]
    client: Iso18626Client = field(default_factory=Iso18626Client)
    sent: list[tuple[str, Message]] = field(default_factory=list)  # last few, for the log
    clock: Any = None

    def peer(self, member_code: str | None) -> Peer | None:
        """Return the member's own system, or None when the platform acts for it."""
        return peer_for(self.alliance, self.secrets, member_code) if member_code else None

    def __call__(self, name: str, request: Any, detail: dict) -> None:
        """Turn one broker event into the messages peers are owed, queued until commit."""
        now = (self.clock or _now)()
        for peer, message in self.messages_for(name, request, detail, now):
            self._queue(request, peer, message)

    def messages_for(
        self, name: str, request: Any, detail: dict, now: dt.datetime
    ) -> list[tuple[Peer, Message]]:
        """Return (peer, message) pairs owed for a broker event; empty when no peer is involved."""
        lender, borrower = self.peer(request.lender_code), self.peer(request.borrower_code)
        if lender and borrower:
            return []  # two outside systems talk to each other directly, not through us
        if name == "routed" and lender:
            return [(lender, request_message(request, now))]
        if name == "requester_action" and detail.get("action") in WIRE_ACTIONS:
            return self._after_action(request, detail, lender, borrower, now)
        if name == "supplier_status" and borrower and detail.get("status") not in DECLINES:
            reason = "RequestResponse" if detail.get("status") in ANSWERS else "StatusChange"
            return [(borrower, supplier_message(request, now, reason, detail.get("message", "")))]
        if name == "unfilled" and borrower:
            note = detail.get("reasons", "")
            return [(borrower, supplier_message(request, now, "RequestResponse", note))]
        return []

    @staticmethod
    def _after_action(request, detail, lender, borrower, now) -> list[tuple[Peer, Message]]:
        action, note = detail["action"], detail.get("message", "")
        if lender:
            return [(lender, action_message(request, action, note, now))]
        if borrower and action in RESPONSES:
            return [(borrower, supplier_message(request, now, RESPONSES[action], note, "Y"))]
        return []

    def _queue(self, request: Any, peer: Peer, message: Message) -> None:
        session = object_session(request)
        if session is None:  # not in a transaction: nothing to wait for
            self.deliver([(peer, message)])
            return
        if not session.info.get(LISTENING_KEY):  # once per session; sessions are short
            session.info[LISTENING_KEY] = True
            event.listen(session, "after_commit", self._after_commit)
            event.listen(session, "after_rollback", _discard)
        session.info.setdefault(OUTBOX_KEY, []).append((peer, message))

    def _after_commit(self, session: Session) -> None:
        self.deliver(session.info.pop(OUTBOX_KEY, []))

    def deliver(self, queued: list[tuple[Peer, Message]]) -> None:
        """Send queued messages in order; a peer that cannot be reached is logged, not fatal."""
        for peer, message in queued:
            try:
                answer = self.client.send(peer, message)
            except PeerError as exc:
                log.warning("ISO 18626 %s not delivered: %s", type(message).__name__, exc)
                continue
            self.sent.append((peer.code, message))
            del self.sent[:-50]
            if not answer.ok:
                reasons = "; ".join(f"{e.type}: {e.value}" for e in answer.errors)
                log.warning(
                    "ISO 18626 %s refused by %s: %s", type(message).__name__, peer.code, reasons
                )


def _discard(session: Session) -> None:
    session.info.pop(OUTBOX_KEY, None)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def attach(ctx: Any, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> Outbox:
    """Make the broker's context send peers their messages (web, scheduler and CLI call this)."""
    outbox = Outbox(
        alliance=ctx.alliance,
        secrets=secrets,
        client=Iso18626Client(
            timeout=settings["ILL_PEER_TIMEOUT"], max_retries=settings["ILL_PEER_MAX_RETRIES"]
        ),
        clock=ctx.now,  # read at each event: a test may swap the context's clock
    )
    ctx.listeners[:] = [x for x in ctx.listeners if not isinstance(x, Outbox)] + [outbox]
    return outbox
