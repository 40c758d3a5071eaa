"""The result cache of the tantivy backend: repeated searches, and nothing stale after writes."""

from __future__ import annotations

import dataclasses
import time

import pytest

from search.backends.tantivy import TantivyBackend
from search.query import SearchQuery
from search.result_cache import ResultCache, counts_key, query_key


def _doc(cluster_id: str, title: str, member: str = "ytu") -> dict:
    return {"cluster_id": cluster_id, "title": title, "members": [member], "year": 2001,
            "holdings": [{"member": member}]}  # fmt: skip


@pytest.fixture
def cached(tmp_path):
    backend = TantivyBackend(tmp_path, result_cache_size=10)
    backend.rebuild([_doc("c1", "A History of China"), _doc("c2", "Garden history", "ldu")])
    yield backend
    backend.close()


def _ids(result) -> list[str]:
    return sorted(hit.cluster_id for hit in result.hits)


def test_a_repeated_search_is_answered_from_the_cache(cached):
    query = SearchQuery(text="history", facets=["member"])
    first = cached.search(query)
    again = cached.search(SearchQuery(text="  history ", facets=["member"]))  # same words
    assert cached.results.stats()["hits"] == 1
    assert _ids(again) == _ids(first) == ["c1", "c2"]
    assert again.facets == first.facets
    # Another page, filter or facet list is another result.
    cached.search(SearchQuery(text="history", facets=["member"], filters={"member": ["ldu"]}))
    cached.search(SearchQuery(text="history", facets=["member"], page=2))
    assert cached.results.stats()["hits"] == 1


def test_a_commit_makes_cached_results_unreachable(cached):
    query = SearchQuery(text="history")
    assert _ids(cached.search(query)) == ["c1", "c2"]
    cached.index_documents([_doc("c3", "History of the sea")])
    cached.commit()
    assert _ids(cached.search(query)) == ["c1", "c2", "c3"]
    cached.delete_documents(["c1"])
    cached.commit()
    assert _ids(cached.search(query)) == ["c2", "c3"]


def test_a_commit_by_another_process_is_seen_at_once(cached, tmp_path):
    query = SearchQuery(text="history")
    assert _ids(cached.search(query)) == ["c1", "c2"]
    writer = TantivyBackend(tmp_path)  # stands for the indexing process
    try:
        writer.index_documents([_doc("c3", "History of the sea")])
        writer.commit()
    finally:
        writer.close()
    assert _ids(cached.search(query)) == ["c1", "c2", "c3"]


def test_a_rebuild_by_another_process_is_seen_at_once(cached, tmp_path):
    query = SearchQuery(text="history")
    assert _ids(cached.search(query)) == ["c1", "c2"]
    other = TantivyBackend(tmp_path)
    try:
        other.rebuild([_doc("c9", "Mountain history")])
    finally:
        other.close()
    assert _ids(cached.search(query)) == ["c9"]


def test_a_cached_result_reports_the_time_of_its_own_call(cached):
    query = SearchQuery(text="history", facets=["member"])
    cached.search(query)
    again = cached.search(query)
    assert cached.results.stats()["hits"] == 1
    assert again.took_ms < 50


def test_size_zero_keeps_nothing(tmp_path):
    backend = TantivyBackend(tmp_path)  # the default: no cache
    try:
        backend.rebuild([_doc("c1", "A History of China")])
        backend.search(SearchQuery(text="history"))
        backend.search(SearchQuery(text="history"))
        assert backend.results.stats() == {"entries": 0, "hits": 0, "misses": 0}
    finally:
        backend.close()


def test_the_least_recently_used_entry_goes_first():
    cache = ResultCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (1, 3)
    assert cache.stats() == {"entries": 2, "hits": 3, "misses": 1}
    with pytest.raises(ValueError, match="0 or more"):
        ResultCache(-1)


def test_a_query_starting_at_another_offset_is_another_result():
    @dataclasses.dataclass(frozen=True)
    class FromOffset(SearchQuery):  # as SRU's TreeQuery: any start, not only whole pages
        start: int = 0

        @property
        def offset(self) -> int:
            return self.start

    assert query_key(FromOffset(text="a", start=10)) != query_key(FromOffset(text="a", start=20))
    assert query_key(FromOffset(text="a")) != query_key(SearchQuery(text="a"))


def test_the_key_tells_apart_what_changes_a_result():
    base = SearchQuery(text="history", filters={"member": ["a", "b"]})
    same = SearchQuery(text="history ", filters={"member": ["a", "b"]})
    assert query_key(base) == query_key(same)
    others = [
        SearchQuery(text="history", filters={"member": ["a"]}),
        SearchQuery(text="history", filters={"member": ["a", "b"]}, sort="year_desc"),
        SearchQuery(text="history", filters={"member": ["a", "b"]}, year_from=1990),
        SearchQuery(text="history", filters={"member": ["a", "b"]}, highlight=True),
        SearchQuery(text="History", filters={"member": ["a", "b"]}),
        SearchQuery(text="title:history", filters={"member": ["a", "b"]}),
    ]
    assert len({query_key(q) for q in others} | {query_key(base)}) == len(others) + 1


def test_page_two_and_a_re_sort_reuse_the_first_pages_counts(tmp_path):
    docs = [_doc(f"c{n}", f"History volume {n}", "ytu" if n % 3 else "ldu") for n in range(25)]
    cached = TantivyBackend(tmp_path / "a", result_cache_size=10)
    plain = TantivyBackend(tmp_path / "b")  # no caches: the counts made afresh
    try:
        cached.rebuild(docs)
        plain.rebuild(docs)
        first = cached.search(SearchQuery(text="history", facets=["member"]))
        assert cached.counts.stats() == {"entries": 1, "hits": 0, "misses": 1}
        for other in (
            SearchQuery(text="history", facets=["member"], page=2),
            SearchQuery(text="history", facets=["member"], sort="year_desc"),
            SearchQuery(text="history", facets=["member"], page=2, highlight=True),
        ):
            reused, fresh = cached.search(other), plain.search(other)
            assert (reused.total, reused.facets) == (fresh.total, fresh.facets)
            assert (reused.total, reused.facets) == (first.total, first.facets)
            # The page itself as the same index answers it with counting (equal scores may
            # tie in another order in another index, so compared within this one).
            again = cached._search(other, time.perf_counter(), None)
            assert (again.total, again.facets) == (reused.total, reused.facets)
            assert reused.hits == again.hits
            assert len(reused.hits) == len(fresh.hits)
        assert cached.counts.stats()["hits"] == 3
        assert len(cached.search(SearchQuery(text="history", facets=["member"], page=2)).hits) == 5
    finally:
        cached.close()
        plain.close()


def test_other_words_filters_or_facets_are_counted_afresh(cached):
    cached.search(SearchQuery(text="history", facets=["member"]))
    ldu = cached.search(SearchQuery(text="history", facets=["member"], filters={"member": ["ldu"]}))
    assert ldu.total == 1
    assert cached.search(SearchQuery(text="china", facets=["member"], page=1)).total == 1
    assert cached.counts.stats()["hits"] == 0
    assert counts_key(SearchQuery(text="a", page=2, sort="title")) == counts_key(
        SearchQuery(text="a")
    )
    assert counts_key(SearchQuery(text="a", facet_size=5)) != counts_key(SearchQuery(text="a"))


def test_a_commit_makes_kept_counts_unreachable(cached):
    assert cached.search(SearchQuery(text="history", facets=["member"])).total == 2
    cached.index_documents([_doc(f"s{n}", "History of the sea") for n in range(30)])
    cached.commit()
    page2 = cached.search(SearchQuery(text="history", facets=["member"], page=2))
    assert page2.total == 32
    assert dict(page2.facets["member"]) == {"ytu": 31, "ldu": 1}
    assert len(page2.hits) == 12
