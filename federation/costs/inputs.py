"""Gather a period's inputs for the cost-sharing formula from the roll-ups and the event log."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

from sqlalchemy import text
from sqlalchemy.orm import Session

from federation import usage as u
from federation.alliance.model import Alliance, CostSharing
from federation.costs.formula import IllFlow, Inputs, MemberBasis
from federation.costs.periods import Period
from federation.stats.rollup import high_water_mark, month_expression, utc_offset_minutes

USAGE_KINDS = (u.SEARCH, u.RECORD_VIEW, u.ILL_REQUESTED)  # what "Usage_i" counts


def _sizes(alliance: Alliance, model: CostSharing) -> dict[str, Fraction]:
    """Return each member's size: its FTE, or its district's population split among its members."""
    if model.size_measure == "fte":
        return {m.code: Fraction(m.fte or 0) for m in alliance.members}
    count: dict[str, int] = defaultdict(int)
    for member in alliance.members:
        count[member.region] += 1
    return {
        m.code: Fraction(alliance.region(m.region).population or 0, count[m.region])
        for m in alliance.members
    }


def _sim(include_simulated: bool, column: str = "simulated") -> str:
    return "" if include_simulated else f" AND {column} = false"


def _window_totals(session: Session, first: str, last: str, include_simulated: bool) -> dict:
    kinds = (u.RECORDS_CONTRIBUTED, *USAGE_KINDS)
    rows = session.execute(
        text(
            "SELECT member_code, kind, SUM(quantity) FROM usage_rollups "  # noqa: S608
            "WHERE month >= :first AND month <= :last AND kind IN :kinds"
            f"{_sim(include_simulated)} GROUP BY member_code, kind"
        ).bindparams(_expanding("kinds")),
        {"first": first, "last": last, "kinds": list(kinds)},
    ).all()
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for code, kind, quantity in rows:
        totals[code][kind] += int(quantity or 0)
    return totals


def _expanding(name: str):
    from sqlalchemy import bindparam

    return bindparam(name, expanding=True)


def _counted_events(
    session: Session,
    alliance: Alliance,
    kinds: tuple[str, ...],
    first: str,
    last: str,
    include_simulated: bool,
) -> list:
    """Return (kind, member, partner, ref, quantity) of events counted in the months given."""
    month = month_expression(
        session.get_bind().dialect.name, utc_offset_minutes(alliance.time_zone), "e.occurred_at"
    )
    return session.execute(
        text(
            "SELECT e.kind, e.member_code, e.partner_code, e.ref, e.quantity, e.id "  # noqa: S608
            "FROM usage_events e LEFT JOIN stats_late_events l ON l.event_id = e.id "
            f"WHERE e.kind IN :kinds AND e.id <= :hwm{_sim(include_simulated, 'e.simulated')} "
            f"AND COALESCE(l.counted_month, {month}) >= :first "
            f"AND COALESCE(l.counted_month, {month}) <= :last ORDER BY e.id"
        ).bindparams(_expanding("kinds")),
        {"kinds": list(kinds), "hwm": high_water_mark(session), "first": first, "last": last},
    ).all()


def ill_flows(session: Session, alliance: Alliance, period: Period, include_simulated: bool):
    """Return the period's filled loans and delivered copies per borrower, lender and kind."""
    events = _counted_events(
        session,
        alliance,
        (u.ILL_FILLED, u.COPY_DELIVERED),
        period.first,
        period.last,
        include_simulated,
    )
    # A request filled by a copy may log ill_filled too: the copy is charged, not a loan.
    copies = {ref for kind, _, _, ref, _, _ in events if kind == u.COPY_DELIVERED and ref}
    counts: dict[tuple, int] = defaultdict(int)
    refs: dict[tuple, list[str]] = defaultdict(list)
    for kind, borrower, lender, ref, quantity, event_id in events:
        if not borrower or not lender or (kind == u.ILL_FILLED and ref in copies):
            continue
        key = (borrower, lender, "copy" if kind == u.COPY_DELIVERED else "loan")
        counts[key] += int(quantity or 1)
        refs[key].append(ref or f"usage_event:{event_id}")
    return tuple(IllFlow(*key, counts[key], tuple(dict.fromkeys(refs[key]))) for key in counts)


def _record_refs(session, alliance, first, last, include_simulated) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for _, member, _, ref, _, _ in _counted_events(
        session, alliance, (u.RECORDS_CONTRIBUTED,), first, last, include_simulated
    ):
        if member and ref and ref not in found[member]:
            found[member].append(ref)
    return found


def gather_inputs(
    session: Session,
    alliance: Alliance,
    model: CostSharing,
    period: Period,
    include_simulated: bool = False,
) -> Inputs:
    """Return the members' size, records, usage and the ILL flows of ``period``."""
    first, last = period.window(model.averaging_years)
    totals = _window_totals(session, first, last, include_simulated)
    record_refs = _record_refs(session, alliance, first, last, include_simulated)
    sizes = _sizes(alliance, model)
    members = tuple(
        MemberBasis(
            m.code,
            m.region,
            sizes[m.code],
            records=totals[m.code][u.RECORDS_CONTRIBUTED],
            usage=sum(totals[m.code][k] for k in USAGE_KINDS),
            refs=tuple(record_refs[m.code]),
        )
        for m in alliance.members
    )
    region_members = {
        code: tuple(m.code for m in alliance.members_in(code)) for code in model.district_subsidies
    }
    flows = ill_flows(session, alliance, period, include_simulated)
    known = {m.code for m in alliance.members}
    flows = tuple(f for f in flows if f.borrower in known and f.lender in known)
    return Inputs(period, members, flows, region_members)
