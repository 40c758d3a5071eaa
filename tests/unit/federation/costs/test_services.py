"""Statements from the event log: traceable lines, balance, approval, locking, model versions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from federation.alliance import load_alliance
from federation.costs.errors import CostError
from federation.costs.services import (
    adopt_model,
    approve_period,
    compare,
    load_model,
    lock_period,
    model_in_force,
    statement,
)
from federation.members import import_alliance
from federation.roles import Actor, Role
from federation.stats.rollup import rollup
from federation.usage import COPY_DELIVERED, ILL_FILLED, RECORDS_CONTRIBUTED, SEARCH, record_usage
from tests.conftest import DEMO_ALLIANCE

ADMIN = Actor(Role.ALLIANCE_ADMIN, name="Admin")
COORDINATOR = Actor(Role.COORDINATOR, name="Coordinator")


@pytest.fixture
def alliance():
    return load_alliance(DEMO_ALLIANCE)


def at(month: int, day: int = 10) -> datetime:
    return datetime(2026, month, day, 3, tzinfo=UTC)


@pytest.fixture
def seeded(db, alliance):
    """ytlib (zhifu) borrows 2 loans from ytu (laishan) and a copy from sdtbu in Q3 2026."""
    with db.session() as s:
        import_alliance(s, alliance)
        record_usage(
            s,
            ILL_FILLED,
            member_code="ytlib",
            partner_code="ytu",
            ref="ill_request:1",
            occurred_at=at(7),
        )
        record_usage(
            s,
            ILL_FILLED,
            member_code="ytlib",
            partner_code="ytu",
            ref="ill_request:2",
            occurred_at=at(8),
        )
        record_usage(
            s,
            ILL_FILLED,
            member_code="ytlib",
            partner_code="sdtbu",
            ref="ill_request:3",
            occurred_at=at(9),
        )
        record_usage(
            s,
            COPY_DELIVERED,
            member_code="ytlib",
            partner_code="sdtbu",
            ref="ill_request:3",
            occurred_at=at(9),
        )
        record_usage(
            s,
            RECORDS_CONTRIBUTED,
            member_code="ytu",
            quantity=5000,
            ref="harvest_run:7",
            occurred_at=at(7),
        )
        record_usage(s, SEARCH, member_code="ytlib", quantity=1, occurred_at=at(8))
        record_usage(
            s,
            ILL_FILLED,
            member_code="muping-pl",
            partner_code="ytu",
            ref="sim:1",
            occurred_at=at(8),
            simulated=True,
        )
    with db.session() as s:
        rollup(s)
    return db


def fee_lines(st):
    return {
        (x.payer, x.payee, x.quantity, x.amount, x.refs)
        for x in st.settlement.lines
        if x.kind == "ill_fee"
    }


def test_a_draft_statement_balances_and_traces_its_fees_to_the_requests(seeded, alliance):
    with seeded.session() as s:
        st = statement(s, alliance, "2026-Q3")
    assert st.status == "open"
    assert sum(st.settlement.net().values()) == Decimal("0.00")
    # zhifu → laishan is across districts (8/loan, 2/copy); ill_request:3 was a copy, not a loan;
    # the simulated request of muping-pl is not charged.
    assert fee_lines(st) == {
        ("ytlib", "ytu", 2, Decimal("16.00"), ("ill_request:1", "ill_request:2")),
        ("ytlib", "sdtbu", 1, Decimal("2.00"), ("ill_request:3",)),
    }
    shares = st.settlement.shares()
    assert sum(shares.values()) == Decimal("300000.00")  # 1,200,000 a year, one quarter
    ytu = next(x for x in st.settlement.lines if x.kind == "share" and x.payer == "ytu")
    assert ytu.refs == ("harvest_run:7",) and "5000/5000" in ytu.basis


def test_approved_and_locked_period_never_changes_and_late_events_go_to_the_next(seeded, alliance):
    with seeded.session() as s:
        approve_period(s, alliance, ADMIN, "2026-Q3")
    with seeded.session() as s:
        lock_period(s, alliance, ADMIN, "2026-Q3")
    with seeded.session() as s:  # a request of August reported after the lock
        record_usage(
            s,
            ILL_FILLED,
            member_code="ytlib",
            partner_code="ytu",
            ref="ill_request:9",
            occurred_at=at(8),
        )
    with seeded.session() as s:
        rollup(s)
        q3 = statement(s, alliance, "2026-Q3")
        q4 = statement(s, alliance, "2026-Q4")
    assert q3.status == "locked"
    assert ("ytlib", "ytu", 2, Decimal("16.00"), ("ill_request:1", "ill_request:2")) in fee_lines(
        q3
    )
    assert fee_lines(q4) == {("ytlib", "ytu", 1, Decimal("8.00"), ("ill_request:9",))}
    assert sum(q3.settlement.net().values()) == 0 and sum(q4.settlement.net().values()) == 0
    with seeded.session() as s, pytest.raises(CostError, match="locked and never changes"):
        approve_period(s, alliance, ADMIN, "2026-Q3")


def test_lock_is_refused_when_events_arrived_since_approval(seeded, alliance):
    with seeded.session() as s:
        approve_period(s, alliance, ADMIN, "2026-Q3")
    with seeded.session() as s:
        record_usage(s, ILL_FILLED, member_code="ytlib", partner_code="ytu", occurred_at=at(9))
    with seeded.session() as s, pytest.raises(CostError, match="approve it again"):
        lock_period(s, alliance, ADMIN, "2026-Q3")


def test_a_coordinator_may_not_approve(seeded, alliance):
    with seeded.session() as s, pytest.raises(CostError, match="may not"):
        approve_period(s, alliance, COORDINATOR, "2026-Q3")


def test_an_adopted_model_applies_from_its_period_on(seeded, alliance):
    proposed = dataclasses.replace(alliance.cost_sharing, common_costs=Decimal("400000"))
    with seeded.session() as s:
        adopt_model(s, ADMIN, proposed, "2026-Q4", "cheaper hosting")
    with seeded.session() as s:
        assert model_in_force(s, alliance, "2026-Q3").common_costs == Decimal("1200000.00")
        assert model_in_force(s, alliance, "2026-Q4").common_costs == Decimal("400000.00")
        rows = compare(s, alliance, "2026-Q3", proposed)
    assert sum(r["proposed_share"] for r in rows) == Decimal("100000.00")
    assert sum(r["current_share"] for r in rows) == Decimal("300000.00")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weights": {"alpha": 0.5, "beta": 0.5, "gamma": 0.5}}, "must sum to 1"),
        ({"base_share": 1.5}, "base_share: a share must be at least 0 and at most 1"),
        ({"net_lender_pool": "2000000"}, "no larger than common_costs"),
        ({"common_costs": "-5"}, "common_costs: an amount in CNY must be 0 or more"),
        ({"size_measure": "books"}, "size_measure"),
    ],
)
def test_bad_model_values_give_one_line(alliance, change, message):
    from federation.costs.services import model_params

    params = {**model_params(alliance.cost_sharing), **change}
    with pytest.raises(CostError) as info:
        load_model(params)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_bad_period_says_how_to_write_one(db, alliance):
    with db.session() as s, pytest.raises(CostError, match="write a month"):
        statement(s, alliance, "2026-13")


def test_an_approval_that_counted_simulated_activity_stays_labelled(seeded, alliance):
    with seeded.session() as s:
        approve_period(s, alliance, ADMIN, "2026-Q3", include_simulated=True)
    with seeded.session() as s:
        st = statement(s, alliance, "2026-Q3")
    assert st.status == "approved" and st.simulated
    # muping-pl's simulated loan from ytu (across districts) is in the approved lines
    assert ("muping-pl", "ytu", 1, Decimal("8.00"), ("sim:1",)) in fee_lines(st)
