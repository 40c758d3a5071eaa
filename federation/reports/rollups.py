"""The report's roll-up table: build it, read it back, load a period's facts.

``refresh_rollups`` folds the ILL events of some months (and the titles-held snapshot) into
``report_rollups``, taking search counts from the statistics roll-up; ``load_facts`` reads the
months that are rolled up and folds raw events only for months that are not (so a report works
before any roll-up exists, just slower).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from federation.alliance import Alliance
from federation.models import ReportRollup, ReportRollupMonth, utcnow
from federation.reports.facts import ALL_TYPES, Facts, Holdings, Rollup
from federation.reports.source import (
    ILL_KINDS,
    districts_of,
    fold_events,
    libraries_of,
    load_feedback,
    load_holdings,
    utc_bounds,
)
from federation.reports.stats_source import searches_from_stats

HOLDINGS = "holdings"  # the month key of the titles-held snapshot
COUNT = -1  # the bucket of a plain count (histogram rows carry their hour or km)
TURNAROUND, DISTANCE = "turnaround", "distance"
_ALLIANCE = ""  # district key of alliance-wide holdings rows
BATCH = 5000


@dataclass(frozen=True)
class RefreshSummary:
    """What a roll-up refresh did."""

    months: list[str]
    events: int
    rows: int


def _row(month, measure, district, type_, clc, bucket, n) -> dict:
    return {"month": month, "measure": measure, "district": district, "library_type": type_,
            "clc": clc, "bucket": bucket, "count": n}  # fmt: skip


def rollup_rows(rollup: Rollup) -> list[dict]:
    """Return table rows of a roll-up: counts, then turnaround and distance histograms."""
    rows = [_row(*key[:5], COUNT, n) for key, n in rollup.counts.items() if n]
    for measure, source in ((TURNAROUND, rollup.turnaround), (DISTANCE, rollup.distance)):
        for (month, district, type_), hist in source.items():
            rows += [_row(month, measure, district, type_, "", b, n) for b, n in hist.items() if n]
    return rows


def holdings_rows(h: Holdings) -> list[dict]:
    """Return table rows of the titles-held snapshot."""
    rows = [_row(HOLDINGS, "titles", d, t, "", COUNT, n) for (d, t), n in h.titles.items()]
    rows += [_row(HOLDINGS, "class_titles", d, ALL_TYPES, c, COUNT, n)
             for (d, c), n in h.class_titles.items()]  # fmt: skip
    rows += [_row(HOLDINGS, "class_titles", _ALLIANCE, ALL_TYPES, c, COUNT, n)
             for c, n in h.alliance_class_titles.items()]  # fmt: skip
    rows.append(_row(HOLDINGS, "titles", _ALLIANCE, ALL_TYPES, "", COUNT, h.alliance_titles))
    return rows


def _apply(facts: Facts, row: tuple) -> None:
    month, measure, district, type_, clc, bucket, n = row
    if month == HOLDINGS:
        _apply_holdings(facts.holdings, measure, district, type_, clc, n)
    elif measure in (TURNAROUND, DISTANCE):
        source = facts.rollup.turnaround if measure == TURNAROUND else facts.rollup.distance
        source.setdefault((month, district, type_), Counter())[bucket] += n
    else:
        facts.rollup.counts[(month, measure, district, type_, clc)] += n


def _apply_holdings(h: Holdings, measure, district, type_, clc, n) -> None:
    if measure == "titles":
        if district == _ALLIANCE:
            h.alliance_titles = n
        else:
            h.titles[(district, type_)] = n
    elif district == _ALLIANCE:
        h.alliance_class_titles[clc] = n
    else:
        h.class_titles[(district, clc)] = n


def built_months(session: Session) -> dict[str, ReportRollupMonth]:
    """Return the months (and the holdings snapshot) whose roll-up is built."""
    return {row.month: row for row in session.scalars(select(ReportRollupMonth))}


def read_rollups(session: Session, facts: Facts, keys: list[str]) -> None:
    """Add the stored roll-up rows of ``keys`` (months, and "holdings") to the facts."""
    names = ("month", "measure", "district", "library_type", "clc", "bucket", "count")
    columns = [getattr(ReportRollup, name) for name in names]
    query = select(*columns).where(ReportRollup.month.in_(keys))
    # One string object per distinct code: the metrics compare keys millions of times, and
    # equal strings that are the same object compare at once.
    same: dict[str, str] = {}
    for row in session.execute(query.execution_options(yield_per=BATCH)):
        _apply(facts, tuple(same.setdefault(v, v) if isinstance(v, str) else v for v in row))
    facts.rollup._by_month = None  # counts were added directly


def load_facts(session: Session, alliance: Alliance, months: list[str]) -> Facts:
    """Return the facts of ``months``: from the roll-up where built, else from raw events."""
    facts = Facts(districts_of(alliance), libraries_of(alliance))
    built = built_months(session)
    stored = [m for m in months if m in built]
    raw = [m for m in months if m not in built]
    keys = stored + ([HOLDINGS] if HOLDINGS in built and not raw else [])
    read_rollups(session, facts, keys)
    if HOLDINGS not in keys:  # no snapshot, or raw events need each title's holders
        facts.holdings = Holdings()
        titles = load_holdings(session, facts)
        fold_events(session, facts, titles, ZoneInfo(alliance.time_zone), raw)
    facts.simulated |= any(built[m].simulated for m in stored)
    if months:
        load_feedback(session, facts, *utc_bounds(months, ZoneInfo(alliance.time_zone)))
    return facts


def refresh_rollups(session: Session, alliance: Alliance, months: list[str]) -> RefreshSummary:
    """Rebuild the roll-up of ``months`` and the titles-held snapshot from the store."""
    facts = Facts(districts_of(alliance), libraries_of(alliance))
    titles = load_holdings(session, facts)
    tz = alliance.time_zone
    events = fold_events(session, facts, titles, ZoneInfo(tz), months, kinds=ILL_KINDS)
    events += searches_from_stats(session, facts, months, tz)
    keys = [*months, HOLDINGS]
    session.execute(delete(ReportRollup).where(ReportRollup.month.in_(keys)))
    session.execute(delete(ReportRollupMonth).where(ReportRollupMonth.month.in_(keys)))
    rows = rollup_rows(facts.rollup) + holdings_rows(facts.holdings)
    for i in range(0, len(rows), BATCH):
        session.execute(insert(ReportRollup), rows[i : i + BATCH])
    now = utcnow()
    for month in keys:
        n = sum(v for k, v in facts.rollup.counts.items() if k[0] == month)
        session.add(ReportRollupMonth(month=month, events=n, simulated=facts.simulated,
                                      built_at=now))  # fmt: skip
    return RefreshSummary(months, events, len(rows))
