"""A per-process LRU of search results, keyed by the query and the index generation.

Like Solr's queryResultCache: the same search asked again (a popular query, a reader going
back to page 1) is answered without reading the index. A key holds the index generation, so a
commit or a rebuild makes every older entry unreachable: nothing stale is served, and old
entries age out of the LRU.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from search.query import SearchQuery


def query_key(query: SearchQuery) -> tuple:
    """Return what decides a query's result: its parsed words (not their spelling), filters,
    ranges, facets, sort, where the page starts and highlighting.

    The offset, not only the page: a subclass (SRU's) may start anywhere; and the class, in
    case another one reads its fields differently.
    """
    filters = tuple(sorted((name, tuple(values)) for name, values in query.filters.items()))
    return (
        type(query),
        query.ast,
        query.offset,
        filters,
        query.year_from,
        query.year_to,
        tuple(query.facets),
        query.sort,
        query.page,
        query.page_size,
        query.highlight,
        query.facet_size,
    )


def counts_key(query: SearchQuery) -> tuple:
    """Return what decides a query's total and facet counts: ``query_key`` without the page,
    its size, the sort and highlighting, so page 2 and a re-sort reuse the first page's counts.
    """
    filters = tuple(sorted((name, tuple(values)) for name, values in query.filters.items()))
    return (
        type(query),
        query.ast,
        filters,
        query.year_from,
        query.year_to,
        tuple(query.facets),
        query.facet_size,
    )


class ResultCache:
    """A thread-safe LRU of at most ``size`` entries (0: nothing is kept)."""

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError(f"the result cache size must be 0 or more, got {size}")
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        """Return the entry of ``key`` (now the most recently used), or None."""
        if not self.size:
            return None
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: Hashable, value: Any) -> None:
        """Keep ``value`` under ``key``, dropping the least recently used entry if full."""
        if not self.size:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def stats(self) -> dict[str, int]:
        """Return the entries kept and the hits and misses so far."""
        with self._lock:
            return {"entries": len(self._entries), "hits": self.hits, "misses": self.misses}
