"""The cost-sharing arithmetic, checked line by line against a hand computation."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from fractions import Fraction

from federation.alliance.model import CostSharing, Fees, IllFees, ShareWeights
from federation.costs.formula import (
    ALLIANCE,
    GOVERNMENT,
    IllFlow,
    Inputs,
    MemberBasis,
    apportion,
    settle,
)
from federation.costs.periods import parse_period

D = Decimal
MODEL = CostSharing(
    common_costs=D("120000"),
    base_share=0.4,
    weights=ShareWeights(alpha=0.5, beta=0.3, gamma=0.2),
    size_measure="population",
    averaging_years=1,
    ill_fees=IllFees(
        same_district=Fees(D("0"), D("0")),
        reciprocal=Fees(D("2"), D("1")),
        cross_district=Fees(D("8"), D("2")),
        reciprocal_agreements=(("b", "c"),),
    ),
    net_lender_pool=D("40000"),
    pool_per_loan_part=0.5,
    district_subsidies={"west": D("8000")},
)
INPUTS = Inputs(
    period=parse_period("2026-Q3"),
    members=(
        MemberBasis("a", "east", Fraction(100), records=500, usage=20, refs=("harvest_run:1",)),
        MemberBasis("b", "east", Fraction(300), records=0, usage=20),
        MemberBasis("c", "west", Fraction(600), records=500, usage=60),
    ),
    flows=(
        IllFlow("a", "b", "loan", 5, ("ill_request:1",)),
        IllFlow("a", "c", "loan", 10, ("ill_request:2",)),
        IllFlow("a", "c", "copy", 4, ("ill_request:3",)),
        IllFlow("b", "c", "loan", 3, ("ill_request:4",)),
        IllFlow("c", "a", "loan", 2, ("ill_request:5",)),
    ),
    region_members={"east": ("a", "b"), "west": ("c",)},
)


def lines_of(settlement, kind):
    return [(x.payer, x.payee, x.amount) for x in settlement.lines if x.kind == kind]


def test_worked_example_line_by_line():
    """A quarter (3/12 of a year): C = 120000 × 3/12 = 30000.00; pool 40000 × 3/12 = 10000.00.

    Shares, b = 0.4, N = 3, b/N = 0.1333…, so the base part is 30000 × 0.4/3 = 4000.00 each;
    ΣSize = 1000, ΣRecords = 1000, ΣUsage = 100; the variable part is 30000 × 0.6 × (…):
      a: 0.5×100/1000 + 0.3×500/1000 + 0.2×20/100 = 0.24 → 18000 × 0.24 = 4320 → 8320.00
      b: 0.5×300/1000 + 0                + 0.2×20/100 = 0.19 → 3420          → 7420.00
      c: 0.5×600/1000 + 0.3×500/1000 + 0.2×60/100 = 0.57 → 10260         → 14260.00
      8320 + 7420 + 14260 = 30000.00
    ILL fees (a, b in east; c in west; b and c reciprocal):
      a←b 5 loans same district × 0 = 0.00; a←c 10 loans across districts × 8 = 80.00;
      a←c 4 copies × 2 = 8.00; b←c 3 loans reciprocal × 2 = 6.00; c←a 2 loans × 8 = 16.00
    Pool: lent a 2, b 5, c 17 (Σ 24); borrowed a 19, b 3, c 2.
      per-loan half 5000.00: a 416.666…, b 1041.666…, c 3541.666… (all remainders 2/3; the two
      spare cents go to a and b in code order) → 416.67, 1041.67, 3541.66
      net-lending half 5000.00 over b +2, c +15 (Σ 17): b 588.2352…, c 4411.7647…; one spare
      cent to the larger remainder (b) → 588.24, 4411.76
    Subsidy: west 8000 × 3/12 = 2000.00; c owes 14260 + 16 = 14276 → government pays 2000.00
    Nets: a −8320 −80 −8 +16 +416.67 = −7975.33; b −7420 −6 +1041.67 +588.24 = −5796.09;
      c −14260 −16 +80 +8 +6 +3541.66 +4411.76 +2000 = −4228.58;
      alliance +30000 −10000 = 20000.00; government −2000.00; sum 0.00
    """
    s = settle(MODEL, INPUTS)
    assert lines_of(s, "share") == [
        ("a", ALLIANCE, D("8320.00")),
        ("b", ALLIANCE, D("7420.00")),
        ("c", ALLIANCE, D("14260.00")),
    ]
    assert lines_of(s, "ill_fee") == [
        ("a", "b", D("0.00")),
        ("a", "c", D("8.00")),
        ("a", "c", D("80.00")),
        ("b", "c", D("6.00")),
        ("c", "a", D("16.00")),
    ]
    assert lines_of(s, "pool") == [
        (ALLIANCE, "a", D("416.67")),
        (ALLIANCE, "b", D("1041.67")),
        (ALLIANCE, "c", D("3541.66")),
        (ALLIANCE, "b", D("588.24")),
        (ALLIANCE, "c", D("4411.76")),
    ]
    assert lines_of(s, "subsidy") == [(GOVERNMENT, "c", D("2000.00"))]
    assert s.net() == {
        "a": D("-7975.33"),
        "b": D("-5796.09"),
        "c": D("-4228.58"),
        ALLIANCE: D("20000.00"),
        GOVERNMENT: D("-2000.00"),
    }
    assert sum(s.net().values()) == 0


def test_every_fee_line_names_its_tier_and_its_requests():
    s = settle(MODEL, INPUTS)
    fees = {(x.payer, x.payee, x.quantity): x for x in s.lines if x.kind == "ill_fee"}
    assert "same district" in fees["a", "b", 5].basis and fees["a", "b", 5].refs == (
        "ill_request:1",
    )
    assert "reciprocal" in fees["b", "c", 3].basis
    assert "cross district" in fees["c", "a", 2].basis
    assert fees["a", "c", 4].refs == ("ill_request:3",)


def test_a_subsidy_never_pays_more_than_is_owed():
    generous = dataclasses.replace(MODEL, district_subsidies={"west": D("1000000")})
    s = settle(generous, INPUTS)
    assert lines_of(s, "subsidy") == [(GOVERNMENT, "c", D("14276.00"))]  # share 14260 + fees 16
    assert sum(s.net().values()) == 0


def test_without_any_records_that_term_is_split_equally():
    members = tuple(dataclasses.replace(m, records=0) for m in INPUTS.members)
    s = settle(MODEL, dataclasses.replace(INPUTS, members=members, flows=()))
    shares = s.shares()
    assert sum(shares.values()) == D("30000.00")
    # a: 4000 + 18000 × (0.05 + 0.3/3 + 0.04) = 4000 + 3420 = 7420.00
    assert shares["a"] == D("7420.00")


def test_apportion_always_adds_up_to_the_total():
    parts = apportion(D("100.00"), {"x": Fraction(1), "y": Fraction(1), "z": Fraction(1)})
    assert parts == {"x": D("33.34"), "y": D("33.33"), "z": D("33.33")}


def test_the_formula_in_force_names_every_parameter():
    text = settle(MODEL, INPUTS).formula
    for fragment in (
        "Share_i = C·[b/N",
        "C = 120000",
        "b = 0.4",
        "α = 0.5",
        "β = 0.3",
        "γ = 0.2",
        "cross district 8/2",
        "west 8000",
    ):
        assert fragment in text


def test_the_alliance_file_refuses_a_pool_larger_than_the_common_costs():
    from pathlib import Path

    import pytest

    from federation.alliance import AllianceFileError, load_alliance_text

    minimal = Path(__file__).resolve().parents[3] / "data" / "alliance" / "good" / "minimal.yaml"
    text = minimal.read_text(encoding="utf-8") + "  net_lender_pool: 200000\n"
    with pytest.raises(AllianceFileError) as info:
        load_alliance_text(text)
    assert "cost_sharing.net_lender_pool" in str(info.value)
    assert "no larger than common_costs" in str(info.value)
    share = minimal.read_text(encoding="utf-8") + "  pool_per_loan_part: 1.5\n"
    with pytest.raises(AllianceFileError, match="pool_per_loan_part: a share must be at least 0"):
        load_alliance_text(share)


def test_the_basis_of_a_share_reads_as_decimals():
    share = next(x for x in settle(MODEL, INPUTS).lines if x.kind == "share" and x.payer == "a")
    assert share.basis == (
        "30000.00 × [0.4/3 + (1−0.4) × (0.5 × 100/1000 + 0.3 × 500/1000 + 0.2 × 20/100)]"
    )
