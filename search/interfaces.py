"""The interface every search engine implements (tantivy embedded, Elasticsearch at scale)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

from search.documents import ClusterDoc
from search.query import SearchQuery, SearchResult

Progress = Callable[[int], None]  # called with the number of documents written so far


class SearchBackendError(Exception):
    """The search engine failed or cannot be reached; the message says what to check."""


class RebuildInProgress(SearchBackendError):
    """Another full rebuild of the index is running; wait for it to finish."""


@runtime_checkable
class SearchBackend(Protocol):
    """One unified index of cluster documents; writes become visible at ``commit``."""

    def index_documents(self, docs: Iterable[ClusterDoc]) -> int:
        """Add or replace documents (keyed by cluster_id); return how many were sent."""
        ...

    def delete_documents(self, cluster_ids: Iterable[str]) -> int:
        """Remove documents by cluster id; return how many ids were sent."""
        ...

    def commit(self) -> None:
        """Make every write so far durable and visible to searches."""
        ...

    def search(self, query: SearchQuery) -> SearchResult:
        """Answer one query: a page of hits, the total, facet counts."""
        ...

    def get(self, cluster_id: str) -> ClusterDoc | None:
        """Return one document by cluster id, or None."""
        ...

    def count(self) -> int:
        """Return the number of searchable documents."""
        ...

    def rebuild(self, docs: Iterable[ClusterDoc], progress: Progress | None = None) -> int:
        """Write a new index from ``docs`` and swap it in atomically; return documents written."""
        ...

    def close(self) -> None:
        """Release files, locks and connections."""
        ...
