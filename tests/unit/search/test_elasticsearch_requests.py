"""The Elasticsearch backend's requests, as the real client sends them over HTTP.

No Elasticsearch server can run on this project's machines, so a small HTTP server on
loopback records every request and answers with minimal valid Elasticsearch responses
(with the ``X-Elastic-Product`` header the client checks). The recorded mapping, bulk bodies,
query DSL and alias-swap sequence are compared with reviewed expectations in
tests/data/search/es_*.json. Set FEDERATION_RECORD_EXPECTATIONS=1 to rewrite them (then
review the diff). This proves what we send, not how a live cluster answers it.
"""

from __future__ import annotations

import copy
import json
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from search.backends.elasticsearch import ElasticsearchBackend
from search.interfaces import RebuildInProgress
from search.query import SearchQuery
from tests.conftest import TEST_DATA

pytestmark = pytest.mark.integration

DATA = TEST_DATA / "search"
CORPUS = json.loads((DATA / "contract_corpus.json").read_text(encoding="utf-8"))
RECORD = os.environ.get("FEDERATION_RECORD_EXPECTATIONS") == "1"
GENERATED = re.compile(r"federation-clusters-\d{8}t\d{6}-[0-9a-f]{8}")


class FakeCluster:
    """The state a minimal Elasticsearch keeps: indexes, the alias, canned answers."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.indexes: set[str] = set()
        self.aliases: dict[str, set[str]] = {}
        self.search_response: dict = {}
        self.docs: dict[str, dict] = {}

    def answer(self, method: str, path: str, body) -> tuple[int, dict | None]:
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["_bulk"]:
            return 200, self._bulk(body)
        if parts[:1] == ["_aliases"]:
            for action in body["actions"]:
                ((verb, spec),) = action.items()
                members = self.aliases.setdefault(spec["alias"], set())
                (members.add if verb == "add" else members.discard)(spec["index"])
            return 200, {"acknowledged": True}
        if parts[:1] == ["_alias"]:
            members = self.aliases.get(parts[1], set())
            if not members:
                return 404, {"error": "alias [x] missing", "status": 404}
            return 200, {index: {"aliases": {parts[1]: {}}} for index in sorted(members)}
        return self._index_api(method, parts, body)

    def _index_api(self, method: str, parts: list[str], body) -> tuple[int, dict | None]:
        index, rest = parts[0], parts[1:]
        if method == "PUT" and not rest:
            if index in self.indexes:
                error = {"type": "resource_already_exists_exception", "reason": "exists"}
                return 400, {"error": error, "status": 400}
            self.indexes.add(index)
            return 200, {"acknowledged": True, "shards_acknowledged": True, "index": index}
        if method == "DELETE" and not rest:
            self.indexes.discard(index)
            return 200, {"acknowledged": True}
        if rest == ["_search"]:
            response = dict(self.search_response)
            empty = {"doc_count": 0, "values": {"buckets": []}}
            response.setdefault("aggregations", {k: empty for k in (body or {}).get("aggs", {})})
            return 200, response
        if rest == ["_count"]:
            return 200, {"count": len(self.docs)}
        if rest[:1] == ["_doc"]:
            doc = self.docs.get(rest[1])
            if doc is None:
                return 404, {"_index": index, "_id": rest[1], "found": False}
            return 200, {"_index": index, "_id": rest[1], "found": True, "_source": doc}
        if rest == ["_refresh"]:
            return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
        if rest == ["_settings"]:
            return 200, {"acknowledged": True}
        return 400, {"error": {"type": "unexpected_request"}, "status": 400}

    def _bulk(self, lines: list[dict]) -> dict:
        items = []
        for action in lines:
            if "index" in action:
                items.append({"index": {"_id": action["index"]["_id"], "status": 201}})
            elif "delete" in action:
                items.append({"delete": {"_id": action["delete"]["_id"], "status": 404}})
        return {"took": 1, "errors": False, "items": items}


def _handler(cluster: FakeCluster):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length else ""
            path, _, query = self.path.partition("?")
            if path.endswith("_bulk"):
                body = [json.loads(line) for line in raw.splitlines() if line.strip()]
            else:
                body = json.loads(raw) if raw else None
            cluster.requests.append(
                {"method": self.command, "path": path, "query": query, "body": body}
            )
            actions = (
                [line for line in body if "index" in line or "delete" in line]
                if path.endswith("_bulk")
                else body
            )
            status, answer = cluster.answer(self.command, path, actions)
            payload = json.dumps(answer).encode() if answer is not None else b""
            self.send_response(status)
            self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

        def log_message(self, *args) -> None:
            pass

    return Handler


@pytest.fixture
def cluster():
    state = FakeCluster()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def backend(cluster):
    instance = ElasticsearchBackend(cluster.url)
    yield instance
    instance.close()


def _normalise(requests: list[dict]) -> list[dict]:
    """Replace generated index names so recordings compare across runs."""
    text = GENERATED.sub(
        "federation-clusters-<generated>", json.dumps(requests, ensure_ascii=False)
    )
    return json.loads(text)


def check(name: str, recorded) -> None:
    path = DATA / f"es_{name}.json"
    recorded = _normalise(recorded)
    if RECORD:
        path.write_text(json.dumps(recorded, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert recorded == json.loads(path.read_text(encoding="utf-8"))


def test_first_write_creates_mapped_index_behind_alias_then_bulk_indexes(cluster, backend):
    backend.index_documents(copy.deepcopy(CORPUS[:2]))
    backend.commit()
    check("first_write", cluster.requests)
    created = cluster.requests[1]["body"]
    analyzer = created["settings"]["analysis"]["analyzer"]["federation_cjk"]
    assert "cjk_bigram" in analyzer["filter"]
    bulk = cluster.requests[3]["body"]
    # Traditional characters are folded before Elasticsearch sees them.
    assert bulk[3]["s_title"] == ["数据库管理系统"]
    assert bulk[3]["title"] == "數據庫管理系統"


SEARCHES = {
    "cjk_text": SearchQuery(text="数据库 系统"),
    "fields_and_boolean": SearchQuery(
        text='title:"world war" author:smith -中国 (网络 OR network)'
    ),
    "isbn_and_class": SearchQuery(text="isbn:0-8044-2957-x class:tp3"),
    "single_character": SearchQuery(text="史"),
    "facets_multi_select": SearchQuery(
        text="history",
        filters={"member": ["ytu", "ldu"], "language": ["eng"], "year": ["1999"]},
        year_from=1990,
        year_to=2010,
        facets=["member", "language", "year", "subject"],
    ),
    "sorted_page": SearchQuery(text="", sort="title", page=3, page_size=10),
    "garbage": SearchQuery(text='"unbalanced (AND OR'),
}


@pytest.mark.parametrize("name", sorted(SEARCHES))
def test_search_request_body(cluster, backend, name):
    cluster.search_response = _canned_response([])
    backend.search(SEARCHES[name])
    (request,) = cluster.requests
    assert request["method"] in ("GET", "POST")
    assert request["path"] == "/federation-clusters/_search"
    check(f"search_{name}", request["body"])


def _canned_response(docs: list[dict], aggs: dict | None = None, sorted_by: bool = False) -> dict:
    hits = [
        {
            "_index": "i",
            "_id": d["cluster_id"],
            "_score": None if sorted_by else 2.0 - i / 10,
            "_source": d,
            **({"sort": [d["year"], d["cluster_id"]]} if sorted_by else {}),
        }
        for i, d in enumerate(docs)
    ]
    return {
        "took": 3,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": 42, "relation": "eq"}, "max_score": None, "hits": hits},
        **({"aggregations": aggs} if aggs else {}),
    }


def test_search_response_becomes_a_result_page(cluster, backend):
    docs = [d for d in CORPUS if d["cluster_id"] in ("c02", "c01")]
    buckets = [
        {"key": "ytlib", "doc_count": 2},
        {"key": "ldu", "doc_count": 1},
        {"key": "ytu", "doc_count": 1},
    ]
    years = [{"key": 2001, "doc_count": 1}, {"key": 2014, "doc_count": 1}]
    aggs = {
        "member": {"doc_count": 2, "values": {"buckets": buckets}},
        "year": {"doc_count": 2, "values": {"buckets": years}},
    }
    cluster.search_response = _canned_response(docs, aggs)
    result = backend.search(
        SearchQuery(
            text="數據庫",
            filters={"member": ["fushan"]},
            facets=["member", "year"],
            highlight=True,
        )
    )
    assert result.total == 42
    assert [h.cluster_id for h in result.hits] == ["c01", "c02"]
    assert result.hits[1].highlights["title"] == "<mark>數據庫</mark>管理系統"
    # Ties in count go by value; the reader's selection stays listed even with no count.
    assert result.facets["member"] == [("ytlib", 2), ("ldu", 1), ("ytu", 1), ("fushan", 0)]
    assert result.facets["year"] == [("2001", 1), ("2014", 1)]


def test_sorted_hits_have_no_score(cluster, backend):
    cluster.search_response = _canned_response(CORPUS[:2], sorted_by=True)
    result = backend.search(SearchQuery(sort="year_desc"))
    assert [h.score for h in result.hits] == [None, None]


def test_rebuild_writes_new_index_then_swaps_alias_then_drops_old(cluster, backend):
    cluster.indexes.add("federation-clusters-old")
    cluster.aliases["federation-clusters"] = {"federation-clusters-old"}
    progress: list[int] = []
    written = backend.rebuild(iter(copy.deepcopy(CORPUS)), progress=progress.append)
    assert written == len(CORPUS) and progress == [len(CORPUS)]
    sequence = [f"{r['method']} {r['path']}" for r in cluster.requests]
    check("rebuild_sequence", sequence)
    check("rebuild_requests", [r for r in cluster.requests if r["path"] != "/_bulk"])
    assert cluster.aliases["federation-clusters"] != {"federation-clusters-old"}
    assert "federation-clusters-old" not in cluster.indexes
    assert "federation-clusters-rebuild-lock" not in cluster.indexes


def test_second_rebuild_is_refused_while_one_runs(cluster, backend):
    cluster.indexes.add("federation-clusters-rebuild-lock")
    with pytest.raises(RebuildInProgress, match="another rebuild is running"):
        backend.rebuild(iter(copy.deepcopy(CORPUS)))
    assert [r["method"] for r in cluster.requests] == ["PUT"]
    assert "federation-clusters-rebuild-lock" in cluster.indexes


def test_delete_sends_bulk_deletes_and_tolerates_missing_ids(cluster, backend):
    cluster.aliases["federation-clusters"] = {"federation-clusters-old"}
    assert backend.delete_documents(["c01", "not-there"]) == 2
    bulk = cluster.requests[-1]
    assert bulk["path"] == "/_bulk"
    assert bulk["body"] == [
        {"delete": {"_index": "federation-clusters", "_id": "c01"}},
        {"delete": {"_index": "federation-clusters", "_id": "not-there"}},
    ]


def test_get_and_count(cluster, backend):
    cluster.docs["c01"] = CORPUS[0]
    assert backend.get("c01") == CORPUS[0]
    assert backend.get("nope") is None
    assert backend.count() == 1
