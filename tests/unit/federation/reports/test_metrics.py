"""Each metric on the hand-built alliance: the numbers a coordinator would read off the page."""

from __future__ import annotations

import pytest

from federation.reports import metrics as m
from federation.reports.metrics import Scope

from .alliance import small_alliance

MARCH = ["2026-03"]


@pytest.fixture
def scope() -> Scope:
    return Scope(small_alliance(), MARCH)


def test_members_per_district_counts_each_library_once(scope):
    assert m.members(scope) == {"north": 2, "south": 1, "east": 0}
    assert m.members(Scope(scope.facts, MARCH, "university")) == {"north": 1, "south": 0, "east": 0}


def test_titles_held_counts_unique_titles_not_copies(scope):
    # north's two libraries hold 800 and 300 titles, 900 of them distinct
    assert m.titles_held(scope) == {"north": 900, "south": 100, "east": 0}
    assert m.titles_per_1000(scope) == {"north": 90.0, "south": 5.0, "east": 0.0}


def test_titles_per_1000_for_one_library_type(scope):
    public = Scope(scope.facts, MARCH, "public")
    assert m.titles_per_1000(public)["north"] == pytest.approx(30.0)


def test_share_of_requested_titles_held_in_the_district(scope):
    assert m.held_locally_share(scope) == {"north": 1.0, "south": 0.2, "east": None}


def test_requests_per_1000_residents(scope):
    assert m.requests_per_1000(scope) == {"north": 2.0, "south": 2.0, "east": 0.0}


def test_fill_rate_is_filled_over_requested_and_none_without_requests(scope):
    assert m.fill_rate(scope) == {"north": 0.95, "south": 0.75, "east": None}


def test_turnaround_median_and_p90_from_the_hours_histogram(scope):
    # south: 10 at 10h, 10 at 20h, 7 at 50h, 3 at 100h: median the 15th of 30, p90 the 27th
    assert m.turnaround_median(scope)["south"] == 20
    assert m.turnaround_p90(scope)["south"] == 50
    assert m.turnaround_median(scope)["east"] is None


def test_unmet_demand_unfilled_and_zero_result_searches(scope):
    assert m.unfilled(scope) == {"north": 1, "south": 6, "east": 0}  # neither filled nor cancelled
    assert m.zero_result_searches(scope) == {"north": 10, "south": 5, "east": 40}
    assert m.zero_result_share(scope) == {"north": 0.05, "south": 0.1, "east": 0.4}


def test_lending_against_borrowing(scope):
    assert m.lent(scope) == {"north": 30, "south": 19, "east": 0}
    assert m.borrowed(scope) == {"north": 19, "south": 30, "east": 0}
    ratio = m.lending_ratio(scope)
    assert ratio["north"] == pytest.approx(30 / 19) and ratio["east"] is None


def test_distance_to_nearest_holder_median_in_km(scope):
    assert m.nearest_holder_km(scope) == {"north": 1, "south": 22, "east": None}


def test_university_loans_to_public_library_readers(scope):
    assert m.university_to_public(scope) == {"north": 0, "south": 30, "east": 0}


def test_class_coverage_finds_where_demand_outruns_holdings(scope):
    classes = m.class_coverage(scope, "south")
    # 30 TP requests + 50 TP searches of 90 classed acts; south holds 10 of 200 TP titles
    tp = classes[0]
    assert (tp.clc, tp.demand) == ("TP", 80)
    assert tp.demand_share == pytest.approx(80 / 90)
    assert tp.holding_share == pytest.approx(0.05)
    # its collection is 10% TP and 60% I; its demand 89% TP and 11% I: only TP falls short
    assert tp.collection_share == pytest.approx(0.1)
    assert [g.clc for g in classes if g.shortfall > 0] == ["TP"]
    assert m.worst_class(scope, "south").clc == "TP"
    # north asks only for I (all its demand), which is 2% of its own titles
    assert m.worst_class(scope, "north").clc == "I"
    assert m.worst_class(scope, "north").collection_share == pytest.approx(0.02)


def test_other_months_are_not_counted(scope):
    april = Scope(scope.facts, ["2026-04"])
    assert m.fill_rate(april)["south"] is None
    assert m.requests_per_1000(april)["south"] == 0


def test_percentile_nearest_rank():
    from collections import Counter

    assert m.percentile(Counter({1: 1, 2: 1, 3: 1, 4: 1}), 0.5) == 2
    assert m.percentile(Counter(), 0.5) is None
