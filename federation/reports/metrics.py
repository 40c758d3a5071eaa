"""The service-gap metrics: each a small function of a :class:`Scope` (facts, months, type).

A metric returns ``{district code: value}``; ``None`` means "no data" (no requests, no
residents), which a report shows as such rather than as zero.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from statistics import median

from federation.reports import facts as f
from federation.reports.facts import ALL_TYPES, Facts

Values = dict[str, float | None]


@dataclass
class Scope:
    """Which part of the facts a report looks at: months and, optionally, one library type."""

    facts: Facts
    months: list[str]
    library_type: str | None = None
    _totals: Counter | None = field(default=None, repr=False)
    _by_class: Counter | None = field(default=None, repr=False)

    @property
    def districts(self) -> list[str]:
        """Return the district codes in the order of the alliance file."""
        return [d.code for d in self.facts.districts]

    def total(self, measure: str, district: str) -> int:
        """Return a measure's count for a district over the scope's months and type."""
        if self._totals is None:
            self._sum()
        return self._totals[(measure, district)]

    def by_class(self, measure: str, district: str | None = None) -> Counter:
        """Return a measure's counts per CLC class (one district, or the whole alliance)."""
        if self._by_class is None:
            self._sum()
        out: Counter = Counter()
        for (m, d, clc), n in self._by_class.items():
            if m == measure and (district is None or d == district) and clc:
                out[clc] += n
        return out

    def _sum(self) -> None:
        totals: Counter = Counter()
        by_class: Counter = Counter()
        by_month = self.facts.rollup.by_month()
        for month in self.months:
            for (_month, measure, district, type_, clc), n in by_month.get(month, ()):
                if self._type_ok(type_):
                    totals[(measure, district)] += n
                    if clc:
                        by_class[(measure, district, clc)] += n
        self._totals, self._by_class = totals, by_class

    def _type_ok(self, type_: str) -> bool:
        return self.library_type is None or type_ == self.library_type

    def histogram(self, which: str, district: str) -> Counter:
        """Merge a district's turnaround or distance histograms over the scope."""
        source = (
            self.facts.rollup.turnaround if which == "turnaround" else self.facts.rollup.distance
        )
        months = set(self.months)
        out: Counter = Counter()
        for (month, d, type_), hist in source.items():
            if d == district and month in months and self._type_ok(type_):
                out.update(hist)
        return out


def _ratio(top: float, bottom: float) -> float | None:
    return top / bottom if bottom else None


def _per_1000(scope: Scope, counts: dict[str, float]) -> Values:
    return {d.code: _ratio(1000 * counts[d.code], d.population) for d in scope.facts.districts}


def members(scope: Scope) -> Values:
    """Return the number of member libraries in each district (of the scope's type)."""
    count = Counter(
        lib.district
        for lib in scope.facts.libraries
        if scope.library_type is None or lib.type == scope.library_type
    )
    return {d: count[d] for d in scope.districts}


def titles_held(scope: Scope) -> Values:
    """Return the unique titles held by the district's libraries."""
    key = scope.library_type or ALL_TYPES
    return {d: scope.facts.holdings.titles[(d, key)] for d in scope.districts}


def titles_per_1000(scope: Scope) -> Values:
    """Return unique titles held per 1,000 residents."""
    return _per_1000(scope, titles_held(scope))


def held_locally_share(scope: Scope) -> Values:
    """Return the share of titles its libraries requested that a library of the district holds."""
    return {
        d: _ratio(scope.total(f.REQUESTED_HELD_LOCALLY, d), scope.total(f.REQUESTED, d))
        for d in scope.districts
    }


def requests_per_1000(scope: Scope) -> Values:
    """Return ILL requests originated per 1,000 residents."""
    return _per_1000(scope, {d: scope.total(f.REQUESTED, d) for d in scope.districts})


def fill_rate(scope: Scope) -> Values:
    """Return the share of requests originated that were filled."""
    return {
        d: _ratio(scope.total(f.FILLED, d), scope.total(f.REQUESTED, d)) for d in scope.districts
    }


def percentile(hist: Counter, q: float) -> float | None:
    """Return the ``q`` quantile (0..1, nearest rank) of a histogram {value: count}."""
    n = sum(hist.values())
    if not n:
        return None
    rank, seen = max(1, math.ceil(q * n)), 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return float(value)
    return float(max(hist))


def turnaround_median(scope: Scope) -> Values:
    """Return the median hours from request to supply of the district's filled requests."""
    return {d: percentile(scope.histogram("turnaround", d), 0.5) for d in scope.districts}


def turnaround_p90(scope: Scope) -> Values:
    """Return the 90th percentile of hours from request to supply."""
    return {d: percentile(scope.histogram("turnaround", d), 0.9) for d in scope.districts}


def unfilled(scope: Scope) -> Values:
    """Return requests not filled (nor cancelled): no lender could, or none has yet."""
    return {
        d: max(0, scope.total(f.REQUESTED, d) - scope.total(f.FILLED, d)
               - scope.total(f.CANCELLED, d))
        for d in scope.districts
    }  # fmt: skip


def zero_result_searches(scope: Scope) -> Values:
    """Return searches from the district that found nothing."""
    return {d: scope.total(f.ZERO_SEARCHES, d) for d in scope.districts}


def zero_result_share(scope: Scope) -> Values:
    """Return the share of the district's searches that found nothing."""
    return {
        d: _ratio(scope.total(f.ZERO_SEARCHES, d), scope.total(f.SEARCHES, d))
        for d in scope.districts
    }


def lent(scope: Scope) -> Values:
    """Return items the district's libraries supplied to others."""
    return {d: scope.total(f.LENT, d) for d in scope.districts}


def borrowed(scope: Scope) -> Values:
    """Return items the district's libraries received from others."""
    return {d: scope.total(f.FILLED, d) for d in scope.districts}


def lending_ratio(scope: Scope) -> Values:
    """Return items lent per item borrowed (above 1: a net lender)."""
    out, given = borrowed(scope), lent(scope)
    return {d: _ratio(given[d], out[d]) for d in scope.districts}


def nearest_holder_km(scope: Scope) -> Values:
    """Return the median distance (km) from the requesting library to the nearest holder."""
    return {d: percentile(scope.histogram("distance", d), 0.5) for d in scope.districts}


def university_to_public(scope: Scope) -> Values:
    """Return items university libraries supplied to the district's public libraries."""
    return {d: scope.total(f.UNIVERSITY_TO_PUBLIC, d) for d in scope.districts}


@dataclass(frozen=True)
class ClassGap:
    """Demand for one CLC main class in a district against the district's share of its titles."""

    clc: str
    demand: int  # searches and requests in the class
    demand_share: float  # of the district's demand that carries a class
    holding_share: float  # of the alliance's titles in the class held in the district
    collection_share: float  # of the district's own titles that are in the class

    @property
    def shortfall(self) -> float:
        """Return how far demand outruns the collection (positive: demand is larger)."""
        return self.demand_share - self.collection_share


def class_coverage(scope: Scope, district: str) -> list[ClassGap]:
    """Return the district's CLC classes by demand, with the share of titles it holds."""
    demand = scope.by_class(f.SEARCHES, district) + scope.by_class(f.REQUESTED, district)
    total = sum(demand.values())
    if not total:
        return []
    holdings = scope.facts.holdings
    own = holdings.titles[(district, ALL_TYPES)]
    gaps = [
        ClassGap(
            clc=clc,
            demand=n,
            demand_share=n / total,
            holding_share=_ratio(
                holdings.class_titles[(district, clc)], holdings.alliance_class_titles[clc]
            )
            or 0.0,
            collection_share=_ratio(holdings.class_titles[(district, clc)], own) or 0.0,
        )
        for clc, n in demand.items()
    ]
    return sorted(gaps, key=lambda g: (-g.demand, g.clc))


def worst_class(scope: Scope, district: str) -> ClassGap | None:
    """Return the class where demand outruns holdings the most (None if none does)."""
    gaps = [g for g in class_coverage(scope, district) if g.shortfall > 0]
    return max(gaps, key=lambda g: (g.shortfall, g.clc)) if gaps else None


def alliance_median(values: Iterable[float | None]) -> float | None:
    """Return the median over districts that have a value."""
    present = [v for v in values if v is not None]
    return median(present) if present else None
