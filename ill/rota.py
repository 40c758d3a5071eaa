"""The rota: which members may lend an item, and in what order, with every reason kept.

Candidates are the members holding the cluster (every member lending copies, for a citation
outside the catalogue). Hard filters drop a candidate with a reason a person can read; the
rest are ranked by a weighted score whose terms (each between 0 and 1) and weights (the
alliance file's ``lender_ranking``) are all kept, so staff can see why a lender came first.
Equal scores are ordered by a random number drawn from the request's own seed: no member is
favoured by its name.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from federation.alliance import IllPolicy, Member
from ill.hours import business_deadline, closure_on

# Smoothing: a member with few requests is taken to be like an average lender.
PRIOR_FILL_RATE, PRIOR_FILL_WEIGHT = 0.8, 5.0
PRIOR_TURNAROUND_HOURS, PRIOR_TURNAROUND_WEIGHT = 24.0, 5.0
PRIOR_BALANCE, PRIOR_BALANCE_WEIGHT = 0.5, 10.0
DISTANCE_SCALE_KM = 10.0  # a lender this far away scores 0.5 on distance
TERMS = ("availability", "distance", "load", "turnaround", "fairness", "fee")

# Availability as catalogues write it (folded to lower case).
AVAILABLE = frozenset({"available", "on shelf", "in", "checked in", "在架", "可借", "在馆"})
ON_LOAN = frozenset({"on loan", "checked out", "due", "借出", "已借出", "外借"})
USE_ONLY = frozenset(
    {"in library use only", "library use only", "reference", "馆内阅览", "仅限馆内阅览", "阅览"}
)


@dataclass(frozen=True)
class Holding:
    """What one member holds of the cluster: copies by availability."""

    member_code: str
    available: int = 0
    on_loan: int = 0
    use_only: int = 0
    unknown: int = 0

    @property
    def loanable(self) -> bool:
        return bool(self.available or self.on_loan or self.unknown)


@dataclass(frozen=True)
class LenderFacts:
    """A candidate's record as a lender: statistics and today's load."""

    asked: int = 0
    filled: int = 0
    turnaround_hours: float = 0.0  # sum over filled requests
    borrowed: int = 0
    load_today: int = 0
    suspended: bool = False


@dataclass(frozen=True)
class Wanted:
    """What the rota needs to know about the request."""

    borrower: str
    service_type: str  # Loan | Copy | CopyOrLoan
    service_level: str
    needed_by: dt.date | None
    max_cost: float | None
    seed: int


@dataclass
class RotaLine:
    """One candidate: its filter reason or its rank, score and the terms behind it."""

    member_code: str
    filter_reason: str | None = None
    score: float = 0.0
    terms: dict[str, dict] = field(default_factory=dict)
    tie_break: float = 0.0
    rank: int | None = None
    deadline: dt.datetime | None = None


def classify(availability: str | None) -> str:
    """Return available, on_loan, use_only or unknown for a catalogue's availability text."""
    text = (availability or "").strip(" .;").lower()
    if text in AVAILABLE:
        return "available"
    if text in ON_LOAN:
        return "on_loan"
    if text in USE_ONLY:
        return "use_only"
    return "unknown"


def distance_km(a: Member, b: Member) -> float:
    """Return the great-circle distance between two members, in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(h)))


def _fee(policy: IllPolicy, service_type: str) -> float:
    if service_type == "Copy":
        return float(policy.fees.copy)
    if service_type == "Loan":
        return float(policy.fees.loan)
    return float(min(policy.fees.copy, policy.fees.loan))


def _lends(policy: IllPolicy, service_type: str) -> bool:
    kinds = {"Loan": {"loans"}, "Copy": {"copies"}}.get(service_type, {"loans", "copies"})
    return bool(kinds & set(policy.lends))


class Ranker:
    """Rank the candidate lenders of one request at one moment."""

    def __init__(
        self,
        members: Mapping[str, Member],
        weights: Mapping[str, float],
        response_hours,  # (service_level, policy) -> business hours to answer
    ) -> None:
        self.members = members
        total = sum(weights.values()) or 1.0
        self.weights = {t: weights.get(t, 0.0) / total for t in TERMS}
        self.response_hours = response_hours

    def rank(
        self,
        wanted: Wanted,
        holdings: Iterable[Holding],
        facts: Mapping[str, LenderFacts],
        now: dt.datetime,
    ) -> list[RotaLine]:
        """Return the ranked lines first (rank 1 = asked first), then the filtered ones."""
        lines = []
        for holding in sorted(holdings, key=lambda h: h.member_code):
            line = RotaLine(holding.member_code)
            line.filter_reason = self._filter(
                wanted, holding, facts.get(line.member_code), now, line
            )
            lines.append(line)
        eligible = [line for line in lines if line.filter_reason is None]
        self._score(wanted, eligible, {h.member_code: h for h in holdings}, facts)
        rng = random.Random(wanted.seed)
        for line in eligible:
            line.tie_break = rng.random()
        eligible.sort(key=lambda line: (-round(line.score, 9), line.tie_break))
        for position, line in enumerate(eligible, start=1):
            line.rank = position
        return eligible + [line for line in lines if line.filter_reason is not None]

    def _filter(
        self, wanted: Wanted, holding: Holding, facts: LenderFacts | None, now, line: RotaLine
    ) -> str | None:
        """Return why a candidate cannot be asked, or None; sets its response deadline."""
        member = self.members.get(holding.member_code)
        facts = facts or LenderFacts()
        if holding.member_code == wanted.borrower:
            return "is the borrowing library (its own copy is offered as local supply)"
        if member is None:
            return "not a member of the alliance any more"
        policy = member.ill
        if facts.suspended:
            return "suspended from lending by the alliance"
        if not _lends(policy, wanted.service_type):
            lends = ", ".join(policy.lends) or "nothing"
            return f"does not lend for a {wanted.service_type} request (lends: {lends})"
        if wanted.service_type == "Loan" and not holding.loanable:
            return "its copies are for use in the library only"
        if facts.load_today >= policy.daily_capacity:
            return f"daily capacity reached ({facts.load_today} of {policy.daily_capacity} today)"
        fee = _fee(policy, wanted.service_type)
        if wanted.max_cost is not None and fee > wanted.max_cost:
            return f"fee {fee:.2f} is above the maximum cost {wanted.max_cost:.2f}"
        return self._deadline_reason(wanted, policy, now, line)

    def _deadline_reason(
        self, wanted: Wanted, policy: IllPolicy, now, line: RotaLine
    ) -> str | None:
        hours = self.response_hours(wanted.service_level, policy)
        line.deadline = business_deadline(policy, now, hours)
        if line.deadline is None:
            return "has no opening hours for ILL work"
        if wanted.needed_by is not None:
            local_day = line.deadline.astimezone(policy.tz).date()
            if local_day > wanted.needed_by:
                closed = closure_on(policy, now.astimezone(policy.tz).date())
                why = f" ({closed})" if closed else ""
                return (
                    f"cannot answer before the needed-by date {wanted.needed_by.isoformat()}: "
                    f"its {hours:g} business hours end on {local_day.isoformat()}{why}"
                )
        return None

    def _score(
        self,
        wanted: Wanted,
        lines: list[RotaLine],
        holdings: Mapping[str, Holding],
        facts: Mapping[str, LenderFacts],
    ) -> None:
        borrower = self.members.get(wanted.borrower)
        fees = {
            line.member_code: _fee(self.members[line.member_code].ill, wanted.service_type)
            for line in lines
        }
        top_fee = max(fees.values(), default=0.0)
        for line in lines:
            member = self.members[line.member_code]
            f = facts.get(line.member_code) or LenderFacts()
            values = {
                "availability": _availability(holdings[line.member_code]),
                "distance": _distance(borrower, member),
                "load": _load(f, member.ill),
                "turnaround": _turnaround(f),
                "fairness": _fairness(f),
                "fee": _fee_term(fees[line.member_code], top_fee),
            }
            line.terms = {
                term: {
                    "value": round(value, 4),
                    "weight": round(self.weights[term], 4),
                    "points": round(value * self.weights[term], 4),
                    "why": why,
                }
                for term, (value, why) in values.items()
            }
            line.score = sum(value * self.weights[t] for t, (value, _why) in values.items())


def _availability(h: Holding) -> tuple[float, str]:
    if h.available:
        return 1.0, f"{h.available} copy(ies) on the shelf"
    if h.unknown:
        return 0.6, "holds copies; availability not stated"
    if h.on_loan:
        return 0.3, f"all {h.on_loan} copy(ies) on loan"
    if h.use_only:
        return 0.2, "copies for use in the library only (copies can be made)"
    return 0.5, "holding not detailed"


def _distance(borrower: Member | None, lender: Member) -> tuple[float, str]:
    if borrower is None:
        return 0.5, "borrower's location unknown"
    km = distance_km(borrower, lender)
    if borrower.region == lender.region:
        return 1.0, f"same district, {km:.1f} km"
    return 1.0 / (1.0 + km / DISTANCE_SCALE_KM), f"other district, {km:.1f} km"


def _load(f: LenderFacts, policy: IllPolicy) -> tuple[float, str]:
    capacity = max(policy.daily_capacity, 1)
    return 1.0 - min(f.load_today / capacity, 1.0), f"{f.load_today} of {capacity} today"


def _turnaround(f: LenderFacts) -> tuple[float, str]:
    fill = (f.filled + PRIOR_FILL_RATE * PRIOR_FILL_WEIGHT) / (f.asked + PRIOR_FILL_WEIGHT)
    hours = (f.turnaround_hours + PRIOR_TURNAROUND_HOURS * PRIOR_TURNAROUND_WEIGHT) / (
        f.filled + PRIOR_TURNAROUND_WEIGHT
    )
    speed = 1.0 / (1.0 + hours / PRIOR_TURNAROUND_HOURS)
    why = f"filled {f.filled} of {f.asked} asked; {hours:.0f} h to supply (smoothed)"
    return 0.5 * fill + 0.5 * speed, why


def _fairness(f: LenderFacts) -> tuple[float, str]:
    value = (f.borrowed + PRIOR_BALANCE * PRIOR_BALANCE_WEIGHT) / (
        f.borrowed + f.filled + PRIOR_BALANCE_WEIGHT
    )
    return value, f"borrowed {f.borrowed}, lent {f.filled}"


def _fee_term(fee: float, top_fee: float) -> tuple[float, str]:
    if top_fee <= 0:
        return 1.0, "no fee"
    return 1.0 - fee / top_fee, f"fee {fee:.2f}"
