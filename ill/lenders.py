"""What the database knows about lenders: who holds a cluster, their record, today's load."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from federation.models import ClusterRecord, Record, utcnow
from ill.models import IllLenderStats, IllRotaEntry
from ill.rota import Holding, LenderFacts, classify


def holders_of(session: Session, cluster_id: str) -> list[Holding]:
    """Return one Holding per member with an active record in the cluster."""
    rows = session.execute(
        select(Record.member_code, Record.normalised)
        .join(ClusterRecord, ClusterRecord.record_id == Record.id)
        .where(ClusterRecord.cluster_id == cluster_id, Record.status == "active")
    )
    counts: dict[str, Counter] = {}
    for member_code, normalised in rows:
        tally = counts.setdefault(member_code, Counter())
        holdings = (normalised or {}).get("holdings") or []
        if not holdings:
            tally["unknown"] += 1
        for h in holdings:
            tally[classify(h.get("availability"))] += h.get("item_count") or 1
    return [
        Holding(code, **{k: tally[k] for k in ("available", "on_loan", "use_only", "unknown")})
        for code, tally in sorted(counts.items())
    ]


def lender_facts(
    session: Session, codes: Iterable[str], since: dt.datetime
) -> dict[str, LenderFacts]:
    """Return each member's lending statistics and the requests it was asked since ``since``."""
    codes = list(codes)
    stats = {
        s.member_code: s
        for s in session.scalars(
            select(IllLenderStats).where(IllLenderStats.member_code.in_(codes))
        )
    }
    load = dict(
        session.execute(
            select(IllRotaEntry.member_code, func.count())
            .where(IllRotaEntry.member_code.in_(codes), IllRotaEntry.asked_at >= since)
            .group_by(IllRotaEntry.member_code)
        ).all()
    )
    facts = {}
    for code in codes:
        s = stats.get(code)
        facts[code] = LenderFacts(
            asked=s.asked if s else 0,
            filled=s.filled if s else 0,
            turnaround_hours=s.turnaround_hours if s else 0.0,
            borrowed=s.borrowed if s else 0,
            load_today=load.get(code, 0),
            suspended=bool(s and s.suspended),
        )
    return facts


def _bump(session: Session, member_code: str, **amounts: float) -> None:
    """Add ``amounts`` to a member's counters in SQL (no lost update between workers)."""
    table = IllLenderStats.__table__
    values = {name: table.c[name] + amount for name, amount in amounts.items()}
    done = session.execute(
        update(table)
        .where(table.c.member_code == member_code)
        .values(updated_at=utcnow(), **values)
    )
    if done.rowcount:
        return
    try:
        with session.begin_nested():
            row = {c: 0 for c in ("asked", "filled", "unfilled", "timeouts", "borrowed")}
            row.update(turnaround_hours=0.0, suspended=False, updated_at=utcnow(), **amounts)
            session.execute(insert(table).values(member_code=member_code, **row))
    except IntegrityError:  # another worker created the row first
        session.execute(update(table).where(table.c.member_code == member_code).values(**values))


def record_outcome(
    session: Session, lender: str, outcome: str, *, hours: float | None = None
) -> None:
    """Count a lender's answer in its statistics: asked, filled (with hours), unfilled, timeout."""
    if outcome == "filled":
        _bump(session, lender, filled=1, turnaround_hours=hours or 0.0)
    elif outcome in ("asked", "unfilled", "timeouts"):
        _bump(session, lender, **{outcome: 1})


def record_borrowed(session: Session, borrower: str) -> None:
    """Count one filled request for the borrowing member (the lend/borrow balance)."""
    _bump(session, borrower, borrowed=1)
