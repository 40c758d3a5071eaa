"""The subject facet is counted over integer keys; readers still see values and exact counts."""

from __future__ import annotations

import collections
import random

import pytest

from search.backends import tantivy_facets
from search.backends.tantivy import TantivyBackend
from search.query import SearchQuery

SUBJECTS = [f"Subject {n:03d}" for n in range(300)] + ["中国 -- 历史", "Ünïcode"]


def _docs(count: int, seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    docs = []
    for n in range(count):
        word = "alpha" if n % 3 == 0 else "beta"
        subjects = sorted(set(rng.choices(SUBJECTS, k=rng.randint(1, 3))))
        docs.append({"cluster_id": f"k{n:05d}", "title": f"{word} title {n}", "subjects": subjects,
                     "members": ["ytu" if n % 2 else "ldu"]})  # fmt: skip
    return docs


def _expected(docs: list[dict], word: str, size: int, member: str | None = None) -> list:
    counts = collections.Counter(
        s for d in docs if word in d["title"] and member in (None, *d["members"])
        for s in d["subjects"]
    )  # fmt: skip
    return sorted(counts.items(), key=lambda vc: (-vc[1], vc[0]))[:size]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    docs = _docs(1500)
    backend = TantivyBackend(tmp_path_factory.mktemp("keyed"))
    backend.rebuild(docs)
    yield backend, docs
    backend.close()


@pytest.mark.parametrize("word", ["alpha", "beta", "title"])
def test_subject_counts_are_exact_and_ordered_by_count_then_value(indexed, word):
    backend, docs = indexed
    result = backend.search(SearchQuery(text=word, facets=["subject"], facet_size=12))
    assert result.facets["subject"] == _expected(docs, word, 12)


def test_a_ticked_subject_keeps_its_count_and_others_are_counted_without_it(indexed):
    backend, docs = indexed
    rare = _expected(docs, "alpha", 400)[-1][0]
    query = SearchQuery(
        text="alpha", facets=["subject", "member"], filters={"subject": [rare]}, facet_size=5
    )
    result = backend.search(query)
    shown = dict(result.facets["subject"])
    assert shown[rare] == dict(_expected(docs, "alpha", 400))[rare]
    assert result.facets["subject"][:5] == _expected(docs, "alpha", 5)


def test_subject_counts_within_a_member_filter(indexed):
    backend, docs = indexed
    query = SearchQuery(text="beta", facets=["subject"], filters={"member": ["ytu"]})
    assert backend.search(query).facets["subject"] == _expected(docs, "beta", 20, "ytu")


@pytest.mark.parametrize("refresh_s", [0.0, 3600.0])
def test_a_subject_added_by_a_commit_is_named(tmp_path, monkeypatch, refresh_s):
    # Whether the names are read again at once (0) or not yet (the facet is then counted on
    # its text column), the reader sees the new subject with its count.
    monkeypatch.setattr(tantivy_facets.KeyNames, "REFRESH_S", refresh_s)
    backend = TantivyBackend(tmp_path)
    try:
        backend.rebuild(_docs(50))
        backend.search(SearchQuery(text="title", facets=["subject"]))  # names read once
        backend.index_documents(
            [{"cluster_id": f"n{n}", "title": "gamma", "subjects": ["Brand new subject"]}
             for n in range(3)]
        )  # fmt: skip
        backend.commit()
        result = backend.search(SearchQuery(text="gamma", facets=["subject"]))
        assert result.facets["subject"] == [("Brand new subject", 3)]
    finally:
        backend.close()


def test_keys_without_a_name_fall_back_to_counting_the_values(indexed, monkeypatch):
    backend, docs = indexed
    monkeypatch.setattr(tantivy_facets.KeyNames, "names", lambda self, searcher, keys: None)
    result = backend.search(SearchQuery(text="alpha", facets=["subject"], facet_size=8))
    assert result.facets["subject"] == _expected(docs, "alpha", 8)
