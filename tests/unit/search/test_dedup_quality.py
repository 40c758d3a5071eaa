"""Dedup quality on the labelled sets: pairwise precision >= 0.99 and recall >= 0.95.

The scores are computed here from the clustering and the labels, never written down: the
hand-labelled Pride and Prejudice records (tests/data/dedup, see its PROVENANCE.md) and the
demo corpus with its generator's ground truth.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import pytest

from search.dedup.cluster import cluster_records
from search.dedup.labelled import load_demo_set, load_marc_set, read_iso2709_mixed
from search.dedup.quality import pairwise_scores, wrong_pairs
from tests.conftest import DEMO_ALLIANCE, TEST_DATA

PP_RECORDS = TEST_DATA / "dedup" / "pride-and-prejudice-fixed.mrc"
PP_LABELS = TEST_DATA / "dedup" / "pride-and-prejudice-labels.csv"


def predicted(labelled) -> dict[int, int]:
    result = cluster_records(labelled.keys())
    return {rid: n for n, c in enumerate(result.clusters) for rid in c.record_ids}


@pytest.fixture(scope="module")
def pride_and_prejudice():
    return load_marc_set("pp", PP_RECORDS, PP_LABELS)


@pytest.fixture(scope="module")
def demo():
    return load_demo_set(DEMO_ALLIANCE, now=datetime(2026, 1, 1, tzinfo=UTC))


def test_every_pride_and_prejudice_record_is_read_and_labelled(pride_and_prejudice):
    with open(PP_LABELS, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["position"]) for r in rows] == list(range(383))
    assert len(pride_and_prejudice.records) == 383  # the 17 UNIMARC records too
    formats = {r.source_format for r in pride_and_prejudice.records.values()}
    assert formats == {"marc21", "unimarc"}


def test_pride_and_prejudice_editions_stay_apart_and_duplicates_meet(pride_and_prejudice):
    found = predicted(pride_and_prejudice)
    scores = pairwise_scores(found, pride_and_prejudice.truth)
    merged, _missed = wrong_pairs(found, pride_and_prejudice.truth)
    assert merged == []
    assert scores.precision >= 0.99, scores
    assert scores.recall >= 0.95, scores
    assert len(set(found.values())) > 340  # most of the 383 records are editions of their own


def test_demo_corpus_clusters_match_the_generators_ground_truth(demo):
    found = predicted(demo)
    scores = pairwise_scores(found, demo.truth)
    assert scores.true_pairs > 5000  # the corpus shares thousands of editions between members
    assert scores.precision >= 0.99, (scores, wrong_pairs(found, demo.truth, 5)[0])
    assert scores.recall >= 0.95, (scores, wrong_pairs(found, demo.truth, 5)[1])


def test_pairwise_scores_count_pairs_through_the_contingency_table():
    truth = {1: "a", 2: "a", 3: "a", 4: "b", 5: "b"}
    found = {1: 1, 2: 1, 3: 2, 4: 2, 5: 3}  # one true pair found, one false pair made
    scores = pairwise_scores(found, truth)
    assert (scores.correct_pairs, scores.predicted_pairs, scores.true_pairs) == (1, 2, 4)
    assert scores.precision == 0.5 and scores.recall == 0.25
    assert scores.f1 == pytest.approx(1 / 3)
    assert wrong_pairs(found, truth) == ([(3, 4)], [(1, 3), (2, 3), (4, 5)])


def test_a_mixed_iso2709_file_is_read_record_by_record():
    records = dict(read_iso2709_mixed(PP_RECORDS.read_bytes()))
    assert records[132].source_format == "unimarc"
    assert records[132].isbns[0] == records[130].isbns[0] == "9780553210187"
    assert records[359].title == "傲慢與偏見"
