"""The alliance as read from its file: a tree of frozen dataclasses, plus a JSON-able view."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MEMBER_TYPES = ("university", "public", "research", "school", "community")
REGION_LEVELS = ("province", "city", "district", "county")
REGION_KINDS = ("urban", "rural", "mixed")
RECORD_FORMATS = ("marc21", "unimarc", "cnmarc", "dc")
LENDS = ("loans", "copies")
SIZE_MEASURES = ("population", "fte")
DEFAULT_TIME_ZONE = "Asia/Shanghai"
# Metrics a service-gap target may be set for (federation.reports.gaps.GAP_METRICS), and which
# of them are shares (0 to 1).
REPORT_METRICS = (
    "members",
    "titles_per_1000",
    "held_locally_share",
    "requests_per_1000",
    "fill_rate",
    "turnaround_median",
    "nearest_holder_km",
    "zero_result_share",
)
REPORT_SHARES = ("held_locally_share", "fill_rate", "zero_result_share")


def _pick(zh: str, en: str, locale: str) -> str:
    return en if locale.lower().startswith("en") else zh


@dataclass(frozen=True)
class Region:
    """An administrative area: province, city, district or county."""

    code: str
    name_zh: str
    name_en: str
    parent: str | None = None
    level: str | None = None  # province | city | district | county
    kind: str | None = None  # urban | rural | mixed; required for leaf regions
    population: int | None = None  # required for leaf regions
    division_code: str | None = None  # GB/T 2260 administrative division code

    def name(self, locale: str) -> str:
        """Return the name in the reader's language."""
        return _pick(self.name_zh, self.name_en, locale)


@dataclass(frozen=True)
class HoldingsField:
    """Where a member's records keep holdings: a tag and the subfield codes of each part."""

    tag: str
    library: str = ""
    location: str = ""
    call_number: str = ""  # "hi" joins $h and $i
    availability: str = ""
    item_count: str = ""
    per_item: bool = False  # one field per copy


@dataclass(frozen=True)
class OaiSource:
    """Where and how a member's catalogue is harvested."""

    base_url: str
    metadata_prefix: str
    record_format: str  # marc21 | unimarc | cnmarc | dc: which parser reads the records
    schedule: str  # crontab ("30 1 * * *", alliance time zone) or interval ("every 6h")
    sets: tuple[str, ...] = ()
    holdings: tuple[HoldingsField, ...] = ()  # empty: the parser's defaults for the format


@dataclass(frozen=True)
class TimeSpan:
    """One opening period of a day, local time; end is after start."""

    start: dt.time
    end: dt.time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class BusinessHours:
    """Opening periods for each weekday; an empty tuple means closed all day."""

    mon: tuple[TimeSpan, ...] = ()
    tue: tuple[TimeSpan, ...] = ()
    wed: tuple[TimeSpan, ...] = ()
    thu: tuple[TimeSpan, ...] = ()
    fri: tuple[TimeSpan, ...] = ()
    sat: tuple[TimeSpan, ...] = ()
    sun: tuple[TimeSpan, ...] = ()

    def on(self, weekday: int) -> tuple[TimeSpan, ...]:
        """Return the opening periods of a weekday (0 = Monday, as datetime.weekday())."""
        return getattr(self, WEEKDAYS[weekday])

    def is_open_at(self, local: dt.datetime) -> bool:
        """Tell whether a local wall-clock time falls inside an opening period."""
        now = local.time()
        return any(span.start <= now < span.end for span in self.on(local.weekday()))


@dataclass(frozen=True)
class ClosurePeriod:
    """Days (inclusive) on which a member handles no ILL work, e.g. Spring Festival."""

    start: dt.date
    end: dt.date
    reason: str | None = None


@dataclass(frozen=True)
class Fees:
    """Fees per filled request, in CNY."""

    loan: Decimal = Decimal("0.00")
    copy: Decimal = Decimal("0.00")
    currency: str = "CNY"


@dataclass(frozen=True)
class IllPolicy:
    """How a member lends: what, how long, at what fee, when staff answer and how fast."""

    lends: tuple[str, ...]  # subset of ("loans", "copies"); empty = borrows only
    business_hours: BusinessHours
    daily_capacity: int  # requests it will take per day
    response_hours: int  # deadline to answer a request, in business hours
    time_zone: str = DEFAULT_TIME_ZONE
    loan_days: int | None = None  # required when lends includes loans
    fees: Fees = field(default_factory=Fees)
    closures: tuple[ClosurePeriod, ...] = ()
    iso18626_endpoint: str | None = None  # its own ISO 18626 system, if it runs one

    @property
    def runs_own_iso18626(self) -> bool:
        return self.iso18626_endpoint is not None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_closed_on(self, day: dt.date) -> bool:
        """Tell whether a date falls in a closure period (weekly closed days not included)."""
        return any(c.start <= day <= c.end for c in self.closures)


@dataclass(frozen=True)
class Liaison:
    """The member's ILL liaison librarian; at least one of email and phone is set."""

    name: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Member:
    """A library of the alliance."""

    code: str
    name_zh: str
    name_en: str
    type: str  # university | public | research | school | community
    region: str  # code of a Region
    latitude: float
    longitude: float
    oai: OaiSource
    ill: IllPolicy
    liaison: Liaison
    fte: int | None = None  # full-time-equivalent students and staff (cost sharing by fte)

    def name(self, locale: str) -> str:
        """Return the name in the reader's language."""
        return _pick(self.name_zh, self.name_en, locale)


@dataclass(frozen=True)
class ShareWeights:
    """Weights of the variable part of the cost-sharing formula; they sum to 1."""

    alpha: float  # size (population served or FTE)
    beta: float  # records contributed to the union catalogue
    gamma: float  # usage of the platform (searches, record views, ILL requests)


@dataclass(frozen=True)
class IllFees:
    """ILL fees per filled loan / copy, by tier."""

    same_district: Fees = field(default_factory=Fees)
    reciprocal: Fees = field(default_factory=Fees)
    cross_district: Fees = field(default_factory=Fees)
    reciprocal_agreements: tuple[tuple[str, ...], ...] = ()  # groups of member codes

    def are_reciprocal(self, a: str, b: str) -> bool:
        """Tell whether two members share a reciprocal agreement."""
        return any(a in group and b in group for group in self.reciprocal_agreements)


@dataclass(frozen=True)
class CostSharing:
    """Parameters of the cost-sharing model (CNY per year unless stated)."""

    common_costs: Decimal  # C
    base_share: float  # b, in [0, 1]: the part of C split equally
    weights: ShareWeights
    size_measure: str  # population | fte
    averaging_years: int
    ill_fees: IllFees = field(default_factory=IllFees)
    net_lender_pool: Decimal = Decimal("0.00")
    pool_per_loan_part: float = 0.5  # of the pool, the part split per loan lent; rest: net lending
    district_subsidies: dict[str, Decimal] = field(default_factory=dict)  # region code -> CNY
    currency: str = "CNY"


@dataclass(frozen=True)
class LenderRanking:
    """Relative weights of the ILL rota's criteria; use normalised() to get them summing to 1."""

    distance: float = 0.35
    load: float = 0.2
    turnaround: float = 0.2
    fee: float = 0.15
    fairness: float = 0.1
    availability: float = 0.2  # a copy on the shelf rather than on loan

    def normalised(self) -> dict[str, float]:
        """Return the weights scaled to sum to 1."""
        raw = dataclasses.asdict(self)
        total = sum(raw.values())
        return {k: v / total for k, v in raw.items()}


@dataclass(frozen=True)
class ReportSettings:
    """How service-gap reports flag a district: a share of the alliance median, or targets."""

    gap_share: float = 0.6  # flag below 60% of the alliance median
    targets: dict[str, float] = field(default_factory=dict)  # metric id -> target value


@dataclass(frozen=True)
class Alliance:
    """A regional library alliance: its regions, members and shared parameters."""

    name_zh: str
    name_en: str
    regions: tuple[Region, ...]
    members: tuple[Member, ...]
    cost_sharing: CostSharing
    lender_ranking: LenderRanking = field(default_factory=LenderRanking)
    reports: ReportSettings = field(default_factory=ReportSettings)
    time_zone: str = DEFAULT_TIME_ZONE
    default_locale: str = "zh_CN"
    source: str = "<string>"

    def name(self, locale: str) -> str:
        """Return the name in the reader's language."""
        return _pick(self.name_zh, self.name_en, locale)

    def region(self, code: str) -> Region:
        """Return the region with this code (KeyError if none)."""
        for region in self.regions:
            if region.code == code:
                return region
        raise KeyError(code)

    def member(self, code: str) -> Member:
        """Return the member with this code (KeyError if none)."""
        for member in self.members:
            if member.code == code:
                return member
        raise KeyError(code)

    def children(self, code: str) -> tuple[Region, ...]:
        """Return the regions whose parent is this region."""
        return tuple(r for r in self.regions if r.parent == code)

    def members_in(self, code: str) -> tuple[Member, ...]:
        """Return the members located in this region or any region below it."""
        inside, frontier = {code}, [code]
        while frontier:
            below = self.children(frontier.pop())
            frontier += [r.code for r in below if r.code not in inside]
            inside.update(r.code for r in below)
        return tuple(m for m in self.members if m.region in inside)


def as_plain(value: Any) -> Any:
    """Return JSON-able data in the alliance file's own shape (money as strings)."""
    if isinstance(value, TimeSpan):
        return str(value)
    if isinstance(value, ClosurePeriod):
        return {
            "from": value.start.isoformat(),
            "to": value.end.isoformat(),
            "reason": value.reason,
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): as_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_plain(v) for v in value]
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value
