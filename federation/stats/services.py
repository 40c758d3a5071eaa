"""Read the roll-ups: figures per member, district, library type and month; the direct check."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from statistics import median

from sqlalchemy import text
from sqlalchemy.orm import Session

from federation import usage as u
from federation.stats.rollup import high_water_mark, month_expression

# Each measure: (usage kind, the side it counts for). "member" is the event's member_code
# (the reader's library, the borrower, the contributor), "partner" the lender.
MEASURES: dict[str, tuple[str, str]] = {
    "searches": (u.SEARCH, "member"),
    "zero_result_searches": (u.SEARCH_ZERO, "member"),
    "record_views": (u.RECORD_VIEW, "member"),
    "holdings_views": (u.HOLDINGS_VIEW, "member"),
    "ill_requested": (u.ILL_REQUESTED, "member"),
    "ill_borrowed": (u.ILL_FILLED, "member"),
    "ill_lent": (u.ILL_FILLED, "partner"),
    "ill_unfilled": (u.ILL_UNFILLED, "partner"),
    "ill_cancelled": (u.ILL_CANCELLED, "member"),
    "copies_received": (u.COPY_DELIVERED, "member"),
    "copies_supplied": (u.COPY_DELIVERED, "partner"),
    "ill_completed": (u.ILL_COMPLETED, "member"),
    "records_contributed": (u.RECORDS_CONTRIBUTED, "member"),
}
# Averages of the events' values: (kind, side), shown in hours.
AVERAGES: dict[str, tuple[str, str]] = {
    "supply_hours": (u.ILL_FILLED, "partner"),
    "turnaround_hours": (u.ILL_COMPLETED, "member"),
}
DIMENSIONS = ("member", "district", "type", "month")


@dataclass(frozen=True)
class Months:
    """An inclusive range of months, 'YYYY-MM' to 'YYYY-MM'; None means open-ended."""

    first: str | None = None
    last: str | None = None

    def where(self) -> tuple[str, dict]:
        clauses, params = ["true"], {}
        if self.first:
            clauses.append("month >= :first")
            params["first"] = self.first
        if self.last:
            clauses.append("month <= :last")
            params["last"] = self.last
        return " AND ".join(clauses), params


def _rows(session: Session, months: Months, simulated: bool | None):
    where, params = months.where()
    if simulated is not None:
        where += " AND simulated = :sim"
        params["sim"] = simulated
    return session.execute(
        text(
            "SELECT month, kind, member_code, partner_code, SUM(quantity), SUM(value_sum), "  # noqa: S608
            f"SUM(value_count) FROM usage_rollups WHERE {where} "
            "GROUP BY month, kind, member_code, partner_code"
        ),
        params,
    ).all()


def member_attributes(session: Session) -> dict[str, tuple[str, str]]:
    """Return each member's (district region code, library type) from the members table."""
    rows = session.execute(text("SELECT code, region_code, type FROM members")).all()
    return {code: (region, kind) for code, region, kind in rows}


def _group_key(dimension: str, code: str, month: str, attributes: dict) -> str:
    if dimension == "month":
        return month
    if dimension == "member":
        return code
    district, kind = attributes.get(code, ("", ""))
    return district if dimension == "district" else kind


def figures(
    session: Session,
    dimension: str = "member",
    months: Months | None = None,
    simulated: bool | None = None,
) -> dict[str, dict[str, float]]:
    """Return every measure per member, district, library type or month, from the roll-ups."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}; use one of {', '.join(DIMENSIONS)}")
    attributes = member_attributes(session)
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    wanted = {**MEASURES, **AVERAGES}
    rows = _rows(session, months or Months(), simulated)
    for month, kind, member, partner, qty, vsum, vcount in rows:
        for name, (want_kind, side) in wanted.items():
            if kind != want_kind:
                continue
            code = member if side == "member" else partner
            if dimension != "month" and not code:
                continue
            key = _group_key(dimension, code, month, attributes)
            if name in AVERAGES:
                sums[key][name + ":sum"] += float(vsum or 0)
                sums[key][name + ":n"] += int(vcount or 0)
            else:
                sums[key][name] += int(qty or 0)
    return {key: _finish(values) for key, values in sums.items()}


def _finish(values: dict[str, float]) -> dict[str, float]:
    out: dict = {name: int(values.get(name, 0)) for name in MEASURES}
    for name in AVERAGES:
        n = values.get(name + ":n", 0)
        out[name] = round(values.get(name + ":sum", 0) / n, 1) if n else None
    return out


def monthly_trend(
    session: Session, member_code: str, measure: str, months: Months | None = None
) -> list[tuple[str, float]]:
    """Return (month, value) of one member's measure, month by month."""
    kind, side = MEASURES[measure]
    column = "member_code" if side == "member" else "partner_code"
    where, params = (months or Months()).where()
    rows = session.execute(
        text(
            f"SELECT month, SUM(quantity) FROM usage_rollups WHERE {where} AND kind = :kind "  # noqa: S608
            f"AND {column} = :code GROUP BY month ORDER BY month"
        ),
        {**params, "kind": kind, "code": member_code},
    ).all()
    return [(month, int(total)) for month, total in rows]


def alliance_medians(per_member: dict[str, dict[str, float]], codes: list[str]) -> dict:
    """Return the median of every measure over the given members (absent members count 0)."""
    out = {}
    for name in list(MEASURES) + list(AVERAGES):
        values = [per_member.get(code, {}).get(name) for code in codes]
        values = [0 if v is None and name in MEASURES else v for v in values]
        present = [v for v in values if v is not None]
        out[name] = median(present) if present else None
    return out


def late_events(session: Session, month: str) -> list[tuple[int, str, str | None, str | None]]:
    """Return (event id, occurred month, kind, ref) of late events counted in ``month``."""
    return [
        tuple(row)
        for row in session.execute(
            text(
                "SELECT l.event_id, l.occurred_month, e.kind, e.ref FROM stats_late_events l "
                "JOIN usage_events e ON e.id = l.event_id WHERE l.counted_month = :m "
                "ORDER BY l.event_id"
            ),
            {"m": month},
        ).all()
    ]


def check_rollups(session: Session, *, offset_minutes: int = 480) -> list[str]:
    """Count usage_events directly and return every difference from the roll-ups (none: OK)."""
    hwm = high_water_mark(session)
    month = month_expression(session.get_bind().dialect.name, offset_minutes, "e.occurred_at")
    direct = session.execute(
        text(
            f"SELECT COALESCE(l.counted_month, {month}) AS m, e.kind, "  # noqa: S608
            "COALESCE(e.member_code, ''), COALESCE(e.partner_code, ''), COUNT(*), "
            "SUM(e.quantity) FROM usage_events e "
            "LEFT JOIN stats_late_events l ON l.event_id = e.id WHERE e.id <= :hwm "
            f"GROUP BY COALESCE(l.counted_month, {month}), e.kind, "
            "COALESCE(e.member_code, ''), COALESCE(e.partner_code, '')"
        ),
        {"hwm": hwm},
    ).all()
    rolled = session.execute(
        text(
            "SELECT month, kind, member_code, partner_code, SUM(events), SUM(quantity) "
            "FROM usage_rollups GROUP BY month, kind, member_code, partner_code"
        )
    ).all()
    want = {tuple(r[:4]): (int(r[4]), int(r[5])) for r in direct}
    have = {tuple(r[:4]): (int(r[4]), int(r[5])) for r in rolled}
    return [
        f"{'/'.join(k) or '-'}: direct {want.get(k, (0, 0))}, rolled up {have.get(k, (0, 0))}"
        for k in sorted(set(want) | set(have))
        if want.get(k, (0, 0)) != have.get(k, (0, 0))
    ]


def monthly_by_member(session: Session, measure: str, months: Months) -> dict[str, dict[str, int]]:
    """Return {month: {member: value}} of one measure, for medians month by month."""
    kind, side = MEASURES[measure]
    column = "member_code" if side == "member" else "partner_code"
    where, params = months.where()
    rows = session.execute(
        text(
            f"SELECT month, {column}, SUM(quantity) FROM usage_rollups "  # noqa: S608
            f"WHERE {where} AND kind = :kind GROUP BY month, {column}"
        ),
        {**params, "kind": kind},
    ).all()
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for month, code, total in rows:
        out[month][code] = int(total or 0)
    return dict(out)


def simulated_events(session: Session, months: Months) -> int:
    """Return how many simulated (demo) events the figures of ``months`` include."""
    where, params = months.where()
    found = session.execute(
        text(f"SELECT SUM(events) FROM usage_rollups WHERE {where} AND simulated = true"),  # noqa: S608
        params,
    ).scalar()
    return int(found or 0)
