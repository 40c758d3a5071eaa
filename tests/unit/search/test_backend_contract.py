"""The same queries and expected results, run against every search backend.

tantivy always runs. Elasticsearch runs when FEDERATION_ELASTICSEARCH_URL names a cluster
(e.g. ``FEDERATION_ELASTICSEARCH_URL=http://127.0.0.1:9200 pytest tests/unit/search``); it
writes to throw-away indexes named ``federation-test-<random>*`` and deletes them after.
Expected results live in tests/data/search/contract_cases.json beside the corpus.
"""

from __future__ import annotations

import copy
import json
import os
import uuid

import pytest

from search.interfaces import SearchBackend
from search.query import SearchQuery
from tests.conftest import TEST_DATA

CORPUS = json.loads((TEST_DATA / "search" / "contract_corpus.json").read_text(encoding="utf-8"))
CASES = json.loads((TEST_DATA / "search" / "contract_cases.json").read_text(encoding="utf-8"))
ES_URL = os.environ.get("FEDERATION_ELASTICSEARCH_URL")


def _tantivy(tmp_path) -> SearchBackend:
    from search.backends.tantivy import TantivyBackend

    return TantivyBackend(tmp_path / "index")


def _tantivy_parallel(tmp_path) -> SearchBackend:
    """tantivy built by a rebuild split over two worker processes (as big rebuilds are)."""
    from search.backends.tantivy import TantivyBackend

    return TantivyBackend(tmp_path / "index", rebuild_workers=2, parallel_rebuild_min=0)


def _elasticsearch(tmp_path) -> SearchBackend:
    if not ES_URL:
        pytest.skip("no Elasticsearch cluster: set FEDERATION_ELASTICSEARCH_URL")
    from search.backends.elasticsearch import ElasticsearchBackend

    return ElasticsearchBackend(ES_URL, alias=f"federation-test-{uuid.uuid4().hex[:8]}", replicas=0)


def _drop_es_indexes(backend) -> None:
    backend.client.indices.delete(index=f"{backend.alias}*", ignore_unavailable=True)


@pytest.fixture(params=["tantivy", "elasticsearch"])
def backend(request, tmp_path):
    make = {"tantivy": _tantivy, "elasticsearch": _elasticsearch}[request.param]
    instance = make(tmp_path)
    yield instance
    if request.param == "elasticsearch":
        _drop_es_indexes(instance)
    instance.close()


@pytest.fixture
def loaded(backend):
    backend.index_documents(copy.deepcopy(CORPUS))
    backend.commit()
    return backend


@pytest.fixture(params=["tantivy", "tantivy-parallel-rebuild", "elasticsearch"])
def shared(request, tmp_path_factory):
    """One loaded backend per kind for the read-only cases (building it per case is slow)."""
    make = {
        "tantivy": _tantivy,
        "tantivy-parallel-rebuild": _tantivy_parallel,
        "elasticsearch": _elasticsearch,
    }[request.param]
    instance = make(tmp_path_factory.mktemp(request.param))
    if request.param == "tantivy-parallel-rebuild":
        instance.rebuild(copy.deepcopy(CORPUS))
    else:
        instance.index_documents(copy.deepcopy(CORPUS))
        instance.commit()
    yield instance
    if request.param == "elasticsearch":
        _drop_es_indexes(instance)
    instance.close()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(shared, case):
    result = shared.search(SearchQuery(**case["query"]))
    ids = [hit.cluster_id for hit in result.hits]
    expect = case["expect"]
    if "ids" in expect:
        assert sorted(ids) == expect["ids"], case["why"]
        assert result.total == len(expect["ids"])
    if "order" in expect:
        assert ids == expect["order"], case["why"]
    if "first" in expect:
        assert ids[0] == expect["first"], case["why"]
    if "total" in expect:
        assert result.total == expect["total"]
    if "facets" in expect:
        got = {name: [list(pair) for pair in values] for name, values in result.facets.items()}
        assert got == expect["facets"], case["why"]


def test_hits_carry_the_whole_document(shared):
    hit = shared.search(SearchQuery(text="isbn:7111075242")).hits[0]
    assert hit.doc == next(d for d in CORPUS if d["cluster_id"] == "c02")


def test_highlight_marks_traditional_title_for_simplified_query(shared):
    result = shared.search(SearchQuery(text="数据库", highlight=True))
    marks = {hit.cluster_id: hit.highlights.get("title") for hit in result.hits}
    assert marks["c02"] == "<mark>數據庫</mark>管理系統"
    assert marks["c01"] == "<mark>数据库</mark>系统概论"


def test_highlight_escapes_html(loaded):
    doc = copy.deepcopy(CORPUS[0]) | {"cluster_id": "x1", "title": "<b>Bold</b> history"}
    loaded.index_documents([doc])
    loaded.commit()
    hit = loaded.search(SearchQuery(text="title:bold", highlight=True)).hits[0]
    assert hit.highlights["title"] == "&lt;b&gt;<mark>Bold</mark>&lt;/b&gt; history"


def test_get_and_count(shared):
    assert shared.get("c14") == next(d for d in CORPUS if d["cluster_id"] == "c14")
    assert shared.get("no-such-cluster") is None
    assert shared.count() == len(CORPUS)


def test_update_replaces_and_delete_removes(loaded):
    changed = copy.deepcopy(CORPUS[13]) | {"title": "芝罘区地方志"}
    loaded.index_documents([changed])
    loaded.delete_documents(["c12", "not-there"])
    loaded.commit()
    assert loaded.count() == len(CORPUS) - 1
    assert [h.cluster_id for h in loaded.search(SearchQuery(text="芝罘")).hits] == ["c14"]
    assert loaded.search(SearchQuery(text="烟台地方志")).total == 0
    assert loaded.search(SearchQuery(text="cafe")).total == 0


def test_rebuild_swaps_in_a_new_index(loaded):
    written = loaded.rebuild(iter(copy.deepcopy(CORPUS[:5])))
    assert written == 5
    assert loaded.count() == 5
    assert loaded.search(SearchQuery(text="computer")).total == 0
    assert loaded.search(SearchQuery(text="数据库")).total == 3


def test_backend_from_settings_picks_the_configured_engine(tmp_path):
    from search.backends import backend_from_settings
    from search.backends.elasticsearch import ElasticsearchBackend
    from search.backends.tantivy import TantivyBackend

    tantivy_backend = backend_from_settings(
        {"SEARCH_BACKEND": "tantivy", "INSTANCE_PATH": str(tmp_path)}
    )
    assert isinstance(tantivy_backend, TantivyBackend)
    assert tantivy_backend.count() == 0
    assert (tmp_path / "search" / "tantivy" / "CURRENT").exists()
    tantivy_backend.close()
    es_backend = backend_from_settings(
        {"SEARCH_BACKEND": "elasticsearch", "ELASTICSEARCH_URL": "http://127.0.0.1:9"}
    )
    assert isinstance(es_backend, ElasticsearchBackend)
    es_backend.close()


def test_second_tantivy_rebuild_is_refused_while_one_runs(tmp_path):
    from search.backends.tantivy import TantivyBackend
    from search.interfaces import RebuildInProgress

    first, second = TantivyBackend(tmp_path), TantivyBackend(tmp_path)

    def docs():
        yield copy.deepcopy(CORPUS[0])
        with pytest.raises(RebuildInProgress):
            second.rebuild(iter(copy.deepcopy(CORPUS)))
        yield copy.deepcopy(CORPUS[1])

    assert first.rebuild(docs()) == 2
    assert second.count() == 2
    first.close()
    second.close()


def test_random_garbage_never_raises(shared):
    import random

    rng = random.Random(5)
    alphabet = list('()"“”-+:：*?~^[]{}\\/!&|#.,;') + ["AND", "OR", "NOT", "title:", "class:"]
    alphabet += ["isbn:", "数", "據", "库", "Ａ", "é", "x", "7", " ", " ", "\t", "\u3000"]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        result = shared.search(SearchQuery(text=text, facets=["member"], highlight=True))
        assert result.total >= 0
