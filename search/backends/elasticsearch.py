"""The Elasticsearch 8.x/9.x backend, through the official client and its bulk helpers.

Readers always search the alias (default ``federation-clusters``). A full rebuild writes a new
index (``<alias>-<time>-<random>``), refreshes it, moves the alias in one atomic
``_aliases`` call, then deletes the old index, so search never goes down. An index named
``<alias>-rebuild-lock`` exists while a rebuild runs: creating it is the lock.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError, helpers

from search.backends import es_dsl
from search.documents import ClusterDoc
from search.interfaces import Progress, RebuildInProgress, SearchBackendError
from search.query import (
    Hit,
    SearchQuery,
    SearchResult,
    highlight_doc,
    order_buckets,
    positive_texts,
)

DEFAULT_ALIAS = "federation-clusters"
CHUNK_SIZE = 500


class ElasticsearchBackend:
    """SearchBackend on an Elasticsearch cluster, searched through an alias."""

    def __init__(
        self,
        url: str,
        alias: str = DEFAULT_ALIAS,
        replicas: int = 1,
        client: Elasticsearch | None = None,
        request_timeout: float = 30.0,
    ) -> None:
        self.alias = alias
        self.replicas = replicas
        self.client = client or Elasticsearch(url, request_timeout=request_timeout)
        self._alias_checked = False

    # --- index management ---------------------------------------------------------------

    def _new_index_name(self) -> str:
        return f"{self.alias}-{time.strftime('%Y%m%dt%H%M%S')}-{uuid.uuid4().hex[:8]}"

    def _create_index(self, name: str, building: bool) -> None:
        self.client.indices.create(
            index=name,
            settings=es_dsl.index_settings(self.replicas, building),
            mappings=es_dsl.mappings(),
        )

    def _ensure_alias(self) -> None:
        """Create the first index and its alias when the cluster has none yet."""
        if self._alias_checked:
            return
        with _errors("check the search alias"):
            if not self.client.indices.exists_alias(name=self.alias):
                name = self._new_index_name()
                self._create_index(name, building=False)
                self.client.indices.update_aliases(
                    actions=[{"add": {"index": name, "alias": self.alias}}]
                )
        self._alias_checked = True

    # --- writes -------------------------------------------------------------------------

    def index_documents(self, docs: Iterable[ClusterDoc]) -> int:
        """Add or replace documents; visible after commit()."""
        self._ensure_alias()
        return self._bulk(self.alias, docs)

    def _bulk(
        self, index: str, docs: Iterable[ClusterDoc], progress: Progress | None = None
    ) -> int:
        actions = (
            {"_index": index, "_id": doc["cluster_id"], "_source": es_dsl.es_document(doc)}
            for doc in docs
        )
        sent = 0
        with _errors("index documents"):
            for ok, item in helpers.streaming_bulk(
                self.client, actions, chunk_size=CHUNK_SIZE, raise_on_error=False, max_retries=3
            ):
                if not ok:
                    raise SearchBackendError(f"Elasticsearch refused a document: {item}")
                sent += 1
                if progress and sent % 10_000 == 0:
                    progress(sent)
        return sent

    def delete_documents(self, cluster_ids: Iterable[str]) -> int:
        """Remove documents by cluster id (ids not in the index are fine)."""
        self._ensure_alias()
        actions = ({"_op_type": "delete", "_index": self.alias, "_id": i} for i in cluster_ids)
        sent = 0
        with _errors("delete documents"):
            for ok, item in helpers.streaming_bulk(
                self.client,
                actions,
                chunk_size=CHUNK_SIZE,
                raise_on_error=False,
                ignore_status=(404,),
            ):
                # ignore_status only keeps the helper from raising; a 404 is still "not ok".
                if not ok and item.get("delete", {}).get("status") != 404:
                    raise SearchBackendError(f"Elasticsearch refused a deletion: {item}")
                sent += 1
        return sent

    def commit(self) -> None:
        """Refresh the index so every write so far is searchable."""
        self._ensure_alias()
        with _errors("refresh the index"):
            self.client.indices.refresh(index=self.alias)

    def rebuild(self, docs: Iterable[ClusterDoc], progress: Progress | None = None) -> int:
        """Write a new index and move the alias to it atomically; delete the old one."""
        lock = f"{self.alias}-rebuild-lock"
        with _errors("take the rebuild lock"):
            try:
                self.client.indices.create(index=lock, settings={"number_of_replicas": 0})
            except ApiError as exc:
                if _error_type(exc) == "resource_already_exists_exception":
                    raise RebuildInProgress(
                        f"another rebuild is running (index {lock} exists; delete it if "
                        "that rebuild died)"
                    ) from exc
                raise
        try:
            return self._rebuild_locked(docs, progress)
        finally:
            with _errors("release the rebuild lock"):
                self.client.indices.delete(index=lock)

    def _rebuild_locked(self, docs: Iterable[ClusterDoc], progress: Progress | None) -> int:
        name = self._new_index_name()
        with _errors("create the new index"):
            self._create_index(name, building=True)
        try:
            written = self._bulk(name, docs, progress)
            with _errors("finish the new index"):
                live = es_dsl.index_settings(self.replicas)
                self.client.indices.put_settings(
                    index=name,
                    settings={k: live[k] for k in ("number_of_replicas", "refresh_interval")},
                )
                self.client.indices.refresh(index=name)
        except BaseException:
            self.client.indices.delete(index=name, ignore_unavailable=True)
            raise
        with _errors("swap the alias"):
            old = self._aliased_indices()
            actions: list[dict[str, Any]] = [
                {"remove": {"index": index, "alias": self.alias}} for index in old
            ]
            actions.append({"add": {"index": name, "alias": self.alias}})
            self.client.indices.update_aliases(actions=actions)
            for index in old:
                self.client.indices.delete(index=index)
        self._alias_checked = True
        if progress:
            progress(written)
        return written

    def _aliased_indices(self) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self.alias).body)
        except NotFoundError:
            return []

    # --- reads --------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        """Answer one query in one _search request."""
        started = time.perf_counter()
        body = es_dsl.search_body(query)
        try:
            response = self.client.search(index=self.alias, body=body).body
        except NotFoundError:
            return SearchResult(0, [], {f: [] for f in query.facets}, 0.0)
        except (ApiError, TransportError) as exc:
            raise SearchBackendError(f"Elasticsearch could not search: {exc}") from exc
        needles = positive_texts(query.ast) if query.highlight else []
        hits = [self._hit(h, query, needles) for h in response["hits"]["hits"]]
        facets = {
            facet: order_buckets(
                {
                    b["key"]: b["doc_count"]
                    for b in response["aggregations"][facet]["values"]["buckets"]
                },
                list(query.filters.get(facet, ())),
                query.facet_size,
            )
            for facet in query.facets
        }
        took = (time.perf_counter() - started) * 1000
        return SearchResult(response["hits"]["total"]["value"], hits, facets, round(took, 3))

    @staticmethod
    def _hit(raw: dict[str, Any], query: SearchQuery, needles: list[str]) -> Hit:
        doc = raw["_source"]
        score = raw.get("_score") if query.sort == "relevance" else None
        marks = highlight_doc(doc, needles) if needles else {}
        return Hit(doc["cluster_id"], score, doc, marks)

    def get(self, cluster_id: str) -> ClusterDoc | None:
        """Return one document by cluster id, or None."""
        try:
            return self.client.get(index=self.alias, id=cluster_id).body["_source"]
        except NotFoundError:
            return None
        except (ApiError, TransportError) as exc:
            raise SearchBackendError(f"Elasticsearch could not fetch {cluster_id}: {exc}") from exc

    def count(self) -> int:
        """Return the number of searchable documents."""
        try:
            return int(self.client.count(index=self.alias).body["count"])
        except NotFoundError:
            return 0
        except (ApiError, TransportError) as exc:
            raise SearchBackendError(f"Elasticsearch could not count: {exc}") from exc

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()


def _error_type(exc: ApiError) -> str | None:
    info = exc.info if isinstance(exc.info, dict) else {}
    return (info.get("error") or {}).get("type") if isinstance(info.get("error"), dict) else None


class _errors:
    """Turn client errors into SearchBackendError naming what we were doing."""

    def __init__(self, doing: str) -> None:
        self.doing = doing

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: Any) -> bool:
        if isinstance(exc, (ApiError, TransportError, helpers.BulkIndexError)):
            raise SearchBackendError(f"Elasticsearch: cannot {self.doing}: {exc}") from exc
        return False
