"""The cost-sharing model as arithmetic: shares, ILL fees by tier, the net-lender pool, subsidies.

Pure functions on plain inputs (no database): every amount is computed with exact fractions and
rounded to the cent once, by largest remainder, so the parts always add up to their total.

    Share_i = C·[b/N + (1−b)·(α·Size_i/ΣSize + β·Records_i/ΣRecords + γ·Usage_i/ΣUsage)]

A line moves money from a payer to a payee; the alliance's common fund (``@alliance``) and the
government's budget (``@government``) are parties like the members, so the net amounts of all
parties of a period add up to zero.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from federation.alliance.model import CostSharing, Fees
from federation.costs.periods import Period

ALLIANCE = "@alliance"
GOVERNMENT = "@government"
FORMULA = "Share_i = C·[b/N + (1−b)·(α·Size_i/ΣSize + β·Records_i/ΣRecords + γ·Usage_i/ΣUsage)]"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class MemberBasis:
    """What one member brings to the share formula in a period."""

    code: str
    region: str  # its district (leaf region)
    size: Fraction  # population served or FTE
    records: int  # records contributed over the averaging window
    usage: int  # searches, record views and ILL requests over the averaging window
    refs: tuple[str, ...] = ()  # harvest runs behind its records


@dataclass(frozen=True)
class IllFlow:
    """Filled ILL requests of one kind from one lender to one borrower in a period."""

    borrower: str
    lender: str
    kind: str  # loan | copy
    count: int
    refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Inputs:
    """Everything a settlement needs besides the model."""

    period: Period
    members: tuple[MemberBasis, ...]
    flows: tuple[IllFlow, ...] = ()
    region_members: dict[str, tuple[str, ...]] = field(default_factory=dict)  # region -> codes


@dataclass(frozen=True)
class Line:
    """One movement of money, with the arithmetic behind it and the events it came from."""

    kind: str  # share | ill_fee | pool | subsidy
    payer: str
    payee: str
    amount: Decimal
    quantity: int = 0
    basis: str = ""
    refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settlement:
    """The lines of a period under one model."""

    period: str
    lines: tuple[Line, ...]
    formula: str

    def net(self) -> dict[str, Decimal]:
        """Return every party's net amount: received minus paid."""
        totals: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
        for line in self.lines:
            totals[line.payer] -= line.amount
            totals[line.payee] += line.amount
        return dict(totals)

    def shares(self) -> dict[str, Decimal]:
        """Return each member's platform share."""
        return {line.payer: line.amount for line in self.lines if line.kind == "share"}

    def for_party(self, code: str) -> list[tuple[Line, Decimal]]:
        """Return the lines of one party with their signed amounts (negative: it pays)."""
        return [
            (line, -line.amount if line.payer == code else line.amount)
            for line in self.lines
            if code in (line.payer, line.payee)
        ]


def exact(value: object) -> Fraction:
    """Return a number from the model as an exact fraction (0.3 is 3/10, not a binary float)."""
    return Fraction(str(value))


def money(value: Fraction | int) -> Decimal:
    """Round an exact amount to the cent, half up."""
    value = Fraction(value)
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(CENT, ROUND_HALF_UP)


def apportion(total: Decimal, weights: dict[str, Fraction]) -> dict[str, Decimal]:
    """Split ``total`` in proportion to ``weights`` to the cent; the parts add up to ``total``."""
    positive = {k: Fraction(w) for k, w in weights.items() if w > 0}
    whole = sum(positive.values())
    if not positive or total == 0:
        return {}
    cents = int(total / CENT)
    exact_cents = {k: cents * w / whole for k, w in positive.items()}
    floors = {k: v.numerator // v.denominator for k, v in exact_cents.items()}
    left = cents - sum(floors.values())
    # Largest remainders get the spare cents; ties go in code order so results are stable.
    for key in sorted(positive, key=lambda k: (-(exact_cents[k] - floors[k]), k))[:left]:
        floors[key] += 1
    return {k: Decimal(v) * CENT for k, v in floors.items()}


def shown(value: Fraction | int) -> str:
    """Write an exact number for people: 0.3 rather than 3/10, ≈180666.67 when it does not end."""
    value = Fraction(value)
    for places in range(5):
        scaled = value * 10**places
        if scaled.denominator == 1:
            return f"{Decimal(scaled.numerator).scaleb(-places)}"
    return f"≈{money(value)}"


def per_period(amount: Decimal, period: Period) -> Decimal:
    """Return a yearly amount's part for the period (months / 12), to the cent."""
    return money(exact(amount) * period.year_fraction / 12)


def _ratio(values: dict[str, Fraction]) -> tuple[dict[str, Fraction], Fraction]:
    total = sum(values.values())
    if total == 0:  # nobody has any: the term is split equally rather than dropped
        return {k: Fraction(1, len(values)) for k in values}, Fraction(0)
    return {k: v / total for k, v in values.items()}, total


def share_lines(model: CostSharing, inputs: Inputs) -> list[Line]:
    """Apportion the period's common costs between the members by the share formula."""
    members = {m.code: m for m in inputs.members}
    n = len(members)
    b, w = exact(model.base_share), model.weights
    alpha, beta, gamma = exact(w.alpha), exact(w.beta), exact(w.gamma)
    size, s_total = _ratio({c: Fraction(m.size) for c, m in members.items()})
    recs, r_total = _ratio({c: Fraction(m.records) for c, m in members.items()})
    use, u_total = _ratio({c: Fraction(m.usage) for c, m in members.items()})
    raw = {
        c: b / n + (1 - b) * (alpha * size[c] + beta * recs[c] + gamma * use[c]) for c in members
    }
    costs = per_period(model.common_costs, inputs.period)
    amounts = apportion(costs, raw)
    lines = []
    for code, m in sorted(members.items()):
        basis = (
            f"{costs} × [{shown(b)}/{n} + (1−{shown(b)}) × ({shown(alpha)} × {shown(m.size)}/"
            f"{shown(s_total)} + {shown(beta)} × {m.records}/{r_total} + {shown(gamma)} × "
            f"{m.usage}/{u_total})]"
        )
        lines.append(
            Line("share", code, ALLIANCE, amounts.get(code, Decimal("0.00")), 0, basis, m.refs)
        )
    return lines


def tier_of(model: CostSharing, regions: dict[str, str], borrower: str, lender: str) -> str:
    """Return the fee tier between two members: same_district, reciprocal or cross_district."""
    if regions.get(borrower) == regions.get(lender):
        return "same_district"
    if model.ill_fees.are_reciprocal(borrower, lender):
        return "reciprocal"
    return "cross_district"


def fee_lines(model: CostSharing, inputs: Inputs) -> list[Line]:
    """Charge each borrower the tier's fee per filled loan and copy, paid to the lender."""
    regions = {m.code: m.region for m in inputs.members}
    lines = []
    for flow in sorted(inputs.flows, key=lambda f: (f.borrower, f.lender, f.kind)):
        tier = tier_of(model, regions, flow.borrower, flow.lender)
        fees: Fees = getattr(model.ill_fees, tier)
        rate = fees.loan if flow.kind == "loan" else fees.copy
        amount = money(exact(rate) * flow.count)
        basis = f"{flow.count} {flow.kind}(s) × {rate} ({tier.replace('_', ' ')})"
        lines.append(
            Line("ill_fee", flow.borrower, flow.lender, amount, flow.count, basis, flow.refs)
        )
    return lines


def _lending(flows: tuple[IllFlow, ...]) -> tuple[dict, dict, dict]:
    lent: dict[str, int] = defaultdict(int)
    borrowed: dict[str, int] = defaultdict(int)
    refs: dict[str, list[str]] = defaultdict(list)
    for flow in flows:
        lent[flow.lender] += flow.count
        borrowed[flow.borrower] += flow.count
        refs[flow.lender].extend(flow.refs)
    return lent, borrowed, refs


def pool_lines(model: CostSharing, inputs: Inputs) -> list[Line]:
    """Pay the net-lender pool out of the common fund: a per-loan part and a net-lending part."""
    pool = per_period(model.net_lender_pool, inputs.period)
    per_loan = money(exact(pool) * exact(model.pool_per_loan_part))
    net_part = pool - per_loan
    lent, borrowed, refs = _lending(inputs.flows)
    lines = []
    total_lent = sum(lent.values())
    for code, amount in sorted(
        apportion(per_loan, {c: Fraction(n) for c, n in lent.items()}).items()
    ):
        basis = f"per-loan part {per_loan} × {lent[code]}/{total_lent} items lent"
        lines.append(Line("pool", ALLIANCE, code, amount, lent[code], basis, tuple(refs[code])))
    net = {c: Fraction(lent[c] - borrowed.get(c, 0)) for c in lent if lent[c] > borrowed.get(c, 0)}
    total_net = sum(net.values())
    for code, amount in sorted(apportion(net_part, net).items()):
        basis = (
            f"net-lending part {net_part} × {net[code]}/{total_net} "
            f"(lent {lent[code]} − borrowed {borrowed.get(code, 0)})"
        )
        lines.append(Line("pool", ALLIANCE, code, amount, int(net[code]), basis, tuple(refs[code])))
    return lines


def subsidy_lines(model: CostSharing, inputs: Inputs, owed: dict[str, Decimal]) -> list[Line]:
    """Let each subsidised district's budget pay what its members owe, up to the budget."""
    owed = dict(owed)
    lines = []
    for region, yearly in sorted(model.district_subsidies.items()):
        budget = per_period(yearly, inputs.period)
        members = [c for c in inputs.region_members.get(region, ()) if owed.get(c, 0) > 0]
        due = sum((owed[c] for c in members), Decimal("0.00"))
        paid = min(budget, due)
        split = apportion(paid, {c: exact(owed[c]) for c in members})
        for code, amount in sorted(split.items()):
            basis = f"{region}: budget {budget}, pays {owed[code]}/{due} of {paid}"
            lines.append(Line("subsidy", GOVERNMENT, code, amount, 0, basis, ()))
            owed[code] -= amount
    return lines


def settle(model: CostSharing, inputs: Inputs) -> Settlement:
    """Return the period's settlement under ``model``: shares, ILL fees, pool and subsidies."""
    lines = share_lines(model, inputs) + fee_lines(model, inputs) + pool_lines(model, inputs)
    owed: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for line in lines:
        if line.kind in ("share", "ill_fee"):
            owed[line.payer] += line.amount
    lines += subsidy_lines(model, inputs, owed)
    return Settlement(inputs.period.code, tuple(lines), formula_text(model))


def formula_text(model: CostSharing) -> str:
    """Return the formula in force with every parameter, as printed beside the numbers."""
    w, fees = model.weights, model.ill_fees
    tiers = ", ".join(
        f"{name.replace('_', ' ')} {t.loan}/{t.copy}"
        for name, t in (
            ("same_district", fees.same_district),
            ("reciprocal", fees.reciprocal),
            ("cross_district", fees.cross_district),
        )
    )
    subsidies = ", ".join(f"{k} {v}" for k, v in sorted(model.district_subsidies.items()))
    return (
        f"{FORMULA}; C = {model.common_costs} {model.currency}/year, b = {model.base_share}, "
        f"α = {w.alpha}, β = {w.beta}, γ = {w.gamma}, Size = {model.size_measure}, "
        f"averaged over {model.averaging_years} year(s); ILL fee loan/copy: {tiers}; "
        f"net-lender pool {model.net_lender_pool}/year (per-loan part "
        f"{model.pool_per_loan_part}); district subsidies/year: {subsidies or 'none'}"
    )
