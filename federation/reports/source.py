"""Facts from the record store and the raw usage events (what the roll-up step folds).

Holdings come from the active records of each cluster; usage events are read once for the
months asked and folded into monthly counts per district, library type and CLC class. Nothing
of a single request survives the fold: the facts hold counts and histograms only.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from federation import usage
from federation.alliance import Alliance
from federation.models import ClusterRecord, ReaderFeedback, Record, UsageEvent
from federation.reports import facts as f
from federation.reports.facts import (
    ALL_TYPES,
    District,
    Facts,
    Holdings,
    Library,
    Rollup,
    period_bounds,
)


def clc_class(number: str | None) -> str:
    """Return the CLC class a report counts by: the main class, and T's two-letter subclass."""
    number = (number or "").strip().upper()
    if not number or not number[0].isalpha():
        return f.NO_CLASS
    if number[0] == "T" and len(number) > 1 and number[1].isalpha():
        return number[:2]
    return number[0]


def districts_of(alliance: Alliance) -> list[District]:
    """Return the alliance's districts and counties: regions with people and no sub-regions."""
    parents = {r.parent for r in alliance.regions}
    return [
        District(r.code, r.name_zh, r.name_en, r.population, r.kind, r.division_code)
        for r in alliance.regions
        if r.code not in parents and r.population
    ]


def libraries_of(alliance: Alliance) -> list[Library]:
    """Return the alliance's member libraries as the report sees them."""
    return [
        Library(m.code, m.name_zh, m.name_en, m.type, m.region, m.latitude, m.longitude)
        for m in alliance.members
    ]


def km_between(a: Library, b: Library) -> float:
    """Return the great-circle distance between two libraries in km."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat, dlon = lat2 - lat1, math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


@dataclass
class Titles:
    """Each clustered title's holding libraries, and its CLC class for folding requests."""

    holders: dict[str, set[str]] = field(default_factory=dict)
    classes: dict[str, str] = field(default_factory=dict)  # cluster -> class of its first CLC


def load_holdings(session: Session, facts: Facts) -> Titles:
    """Count unique titles per district, type and class; return each title's holders."""
    where = {lib.code: lib for lib in facts.libraries}
    rows = session.execute(
        select(ClusterRecord.cluster_id, Record.member_code, Record.normalised)
        .join(Record, Record.id == ClusterRecord.record_id)
        .where(Record.status == "active")
    )
    titles = Titles(defaultdict(set))
    classes: dict[str, set[str]] = defaultdict(set)
    for cluster, member, normalised in rows:
        if member in where:
            titles.holders[cluster].add(member)
            for clc in _classes(normalised):
                titles.classes.setdefault(cluster, clc)
                # T's subclasses count for T as well: searches are limited by main class only
                classes[cluster].update({clc, clc[0]})
    _count_titles(facts.holdings, titles.holders, classes, where)
    return titles


def _classes(normalised: dict | None) -> Iterable[str]:
    for scheme, number in (normalised or {}).get("classifications", ()):
        if str(scheme).casefold() == "clc" and (clc := clc_class(number)):
            yield clc


def _count_titles(
    holdings: Holdings, holders: dict, classes: dict, where: dict[str, Library]
) -> None:
    for cluster, members in holders.items():
        districts = {where[m].district for m in members}
        keys = {(where[m].district, where[m].type) for m in members}
        keys |= {(d, ALL_TYPES) for d in districts}
        holdings.titles.update(keys)
        holdings.alliance_titles += 1
        for clc in classes.get(cluster, ()):
            holdings.alliance_class_titles[clc] += 1
            holdings.class_titles.update((d, clc) for d in districts)


SEARCH_KINDS = (usage.SEARCH, usage.SEARCH_ZERO)
ILL_KINDS = (usage.ILL_REQUESTED, usage.ILL_FILLED, usage.ILL_CANCELLED)


def fold_events(
    session: Session,
    facts: Facts,
    titles: Titles,
    tz: ZoneInfo,
    months: list[str],
    kinds: tuple[str, ...] = SEARCH_KINDS + ILL_KINDS,
) -> int:
    """Fold the usage events of ``months`` into the facts' roll-up; return how many were read."""
    if not months:
        return 0
    wanted = set(months)
    start, end = utc_bounds(months, tz)
    query = select(UsageEvent).where(
        UsageEvent.occurred_at >= start, UsageEvent.occurred_at < end, UsageEvent.kind.in_(kinds)
    )
    where = {lib.code: lib for lib in facts.libraries}
    district_codes = {d.code for d in facts.districts}
    count = 0
    for event in session.execute(query.execution_options(yield_per=5000)).scalars():
        month = _month(event.occurred_at, tz)
        if month in wanted:
            count += 1
            facts.simulated |= bool(event.simulated)
            _fold(facts.rollup, event, month, where, district_codes, titles)
    return count


def utc_bounds(months: list[str], tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Return the first instant of the first month and the end of the last, in UTC.

    In UTC because SQLite compares stored timestamps as text: a bound in another zone would
    shift the window by the zone's offset.
    """
    start, end = period_bounds(min(months), tz)[0], period_bounds(max(months), tz)[1]
    return start.astimezone(UTC), end.astimezone(UTC)


def _month(at: datetime, tz: ZoneInfo) -> str:
    if at.tzinfo is None:  # SQLite returns naive datetimes: storage is UTC
        at = at.replace(tzinfo=UTC)
    return at.astimezone(tz).strftime("%Y-%m")


def fold_search(
    rollup: Rollup, kind: str, month: str, home: Library | None, district: str, clc, n: int
) -> None:
    """Count searches (a search that finds nothing logs search_zero besides search)."""
    type_ = home.type if home else ""
    if kind == usage.SEARCH:  # by class: demand; the zero-result share needs totals only
        rollup.add(month, f.SEARCHES, district, type_, clc_class(clc), n)
    else:
        rollup.add(month, f.ZERO_SEARCHES, district, type_, n=n)


def _fold(rollup: Rollup, e: UsageEvent, month: str, where, district_codes, titles) -> None:
    home, partner = where.get(e.member_code or ""), where.get(e.partner_code or "")
    district = e.region_code if e.region_code in district_codes else home and home.district
    if not district:
        return
    n = e.quantity or 1
    if e.kind in SEARCH_KINDS:
        fold_search(rollup, e.kind, month, home, district, e.clc_class, n)
    elif home is None:
        return
    elif e.kind == usage.ILL_REQUESTED:  # once per request, when its first lender is asked
        _fold_request(rollup, e, month, home, where, titles)
    elif e.kind == usage.ILL_FILLED:
        _fold_filled(rollup, e, month, home, partner)
    elif e.kind == usage.ILL_CANCELLED:
        rollup.add(month, f.CANCELLED, home.district, home.type, n=n)
    # ill_unfilled is one lender's "no" (the rota moves on), not a request left unmet.


def _class_of(e, titles: Titles) -> str:
    """Return the event's CLC class, or else its title's (the broker does not log one)."""
    return clc_class(e.clc_class) or titles.classes.get(e.cluster_id or "", f.NO_CLASS)


def _fold_request(rollup: Rollup, e, month: str, home: Library, where, titles: Titles) -> None:
    n = e.quantity or 1
    rollup.add(month, f.REQUESTED, home.district, home.type, _class_of(e, titles), n)
    libs = [where[m] for m in titles.holders.get(e.cluster_id or "", ()) if m in where]
    if any(lib.district == home.district for lib in libs):
        rollup.add(month, f.REQUESTED_HELD_LOCALLY, home.district, home.type, n=n)
    others = [lib for lib in libs if lib.code != home.code]
    if others:
        km = min(km_between(home, lib) for lib in others)
        rollup.add_km(month, home.district, home.type, km, n)


def _fold_filled(rollup: Rollup, e, month: str, home: Library, partner) -> None:
    n = e.quantity or 1
    rollup.add(month, f.FILLED, home.district, home.type, n=n)
    if e.value is not None:  # hours from asking the lender that supplied to the supply
        rollup.add_hours(month, home.district, home.type, e.value, n)
    if partner is not None:
        rollup.add(month, f.LENT, partner.district, partner.type, n=n)
        if partner.type == "university" and home.type == "public":
            rollup.add(month, f.UNIVERSITY_TO_PUBLIC, home.district, home.type, n=n)


def load_feedback(session: Session, facts: Facts, start: datetime, end: datetime) -> None:
    """Count the reader feedback written between start and end, by category and district."""
    query = select(ReaderFeedback).where(
        ReaderFeedback.created_at >= start, ReaderFeedback.created_at < end
    )
    where = {lib.code: lib for lib in facts.libraries}
    # Counts only: a message may name its writer, and coordinators see aggregates.
    for row in session.execute(query).scalars():
        lib = where.get(row.member_code or "")
        district = row.region_code or (lib.district if lib else "")
        facts.feedback.by_category[row.category] += 1
        facts.feedback.by_district[district] += 1
