"""What the database knows about lenders: who holds a cluster, their record, today's load."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from federation.models import ClusterRecord, Record, utcnow
from ill.models import IllLenderStats, IllRequest, IllRotaEntry
from ill.rota import Holding, LenderFacts, classify
from ill.sql import fetch, fetch_many


def holders_of(session: Session, cluster_id: str) -> list[Holding]:
    """Return one Holding per member with an active record in the cluster."""
    rows = session.execute(
        select(Record.member_code, Record.normalised["holdings"])  # not the whole record
        .join(ClusterRecord, ClusterRecord.record_id == Record.id)
        .where(ClusterRecord.cluster_id == cluster_id, Record.status == "active")
    )
    return holdings_of_rows(rows)


def holdings_of_rows(rows: Iterable[tuple[str, Any]]) -> list[Holding]:
    """Return one Holding per member from (member code, holdings JSON) rows of its records."""
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


@dataclass(frozen=True)
class _Stats:
    """One member's lending statistics as the rota uses them."""

    asked: int
    filled: int
    turnaround_hours: float
    borrowed: int
    suspended: bool


# Bumped by refresh_stats: this process's cached statistics are read again at once. Other
# processes read them again when their copy is older than the context's ``stats_ttl``.
_generation = 0


def cached_stats(session: Session, ctx: Any = None) -> dict[str, _Stats]:
    """Return every member's lending statistics, read at most once per ``ctx.stats_ttl``.

    The statistics change only when the ``ill:stats`` job recounts them (every few minutes)
    or the alliance suspends a lender, so a rota need not read them for every request.
    """
    cache = getattr(ctx, "_stats", None) if ctx is not None else None
    now = time.monotonic()
    if cache and cache[0] == _generation and now - cache[1] < ctx.stats_ttl:
        return cache[2]
    stats = {
        s.member_code: _Stats(s.asked, s.filled, s.turnaround_hours, s.borrowed, s.suspended)
        for s in session.execute(
            select(
                IllLenderStats.member_code,
                IllLenderStats.asked,
                IllLenderStats.filled,
                IllLenderStats.turnaround_hours,
                IllLenderStats.borrowed,
                IllLenderStats.suspended,
            )
        )
    }
    if ctx is not None and ctx.stats_ttl > 0:
        ctx._stats = (_generation, now, stats)
    return stats


def _load_today(n: int):
    """Count, per member, the requests it was asked since ``since`` (``n`` members named)."""
    return (
        select(IllRotaEntry.member_code, func.count())
        .where(
            IllRotaEntry.member_code.in_([bindparam(f"m{i}") for i in range(n)]),
            IllRotaEntry.asked_at >= bindparam("since"),
        )
        .group_by(IllRotaEntry.member_code)
    )


def _load_in_cluster():
    """Count, per holder of the cluster, the requests it was asked since ``since``."""
    holders = (
        select(Record.member_code)
        .join(ClusterRecord, ClusterRecord.record_id == Record.id)
        .where(ClusterRecord.cluster_id == bindparam("cluster"), Record.status == "active")
    )
    return (
        select(IllRotaEntry.member_code, func.count())
        .where(IllRotaEntry.member_code.in_(holders), IllRotaEntry.asked_at >= bindparam("since"))
        .group_by(IllRotaEntry.member_code)
    )


def _holders_read(cluster_id: str) -> tuple:
    return ("holders", lambda: _HOLDERS, {"cluster": cluster_id})


def _load_read(cluster_id: str, since: dt.datetime) -> tuple:
    return ("load_in_cluster", _load_in_cluster, {"cluster": cluster_id, "since": since})


def cluster_reads(cluster_id: str, since: dt.datetime) -> list[tuple]:
    """Return the reads a rota of ``cluster_id`` needs: its holders, then their load since then.

    They do not depend on each other: :func:`ill.store.fetch_many` sends them together.
    """
    return [_holders_read(cluster_id), _load_read(cluster_id, since)]


def holdings_and_load(holder_rows, load_rows) -> tuple[list[Holding], dict[str, int]]:
    """Return the holdings and today's load from the rows of :func:`cluster_reads`."""
    return holdings_of_rows((code, h) for code, _title, h in holder_rows), dict(load_rows)


def rota_inputs(
    session: Session, cluster_id: str, since: dt.datetime
) -> tuple[list[Holding], dict[str, int]]:
    """Read the cluster's holdings and its holders' load since ``since`` (one round trip)."""
    holder_rows, load_rows = fetch_many(session, cluster_reads(cluster_id, since))
    return holdings_and_load(holder_rows, load_rows)


_HOLDERS = (
    select(Record.member_code, Record.normalised["title"], Record.normalised["holdings"])
    .join(ClusterRecord, ClusterRecord.record_id == Record.id)
    .where(ClusterRecord.cluster_id == bindparam("cluster"), Record.status == "active")
    .order_by(Record.id)
)


def lender_facts(
    session: Session,
    codes: Iterable[str],
    since: dt.datetime,
    ctx: Any = None,
    load: dict[str, int] | None = None,
) -> dict[str, LenderFacts]:
    """Return each member's lending statistics and the requests it was asked since ``since``.

    Today's load is counted afresh for every rota (daily capacities depend on it) unless the
    caller read it already (``load``); the statistics come from :func:`cached_stats`.
    """
    codes = list(codes)
    stats = cached_stats(session, ctx)
    if load is None and codes:
        params = {"since": since, **{f"m{i}": code for i, code in enumerate(codes)}}
        n = len(codes)
        load = dict(fetch(session, ("load_today", n), lambda: _load_today(n), params))
    facts = {}
    for code in codes:
        s = stats.get(code)
        facts[code] = LenderFacts(
            asked=s.asked if s else 0,
            filled=s.filled if s else 0,
            turnaround_hours=s.turnaround_hours if s else 0.0,
            borrowed=s.borrowed if s else 0,
            load_today=(load or {}).get(code, 0),
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
    global _generation
    _generation += 1
    return len(set(rows) | set(borrowed))
