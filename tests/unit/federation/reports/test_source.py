"""The report's database source: real records, clusters and usage events folded into facts."""

from __future__ import annotations

import pytest

from federation.alliance import load_alliance
from federation.reports import build_report, load_facts
from federation.reports import facts as f
from federation.reports import metrics as m
from federation.reports.metrics import Scope
from federation.reports.source import clc_class
from tests.conftest import DEMO_ALLIANCE

from .seed import seed


@pytest.fixture
def facts(db):
    with db.session() as session:
        seed(session, DEMO_ALLIANCE)
    with db.session() as session:
        return load_facts(session, load_alliance(DEMO_ALLIANCE), ["2026-02", "2026-03"])


def test_titles_are_counted_once_per_district_from_active_records(facts):
    scope = Scope(facts, ["2026-03"])
    titles = m.titles_held(scope)
    assert (titles["laishan"], titles["zhifu"], titles["muping"], titles["qixia"]) == (2, 1, 1, 0)
    assert facts.holdings.alliance_titles == 3
    # T's subclasses count for T too: searches are limited by main class only
    assert facts.holdings.alliance_class_titles == {"TP": 2, "T": 2, "I": 1}


def test_requests_are_folded_by_the_borrowers_district_in_the_alliance_time_zone(facts):
    scope = Scope(facts, ["2026-03"])
    assert m.fill_rate(scope)["muping"] == 0.5
    assert m.fill_rate(scope)["zhifu"] == 1.0  # requested on 1 March, Yantai time
    assert m.held_locally_share(scope)["muping"] == 0.0
    assert m.held_locally_share(scope)["zhifu"] == 1.0  # ldu, in Zhifu, holds c1
    assert m.turnaround_median(scope)["muping"] == 30
    assert m.unfilled(scope)["muping"] == 1  # ytu's "no" is not a request left unmet
    assert (m.unfilled(scope)["longkou"], m.fill_rate(scope)["longkou"]) == (0, 0.0)  # cancelled
    assert m.lent(scope)["laishan"] == 1 and m.lent(scope)["zhifu"] == 1
    assert m.university_to_public(scope)["muping"] == 1


def test_distance_to_the_nearest_holder_is_from_the_requesting_library(facts):
    # muping-pl (37.387, 121.600) to ytu (37.476, 121.449): about 16 km
    assert m.nearest_holder_km(Scope(facts, ["2026-03"]))["muping"] == pytest.approx(16, abs=1)


def test_requests_take_the_class_of_their_title(facts):
    scope = Scope(facts, ["2026-03"])
    assert scope.by_class(f.REQUESTED, "muping") == {"TP": 2}
    assert scope.by_class(f.SEARCHES, "muping") == {"T": 2}


def test_searches_count_for_the_district_they_came_from(facts):
    scope = Scope(facts, ["2026-03"])
    assert m.zero_result_searches(scope)["qixia"] == 1
    assert m.zero_result_share(scope)["muping"] == 0.5


def test_feedback_is_counted_and_its_text_is_not_kept(facts):
    assert facts.feedback.by_category == {"collection": 1}
    assert "Zhang San" not in repr(facts)
    assert facts.simulated


def test_a_window_leaves_out_events_outside_it(db, facts):
    with db.session() as session:
        april = load_facts(session, load_alliance(DEMO_ALLIANCE), ["2026-04"])
    assert not build_report(april, "2026-04").has_data
    assert build_report(facts, "2026-03").has_data


@pytest.mark.parametrize(
    ("number", "main"), [("TP312", "TP"), ("I247.5", "I"), ("t", "T"), ("", ""), ("9", "")]
)
def test_clc_class_is_the_main_class_with_t_subclasses(number, main):
    assert clc_class(number) == main


def test_month_edges_are_in_the_alliance_time_zone(db, facts):
    # the ytlib request at 2026-02-28 17:00 UTC is 1 March 01:00 in Yantai
    with db.session() as session:
        march = load_facts(session, load_alliance(DEMO_ALLIANCE), ["2026-03"])
        february = load_facts(session, load_alliance(DEMO_ALLIANCE), ["2026-02"])
    assert m.fill_rate(Scope(march, ["2026-03"]))["zhifu"] == 1.0
    assert not build_report(february, "2026-02").has_data
