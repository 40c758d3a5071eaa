"""Searches from the statistics roll-up (``usage_rollups``), where it fits the report.

Search counts need nothing but month, kind, home library, region and CLC class, which the
statistics roll-up keeps: the report takes them from there instead of re-reading the raw
search events (most of all events). ILL events still come raw, because the report needs each
request's title (to find its holders, their distance and its class) and the turnaround
distribution, which a sum cannot give.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from federation.reports.facts import Facts
from federation.reports.source import SEARCH_KINDS, fold_search


def searches_from_stats(session: Session, facts: Facts, months: list[str], time_zone: str) -> int:
    """Bring the statistics roll-up up to date and add its search counts; return the count."""
    from federation.stats.models import UsageRollup
    from federation.stats.rollup import rollup, utc_offset_minutes

    rollup(session, offset_minutes=utc_offset_minutes(time_zone))
    r = UsageRollup
    query = (
        select(r.month, r.kind, r.member_code, r.region_code, r.clc, func.sum(r.quantity))
        .where(r.month.in_(months), r.kind.in_(SEARCH_KINDS))
        .group_by(r.month, r.kind, r.member_code, r.region_code, r.clc)
    )
    where = {lib.code: lib for lib in facts.libraries}
    districts = {d.code for d in facts.districts}
    total = 0
    for month, kind, member, region, clc, n in session.execute(query):
        home = where.get(member)
        district = region if region in districts else home and home.district
        if district and n:
            fold_search(facts.rollup, kind, month, home, district, clc, int(n))
            total += int(n)
    return total
