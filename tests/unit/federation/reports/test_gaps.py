"""Gap detection on the hand-built alliance: which districts are flagged, and what it says."""

from __future__ import annotations

from federation.reports.gaps import GAP_METRIC_IDS, detect_gaps, largest_gaps
from federation.reports.metrics import Scope

from .alliance import small_alliance


def gaps(**kwargs):
    return detect_gaps(Scope(small_alliance(), ["2026-03"]), **kwargs)


def flagged(found):
    return {(g.district, g.metric) for g in found}


def test_flags_below_share_of_the_alliance_median():
    found = flagged(gaps(gap_share=0.6))
    assert ("east", "members") in found  # none where the median is 1
    assert ("south", "held_locally_share") in found  # 20% against a median of 60%
    assert ("south", "nearest_holder_km") in found  # 22 km against a median of 11.5
    assert ("south", "turnaround_median") not in found  # 20 h against 12.5: within 1/0.6
    assert not any(d == "north" for d, _ in found)


def test_a_lower_share_flags_fewer_districts():
    assert ("south", "held_locally_share") not in flagged(gaps(gap_share=0.3))
    assert ("east", "members") in flagged(gaps(gap_share=0.3))


def test_a_target_in_the_alliance_file_flags_a_district_above_the_median_rule():
    assert ("south", "fill_rate") not in flagged(gaps())
    found = {(g.district, g.metric): g for g in gaps(targets={"fill_rate": 0.8})}
    gap = found[("south", "fill_rate")]
    assert (gap.basis, gap.reference) == ("target", 0.8)
    assert "75% of ILL requests filled, below the target of 80%" in gap.text_en
    assert "低于目标值80%" in gap.text_zh


def test_gaps_are_said_in_plain_words_in_both_languages():
    gap = {(g.district, g.metric): g for g in gaps()}[("south", "held_locally_share")]
    assert gap.text_en == (
        "South: 20% of the titles its libraries request are held in the district, 33% of the "
        "alliance median (60%); 89% of its searches and requests are in class TP, where it "
        "holds 5% of the alliance's titles."
    )
    assert gap.text_zh.startswith("南区：所借书目中20%在本区有馆藏，为联盟中位数（60%）的33%")
    assert "TP类" in gap.text_zh


def test_a_district_without_a_library_says_so():
    gap = {(g.district, g.metric): g for g in gaps()}[("east", "members")]
    assert gap.text_en.startswith("East: no member library for 5,000 residents")
    assert gap.text_zh.startswith("东区：5,000位居民没有成员馆")


def test_largest_gaps_come_first_one_per_district():
    top = largest_gaps(gaps(), 3)
    assert [(g.district, g.metric) for g in top] == [
        ("east", "members"),
        ("south", "held_locally_share"),
    ]


def test_gap_metrics_match_the_alliance_file_schema():
    from federation.alliance.model import REPORT_METRICS

    assert set(GAP_METRIC_IDS) == set(REPORT_METRICS)


def test_where_less_is_better_the_gap_is_said_in_times_the_median():
    gap = {(g.district, g.metric): g for g in gaps()}[("south", "nearest_holder_km")]
    assert gap.text_en.startswith(
        "South: nearest holder of requested titles 22 km away (median), "
        "1.9 times the alliance median (11.5)"
    )
    assert "为联盟中位数（11.5）的1.9倍" in gap.text_zh


def test_a_small_rate_is_printed_with_its_digits_not_as_zero():
    from federation.reports.gaps import fmt

    assert fmt(0.035) == "0.035"
    assert fmt(0.0) == "0"
    assert fmt(0.5) == "0.5"
    assert fmt(12.34) == "12.3"
    assert fmt(1234.5) == "1,234"
    assert fmt(0.163, percent=True) == "16%"
