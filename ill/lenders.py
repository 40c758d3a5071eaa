"""What the database knows about lenders: who holds a cluster, their record, today's load."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from federation.models import ClusterRecord, Record, utcnow
from ill.models import IllLenderStats, IllRequest, IllRotaEntry
from ill.rota import Holding, LenderFacts, classify


def holders_of(session: Session, cluster_id: str) -> list[Holding]:
    """Return one Holding per member with an active record in the cluster."""
    rows = session.execute(
        select(Record.member_code, Record.normalised["holdings"])  # not the whole record
        .join(ClusterRecord, ClusterRecord.record_id == Record.id)
        .where(ClusterRecord.cluster_id == cluster_id, Record.status == "active")
    )
    counts: dict[str, Counter] = {}
    for member_code, holdings in rows:
        tally = counts.setdefault(member_code, Counter())
        holdings = holdings if isinstance(holdings, list) else []
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


def refresh_stats(session: Session) -> int:
    """Recount every member's lending statistics from the rota entries; return members counted."""
    e = IllRotaEntry
    lent = session.execute(
        select(
            e.member_code,
            func.count(e.asked_at),
            func.count(case((e.outcome == "supplied", 1))),
            func.count(case((e.outcome == "unfilled", 1))),
            func.count(case((e.outcome == "timeout", 1))),
            func.coalesce(func.sum(e.hours), 0.0),
        ).group_by(e.member_code)
    ).all()
    borrowed = dict(
        session.execute(
            select(IllRequest.borrower_code, func.count())
            .join(e, e.request_id == IllRequest.id)
            .where(e.outcome == "supplied")
            .group_by(IllRequest.borrower_code)
        ).all()
    )
    rows = {code: (asked, filled, unfilled, timeouts, float(hours))
            for code, asked, filled, unfilled, timeouts, hours in lent}  # fmt: skip
    for code in sorted(set(rows) | set(borrowed)):
        asked, filled, unfilled, timeouts, hours = rows.get(code, (0, 0, 0, 0, 0.0))
        row = session.get(IllLenderStats, code) or IllLenderStats(member_code=code, suspended=False)
        row.asked, row.filled, row.unfilled, row.timeouts = asked, filled, unfilled, timeouts
        row.turnaround_hours, row.borrowed = hours, borrowed.get(code, 0)
        row.updated_at = utcnow()
        session.add(row)
    session.flush()
    return len(set(rows) | set(borrowed))
