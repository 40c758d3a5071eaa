"""The rota on its own: filters with reasons, explained terms, seeded ties, smoothing."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from federation.alliance import Fees
from ill.context import Deadlines
from ill.rota import Holding, LenderFacts, Ranker, Wanted

NOW = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in Yantai


@pytest.fixture
def members(alliance):
    return {m.code: m for m in alliance.members}


def ranker(members, **weights):
    base = {"availability": 0.2, "distance": 0.35, "load": 0.2, "turnaround": 0.2,
            "fairness": 0.1, "fee": 0.15}  # fmt: skip
    return Ranker(members, {**base, **weights}, Deadlines().response_hours)


def wanted(borrower="zhifu-pl", service="Loan", seed=1, max_cost=None, needed_by=None):
    return Wanted(borrower, service, "Normal", needed_by, max_cost, seed)


def test_each_filter_says_why(members):
    members = dict(members)
    members["ytu"] = dataclasses.replace(
        members["ytu"], ill=dataclasses.replace(members["ytu"].ill, fees=Fees(loan=5))
    )
    holdings = [Holding("zhifu-pl", available=1), Holding("bzmc-yt", available=1),
                Holding("ldu", use_only=2), Holding("sdtbu", available=1),
                Holding("ytlib", available=1), Holding("ytu", available=1)]  # fmt: skip
    facts = {"sdtbu": LenderFacts(load_today=25), "ytlib": LenderFacts(suspended=True)}
    lines = ranker(members).rank(wanted(max_cost=2.0), holdings, facts, NOW)
    reasons = {line.member_code: line.filter_reason for line in lines}
    assert reasons["zhifu-pl"].startswith("is the borrowing library")
    assert reasons["bzmc-yt"] == "does not lend for a Loan request (lends: copies)"
    assert reasons["ldu"] == "its copies are for use in the library only"
    assert reasons["sdtbu"] == "daily capacity reached (25 of 25 today)"
    assert reasons["ytlib"] == "suspended from lending by the alliance"
    assert reasons["ytu"] == "fee 5.00 is above the maximum cost 2.00"


def test_every_term_is_kept_with_its_weight_and_reason(members):
    lines = ranker(members).rank(wanted(), [Holding("ytlib", available=1)], {}, NOW)
    terms = lines[0].terms
    assert set(terms) == {"availability", "distance", "load", "turnaround", "fairness", "fee"}
    assert terms["distance"]["why"].startswith("same district")
    assert sum(t["weight"] for t in terms.values()) == pytest.approx(1.0, abs=1e-3)
    assert lines[0].score == pytest.approx(sum(t["points"] for t in terms.values()), abs=1e-3)


def test_equal_scores_are_ordered_by_the_requests_seed_not_by_name(members):
    # Identical twins of one library: same place, same policy, same record.
    twins = {f"twin{i}": dataclasses.replace(members["ytlib"], code=f"twin{i}") for i in range(5)}
    holdings = [Holding(code, available=1) for code in twins]
    firsts = {
        ranker({**members, **twins}).rank(wanted(seed=seed), holdings, {}, NOW)[0].member_code
        for seed in range(30)
    }
    assert len(firsts) >= 3  # not always twin0
    again = ranker({**members, **twins}).rank(wanted(seed=7), holdings, {}, NOW)
    same = ranker({**members, **twins}).rank(wanted(seed=7), holdings, {}, NOW)
    assert [x.member_code for x in again] == [x.member_code for x in same]


def test_few_requests_are_smoothed_and_net_borrowers_are_asked_first(members):
    holdings = [Holding("ytu", available=1), Holding("sdtbu", available=1)]
    r = ranker(members, distance=0, availability=0, load=0, fee=0, fairness=0)
    lucky = {"ytu": LenderFacts(asked=1, filled=1, turnaround_hours=2),
             "sdtbu": LenderFacts(asked=100, filled=90, turnaround_hours=90 * 3)}  # fmt: skip
    lines = r.rank(wanted(), holdings, lucky, NOW)
    # One quick fill does not beat ninety: the newcomer is pulled towards the average.
    assert lines[0].member_code == "sdtbu"
    r = ranker(members, distance=0, availability=0, load=0, fee=0, turnaround=0)
    balance = {
        "ytu": LenderFacts(filled=40, borrowed=5),
        "sdtbu": LenderFacts(filled=5, borrowed=40),
    }
    assert r.rank(wanted(), holdings, balance, NOW)[0].member_code == "sdtbu"
