"""What a service-gap report is computed from: districts, libraries, holdings and monthly roll-ups.

Every metric reads a :class:`Facts` and nothing else, so the numbers can come from the record
store and usage events (:mod:`federation.reports.source`), from the statistics roll-ups, or from
a hand-built alliance in a test. Roll-up keys carry districts, library types and CLC classes:
never a reader, never a single request.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

# Measures of the monthly roll-up (key: month, measure, district, library type, CLC class).
SEARCHES = "searches"  # district: where the reader searched from
ZERO_SEARCHES = "zero_searches"
REQUESTED = "requested"  # district/type: the borrowing library's
REQUESTED_HELD_LOCALLY = "requested_held_locally"  # a library of the borrower's district holds it
FILLED = "filled"
CANCELLED = "cancelled"  # withdrawn by the borrower: neither filled nor unmet
LENT = "lent"  # district/type: the lending library's
UNIVERSITY_TO_PUBLIC = "university_to_public"  # filled by a university for a public library
MEASURES = (
    SEARCHES,
    ZERO_SEARCHES,
    REQUESTED,
    REQUESTED_HELD_LOCALLY,
    FILLED,
    CANCELLED,
    LENT,
    UNIVERSITY_TO_PUBLIC,
)
ALL_TYPES = "*"  # the library-type key of a figure that covers every type
NO_CLASS = ""


@dataclass(frozen=True)
class District:
    """A district or county of the alliance, with the people living there."""

    code: str
    name_zh: str
    name_en: str
    population: int
    kind: str | None = None
    division_code: str | None = None

    def name(self, locale: str) -> str:
        """Return the name in the reader's language."""
        return self.name_en if locale.lower().startswith("en") else self.name_zh


@dataclass(frozen=True)
class Library:
    """A member library: its type, district and place."""

    code: str
    name_zh: str
    name_en: str
    type: str
    district: str
    latitude: float
    longitude: float


@dataclass
class Holdings:
    """Unique titles (clusters) held, by district and library type, and by CLC main class."""

    titles: Counter = field(default_factory=Counter)  # (district, type or ALL_TYPES) -> titles
    alliance_titles: int = 0
    class_titles: Counter = field(default_factory=Counter)  # (district, clc main class) -> titles
    alliance_class_titles: Counter = field(default_factory=Counter)  # clc main class -> titles


@dataclass
class Rollup:
    """Monthly counts and histograms; months are "YYYY-MM" in the alliance's time zone."""

    counts: Counter = field(default_factory=Counter)  # (month, measure, district, type, class)
    turnaround: dict = field(default_factory=dict)  # (month, district, type) -> Counter[hours]
    distance: dict = field(default_factory=dict)  # (month, district, type) -> Counter[km]
    _by_month: dict | None = field(default=None, repr=False, compare=False)

    def by_month(self) -> dict[str, list]:
        """Return the counts grouped by month (built once: a report sums months many times)."""
        if self._by_month is None:
            grouped: dict[str, list] = {}
            for item in self.counts.items():
                grouped.setdefault(item[0][0], []).append(item)
            self._by_month = grouped
        return self._by_month

    def add(
        self, month: str, measure: str, district: str, type_: str, clc: str = NO_CLASS, n: int = 1
    ) -> None:
        """Count ``n`` under one key."""
        self.counts[(month, measure, district, type_, clc or NO_CLASS)] += n
        self._by_month = None

    def add_hours(self, month: str, district: str, type_: str, hours: float, n: int = 1) -> None:
        """Add a turnaround (whole hours, rounded up) to the histogram."""
        bucket = self.turnaround.setdefault((month, district, type_), Counter())
        bucket[max(0, int(-(-hours // 1)))] += n

    def add_km(self, month: str, district: str, type_: str, km: float, n: int = 1) -> None:
        """Add a distance to the nearest holder (whole km, rounded) to the histogram."""
        bucket = self.distance.setdefault((month, district, type_), Counter())
        bucket[max(0, round(km))] += n

    def months(self) -> list[str]:
        """Return every month that has data, oldest first."""
        return sorted({key[0] for key in self.counts} | {key[0] for key in self.turnaround})


@dataclass
class Feedback:
    """Reader feedback of the period, counted by category and district (no messages kept)."""

    by_category: Counter = field(default_factory=Counter)
    by_district: Counter = field(default_factory=Counter)


@dataclass
class Facts:
    """Everything a report reads."""

    districts: list[District]
    libraries: list[Library]
    holdings: Holdings = field(default_factory=Holdings)
    rollup: Rollup = field(default_factory=Rollup)
    feedback: Feedback = field(default_factory=Feedback)
    simulated: bool = False  # some events were simulated (the demo): say so where shown

    def district(self, code: str) -> District:
        """Return the district with this code (KeyError if none)."""
        for district in self.districts:
            if district.code == code:
                return district
        raise KeyError(code)


class PeriodError(ValueError):
    """A period that is not a year, quarter or month; the message says how to write one."""


_PERIOD = re.compile(r"(\d{4})(?:-(?:Q([1-4])|(0[1-9]|1[0-2])))?\Z")


def period_months(period: str) -> list[str]:
    """Return the months of "2026", "2026-Q2" or "2026-03" as "YYYY-MM" strings."""
    match = _PERIOD.match(period.strip())
    if not match:
        raise PeriodError(
            f"{period!r} is not a period; write a year (2026), a quarter (2026-Q2) "
            "or a month (2026-03)"
        )
    year, quarter, month = match.groups()
    if month:
        return [f"{year}-{month}"]
    first, last = ((int(quarter) - 1) * 3 + 1, (int(quarter) - 1) * 3 + 3) if quarter else (1, 12)
    return [f"{year}-{m:02d}" for m in range(first, last + 1)]


def previous_period(period: str) -> str:
    """Return the period of the same length just before ``period``."""
    months = period_months(period)
    year = int(months[0][:4])
    if len(months) == 12:
        return str(year - 1)
    if len(months) == 3:
        quarter = (int(months[0][5:]) - 1) // 3 + 1
        return f"{year - 1}-Q4" if quarter == 1 else f"{year}-Q{quarter - 1}"
    month = int(months[0][5:])
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def period_bounds(period: str, tz) -> tuple:
    """Return the period's first instant and the instant after it, in the time zone ``tz``."""
    from datetime import datetime

    months = period_months(period)
    first_year, first_month = int(months[0][:4]), int(months[0][5:])
    last_year, last_month = int(months[-1][:4]), int(months[-1][5:])
    after = (last_year + 1, 1) if last_month == 12 else (last_year, last_month + 1)
    return datetime(first_year, first_month, 1, tzinfo=tz), datetime(*after, 1, tzinfo=tz)
