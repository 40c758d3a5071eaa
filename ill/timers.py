"""Timers: moments the broker acts by itself, kept in the database so they survive restarts.

A request has at most one timer of each kind: ``response`` (the lender's deadline to answer,
counted in its business hours), ``due`` (the loan's due date: then it is overdue) and
``recall`` (overdue long enough: recalled). The scheduler's ``ill:timers`` job calls
:func:`run_due_timers` every minute; each timer fires in its own transaction through the
same services staff use, so the state machine is enforced in one place.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ill.models import IllTimer
from ill.store import TIMERS

log = logging.getLogger("federation.ill.timers")
KINDS = ("response", "due", "recall")


def set_timer(unit: Any, kind: str, due_at: dt.datetime, lender: str | None = None) -> None:
    """Set (or move) the request's timer of ``kind`` (written with the change's ``unit``)."""
    clear_timers(unit, kind)
    unit.add(
        TIMERS,
        {"request_id": unit.request.id, "kind": kind, "due_at": due_at, "lender_code": lender},
    )


def clear_timers(unit: Any, *kinds: str) -> None:
    """Remove the request's timers of ``kinds`` (all of them when none is named)."""
    unit.clear_timers(tuple(kinds))


def due_timers(session: Session, now: dt.datetime, limit: int = 500) -> list[tuple[int, int, str]]:
    """Return (timer id, request id, kind) of timers due at ``now``, oldest first."""
    rows = session.execute(
        select(IllTimer.id, IllTimer.request_id, IllTimer.kind)
        .where(IllTimer.due_at <= now)
        .order_by(IllTimer.due_at, IllTimer.id)
        .limit(limit)
    )
    return [tuple(row) for row in rows]


def run_due_timers(db: Any, ctx: Any = None) -> int:
    """Fire every due timer, each in its own transaction; return how many fired."""
    from ill import broker
    from ill.context import current

    ctx = current(ctx)
    with db.session() as session:
        pending = due_timers(session, ctx.now())
    fired = 0
    for timer_id, request_id, kind in pending:
        try:
            with db.session() as session:
                timer = session.get(IllTimer, timer_id)
                if timer is None:  # fired or cleared meanwhile
                    continue
                fired += broker.fire_timer(session, ctx, timer)
        except Exception:  # one broken request must not stop the others' timers
            log.exception("ILL timer %s (%s) of request %s failed", timer_id, kind, request_id)
    return fired
