"""Send peers again, as the request stands now, what they could not be reached for.

The outbox writes ``PeerMessageFailed`` on a request's timeline when a peer's system could not
be reached. The scheduler's timers job calls :func:`resend_undelivered`, which rebuilds the
message from the request's present state (a peer lender still waiting for the request, a peer
borrower's current status, a borrower's action for the lender that still holds it), sends it,
and writes ``PeerMessageSettled`` once it is taken or no longer needed. Waits between attempts
double per failure (1, 2, 4 ... minutes, at most 6 hours).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ill.iso18626.compose import (
    action_message,
    request_message,
    supplier_message,
    withdrawal_message,
)
from ill.iso18626.messages import Message
from ill.iso18626.outbox import FAILED, SETTLED, Outbox, Pending
from ill.models import IllEvent, IllRequest

LOOK_BACK = dt.timedelta(days=14)  # older failures are left to staff (they are on the timeline)
MAX_WAIT = dt.timedelta(hours=6)
_FAILURE = re.compile(r"^ISO 18626 (\w+)(?:\((\w+)\))? to ([a-z0-9-]+) not delivered")


@dataclass(frozen=True)
class Undelivered:
    """The latest failed delivery of a request, and how many failed in a row."""

    request_id: int
    kind: str
    detail: str | None
    peer: str
    failures: int
    last_at: dt.datetime
    missed_request: bool = False  # the peer never got the request itself in this streak


def undelivered(session: Any, now: dt.datetime) -> list[Undelivered]:
    """Return requests whose last delivery news is a failure, oldest first."""
    rows = session.execute(
        select(IllEvent.request_id, IllEvent.event, IllEvent.at, IllEvent.message)
        .where(IllEvent.event.in_((FAILED, SETTLED)), IllEvent.at >= now - LOOK_BACK)
        .order_by(IllEvent.id)
    ).all()
    found: dict[int, Undelivered] = {}
    for request_id, event, at, text in rows:
        parsed = _FAILURE.match(text or "")
        if event == SETTLED or parsed is None:
            found.pop(request_id, None)
            continue
        before = found.get(request_id)
        at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
        kind, detail, peer = parsed.groups()
        missed = kind == "Request" or bool(before and before.missed_request)
        failures = (before.failures if before else 0) + 1
        found[request_id] = Undelivered(request_id, kind, detail, peer, failures, at, missed)
    return list(found.values())


def due(item: Undelivered, now: dt.datetime) -> bool:
    """Tell whether the wait after the last failure is over."""
    wait = min(dt.timedelta(minutes=2 ** (item.failures - 1)), MAX_WAIT)
    return now - item.last_at >= wait


def rebuild(item: Undelivered, request: IllRequest, now: dt.datetime) -> Message | None:
    """Return the message the peer is owed now, or None when it no longer needs one."""
    if item.kind == "Request":
        waiting = request.lender_code == item.peer and request.status == "RequestReceived"
        return request_message(request, now) if waiting else None
    if item.kind == "SupplyingAgencyMessage" and request.borrower_code == item.peer:
        return supplier_message(request, now, "StatusChange")
    if item.kind != "RequestingAgencyMessage":
        return None
    if request.lender_code == item.peer:
        return action_message(request, item.detail or "Notification", "", now)
    if item.detail == "Cancel" and not item.missed_request:  # withdrawn while it was down
        return withdrawal_message(request, item.peer, now)
    return None


def resend_undelivered(db: Any, ctx: Any, now: dt.datetime | None = None) -> int:
    """Send again what peers missed (when due); return how many messages they took."""
    outbox = next((x for x in ctx.listeners if isinstance(x, Outbox)), None)
    if outbox is None:
        return 0
    now = now or ctx.now()
    with db.session() as session:
        items = [i for i in undelivered(session, now) if due(i, now)]
    taken = 0
    for item in items:
        with db.session() as session:
            request = session.get(IllRequest, item.request_id)
            message = rebuild(item, request, now) if request is not None else None
        peer = outbox.peer(item.peer)
        if message is None or peer is None:
            outbox.note(item.request_id, SETTLED, f"ISO 18626 to {item.peer}: no longer needed")
            continue
        if outbox.deliver([Pending(item.request_id, peer, message)]):
            outbox.note(item.request_id, SETTLED, f"ISO 18626 to {item.peer}: sent again, taken")
            taken += 1
    return taken
