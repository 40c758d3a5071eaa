"""Facet counts of huge result sets are estimated from a sample, and say so."""

from __future__ import annotations

import pytest

from search.backends.tantivy import TantivyBackend
from search.query import SearchQuery

N = 3000


def _doc(n: int) -> dict:
    members = ["big"] + (["half"] if n % 2 == 0 else []) + (["tenth"] if n % 10 == 0 else [])
    return {
        "cluster_id": f"s{n:05d}",
        "title": "rare title" if n < 40 else "common title",
        "year": 2000 + n % 20,
        "members": members,
        "languages": ["chi" if n % 3 else "eng"],
        "format": "book",
    }


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    # Small limits so a few thousand documents count as "huge".
    instance = TantivyBackend(
        tmp_path_factory.mktemp("facets"), facet_exact_limit=500, facet_sample_target=800
    )
    instance.rebuild(_doc(n) for n in range(N))
    yield instance
    instance.close()


def test_small_result_sets_get_exact_counts(backend):
    result = backend.search(SearchQuery(text="rare", facets=["member", "language"]))
    assert result.total == 40 and not result.facets_approximate
    assert result.facets["member"] == [("big", 40), ("half", 20), ("tenth", 4)]


def test_huge_result_sets_get_estimated_counts_flagged_as_such(backend):
    result = backend.search(SearchQuery(text="", facets=["member", "year"]))
    assert result.total == N  # the total stays exact
    assert result.facets_approximate
    counts = dict(result.facets["member"])
    assert [value for value, _ in result.facets["member"]] == ["big", "half", "tenth"]
    assert counts["big"] == pytest.approx(N, rel=0.15)
    assert counts["half"] == pytest.approx(N / 2, rel=0.2)
    assert counts["tenth"] == pytest.approx(N / 10, rel=0.4)
    assert len(result.facets["year"]) == 20


def test_a_selected_facet_over_a_huge_scope_is_estimated_too(backend):
    query = SearchQuery(text="", filters={"member": ["tenth"]}, facets=["member", "language"])
    result = backend.search(query)
    assert result.total == N // 10
    assert result.facets_approximate
    assert dict(result.facets["member"])["half"] == pytest.approx(N / 2, rel=0.2)
    # The language facet is counted within the 300 "tenth" hits: exact.
    assert dict(result.facets["language"]) == {"chi": 200, "eng": 100}


def test_a_selected_facet_with_a_small_scope_stays_exact_though_the_words_match_many(backend):
    # "common" matches 2,960 documents (beyond the exact limit of 500), but the language
    # facet's own scope ("common" and member "tenth", without the language filter) holds
    # 296: its counts are exact, not scaled up from a sample.
    query = SearchQuery(
        text="common",
        filters={"member": ["tenth"], "language": ["eng"]},
        facets=["language"],
    )
    result = backend.search(query)
    assert result.total == 98  # n % 30 == 0, among 40 <= n < 3000
    assert dict(result.facets["language"]) == {"chi": 198, "eng": 98}
    assert not result.facets_approximate
