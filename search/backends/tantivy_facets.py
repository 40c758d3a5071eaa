"""Exact multi-select facet counts on tantivy, by the cheaper of two strategies.

A facet's counts are taken with every filter except the facet's own (multi-select). Two
exact ways to count, whose cost differs by orders of magnitude with the number of hits:

* the terms aggregation walks the hits and their values: cost grows with hits x values;
* ``terms_with_prefix`` with a filter walks every posting list of the facet field against
  the query's hits: cost grows with the field's total postings and distinct values, whatever
  the hits.

Small result sets take the aggregation; broad ones (a common word, browsing) the posting
walk. The crossover comes from measurements in benchmarks/search.py on this machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass

import tantivy

from search.backends.tantivy_schema import FACET_INDEX_FIELD, YEAR, QueryBuilder
from search.query import SearchQuery, facet_filters_except, order_buckets

# Measured costs (nanoseconds) of one aggregated value, one walked posting, one walked term.
AGG_NS_PER_VALUE = 60.0
WALK_NS_PER_POSTING = 7.0
WALK_NS_PER_TERM = 3000.0
AGG_SEGMENT_SIZE = 10_000


@dataclass(frozen=True)
class FieldStats:
    postings: int
    terms: int
    docs: int

    def cheaper_to_walk(self, hits: int) -> bool:
        per_doc = self.postings / max(self.docs, 1)
        aggregate = hits * per_doc * AGG_NS_PER_VALUE
        walk = self.postings * WALK_NS_PER_POSTING + self.terms * WALK_NS_PER_TERM
        return walk < aggregate


_STATS: dict[tuple[int, int, str], FieldStats] = {}


def field_stats(searcher: tantivy.Searcher, field: str) -> FieldStats:
    """Return the postings and term counts of a facet field (cached per index state)."""
    key = (searcher.num_docs, searcher.num_segments, field)
    stats = _STATS.get(key)
    if stats is None:
        terms = searcher.terms_with_prefix(field, "")
        stats = FieldStats(sum(c for _, c in terms), len(terms), searcher.num_docs)
        if len(_STATS) > 256:
            _STATS.clear()
        _STATS[key] = stats
    return stats


class FacetCounter:
    """Count every requested facet of one query; independent counts run on a thread pool."""

    def __init__(self, searcher: tantivy.Searcher, builder: QueryBuilder, pool: Executor) -> None:
        self.searcher = searcher
        self.builder = builder
        self.pool = pool

    def count_all(
        self, query: SearchQuery, text: tantivy.Query, main: tantivy.Query, total: int
    ) -> dict[str, list[tuple[str, int]]]:
        """Return facet -> [(value, count)] for every facet the query asks for."""
        tasks = []
        for facet in query.facets:
            if facet in query.filters:
                tasks.append((facet, self._scope(query, text, facet), None))
            else:
                tasks.append((facet, main, total))
        # The calling thread takes the first facet; the pool (never nesting) takes the rest.
        futures = [self.pool.submit(self.count_one, *task, query) for task in tasks[1:]]
        results = [self.count_one(*tasks[0], query)] if tasks else []
        results += [f.result() for f in futures]
        return {task[0]: counts for task, counts in zip(tasks, results, strict=True)}

    def _scope(self, query: SearchQuery, text: tantivy.Query, facet: str) -> tantivy.Query:
        filters = self.builder.filters(facet_filters_except(query, facet), query)
        return self.builder.combine(text, filters)

    def count_one(
        self, facet: str, scope: tantivy.Query, hits: int | None, query: SearchQuery
    ) -> list[tuple[str, int]]:
        """Return the top values of one facet within ``scope``."""
        selected = list(query.filters.get(facet, ()))
        if facet == YEAR:
            counts = self._aggregate(YEAR, scope, 1000)
            return order_buckets(counts, selected, query.facet_size)
        field = FACET_INDEX_FIELD[facet]
        if hits is None:
            hits = self.searcher.search(scope, 1, count=True).count or 0
        if hits and field_stats(self.searcher, field).cheaper_to_walk(hits):
            counts = dict(self.searcher.terms_with_prefix(field, "", filter_query=scope))
        else:
            counts = self._aggregate(field, scope, query.facet_size + len(selected))
            counts.update(self._missing(field, scope, selected, counts))
        return order_buckets(counts, selected, query.facet_size)

    def _aggregate(self, field: str, scope: tantivy.Query, size: int) -> dict:
        spec = {"terms": {"field": field, "size": size, "segment_size": AGG_SEGMENT_SIZE}}
        result = self.searcher.aggregate(scope, {"f": spec})
        return {b["key"]: b["doc_count"] for b in result["f"]["buckets"]}

    def _missing(
        self, field: str, scope: tantivy.Query, selected: list[str], counts: Mapping
    ) -> dict[str, int]:
        """Count selected values the top buckets left out, so a ticked box keeps its count."""
        out = {}
        for value in selected:
            if value not in counts:
                term = tantivy.Query.term_query(self.builder.schema, field, value)
                both = tantivy.Query.boolean_query(
                    [(tantivy.Occur.Must, scope), (tantivy.Occur.Must, term)]
                )
                out[value] = self.searcher.search(both, 1, count=True).count or 0
        return out
