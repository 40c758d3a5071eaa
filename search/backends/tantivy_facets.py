"""Multi-select facet counts on tantivy: exact for ordinary queries, sampled for huge ones.

A facet's counts are taken with every filter except the facet's own (multi-select). Facets
that share a scope (all those without selections) are counted in one aggregation, so the
scope's query runs once for all of them.

The terms aggregation costs time in proportion to hits x values. Up to EXACT_LIMIT hits the
counts are exact. Beyond, they are estimated from a uniform sample of the hits (documents
carry a hash bucket, ``sample``; the scope is intersected with enough buckets for about
SAMPLE_TARGET hits and the counts scaled up), and the result says so
(``facets_approximate``). The reasoning and figures are in benchmarks/search.py's output:
exact counting of a 270,000-hit query on 1M clusters took 100-500 ms here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor

import tantivy

from search.backends.tantivy_schema import (
    FACET_INDEX_FIELD,
    KEYED_FACETS,
    SAMPLE,
    SAMPLE_BUCKETS,
    YEAR,
    QueryBuilder,
    facet_key,
)
from search.query import MatchAll, SearchQuery, facet_filters_except, order_buckets

EXACT_LIMIT = 25_000
SAMPLE_TARGET = 12_000
# Top buckets kept per segment before the merge: 10,000 cost ~25 % more on broad queries,
# and a top-20 value outside a segment's top 500 would need a very skewed segment.
AGG_SEGMENT_SIZE = 500

Counts = dict[str, dict]
_SIZE = "_size"  # the aggregation's name for the number of documents it read


class KeyNames:
    """The values behind a keyed facet's integer keys, read from its field's term dictionary.

    Read when an aggregation returns a key not seen before (a commit added a value), at most
    once every REFRESH_S seconds: in between, a facet with an unknown key is counted on its
    text column instead (exact, only slower), so a harvest committing often cannot make every
    search read the whole dictionary. Shared by the threads of one backend.
    """

    REFRESH_S = 30.0

    def __init__(self, field: str) -> None:
        self.field = field
        self._names: dict[int, str] = {}
        self._read_at: float | None = None

    def names(self, searcher: tantivy.Searcher, keys: Iterable[int]) -> dict[int, str] | None:
        """Return key -> value covering ``keys``, or None if a key is not (yet) known."""
        names = self._names
        if all(key in names for key in keys):
            return names
        now = time.monotonic()
        if self._read_at is not None and now - self._read_at < self.REFRESH_S:
            return None
        self._read_at = now
        terms = searcher.terms_with_prefix(self.field, "")
        names = self._names = {facet_key(term): term for term, _count in terms}
        return names if all(key in names for key in keys) else None


class FacetCounter:
    """Count every requested facet of one query; independent counts run on a thread pool."""

    def __init__(
        self,
        searcher: tantivy.Searcher,
        builder: QueryBuilder,
        pool: Executor,
        exact_limit: int = EXACT_LIMIT,
        sample_target: int = SAMPLE_TARGET,
        key_names: Mapping[str, KeyNames] | None = None,
    ) -> None:
        self.searcher = searcher
        self.key_names = key_names or {}
        self.builder = builder
        self.pool = pool
        self.exact_limit = exact_limit
        self.sample_target = sample_target
        self.approximate = False

    def count_all(
        self, query: SearchQuery, text: tantivy.Query, main: tantivy.Query, total: int
    ) -> dict[str, list[tuple[str, int]]]:
        """Return facet -> [(value, count)] for every facet the query asks for."""
        tasks: list[Callable[[], Counts]] = []
        shared = [f for f in query.facets if f not in query.filters]
        if shared and total:
            tasks.append(lambda: self.count_scope(shared, main, total, query))
        own = [f for f in query.facets if f in query.filters]
        bound = self._words_hits(query, text) if own else 0
        for facet in own:  # multi-select: its own scope, without its own filter
            scope = self._scope(query, text, facet)
            tasks.append(lambda f=facet, s=scope: self.count_within([f], s, bound, query))
        # The calling thread takes the first task; the pool (never nesting) takes the rest.
        futures = [self.pool.submit(task) for task in tasks[1:]]
        counts: Counts = {f: {} for f in query.facets}
        for part in ([tasks[0]()] if tasks else []) + [f.result() for f in futures]:
            counts.update(part)
        return {
            f: order_buckets(counts[f], list(query.filters.get(f, ())), query.facet_size)
            for f in query.facets
        }

    def _words_hits(self, query: SearchQuery, text: tantivy.Query) -> int:
        """Return how many documents the reader's words match: every scope lies within them."""
        if isinstance(query.ast, MatchAll):
            return self.searcher.num_docs
        return self.searcher.search(text, 1, count=True).count or 0

    def _scope(self, query: SearchQuery, text: tantivy.Query, facet: str) -> tantivy.Query:
        filters = self.builder.filters(facet_filters_except(query, facet), query)
        return self.builder.combine(text, filters)

    def _sampled(self, scope: tantivy.Query, buckets: int) -> tantivy.Query:
        sample = tantivy.Query.range_query(
            self.builder.schema, SAMPLE, tantivy.FieldType.Integer, 0, buckets - 1
        )
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, sample), (tantivy.Occur.Must, scope)]
        )

    def count_scope(
        self, facets: list[str], scope: tantivy.Query, hits: int, query: SearchQuery
    ) -> Counts:
        """Count facets within a scope of ``hits`` documents: exactly, or from a sample."""
        if hits <= self.exact_limit:
            counts = self._aggregate(facets, scope, query)
            return self._with_missing(counts, scope, query)
        self.approximate = True
        return self._sample(facets, scope, hits, query)[0]

    def count_within(
        self, facets: list[str], scope: tantivy.Query, bound: int, query: SearchQuery
    ) -> Counts:
        """Count facets within a scope known only to hold at most ``bound`` documents.

        No counting search first (it would read the whole scope once more): a sample sized
        for ``bound`` tells the scope's size too, and only a scope that proves small is
        counted again, exactly.
        """
        if bound <= self.exact_limit:
            return self.count_scope(facets, scope, bound, query)
        counts, estimate = self._sample(facets, scope, bound, query)
        if estimate <= self.exact_limit:
            return self.count_scope(facets, scope, estimate, query)
        self.approximate = True
        if estimate * 4 < bound:
            # The sample, sized for the words' hits, read under a quarter of its target from
            # this narrower scope: draw it again, sized for the scope, for steadier counts.
            counts, _ = self._sample(facets, scope, estimate, query)
        return counts

    def _sample(
        self, facets: list[str], scope: tantivy.Query, hits: int, query: SearchQuery
    ) -> tuple[Counts, int]:
        """Return counts scaled up from a sample of about SAMPLE_TARGET of ``hits``, and the
        scope's estimated size."""
        buckets = min(SAMPLE_BUCKETS, max(1, math.ceil(SAMPLE_BUCKETS * self.sample_target / hits)))
        counts = self._aggregate(facets, self._sampled(scope, buckets), query, with_size=True)
        scale = SAMPLE_BUCKETS / buckets
        size = counts.pop(_SIZE)
        scaled = {f: {k: round(v * scale) for k, v in c.items()} for f, c in counts.items()}
        return scaled, round(size["docs"] * scale)

    def _aggregate(
        self, facets: list[str], scope: tantivy.Query, query: SearchQuery, with_size: bool = False
    ) -> Counts:
        """Count several facets in one aggregation: the scope's query runs once for all."""
        spec: dict[str, dict] = {}
        for facet in facets:
            size = 1000 if facet == YEAR else query.facet_size + len(query.filters.get(facet, ()))
            field = FACET_INDEX_FIELD.get(facet, YEAR)
            if facet in self.key_names:
                # Every bucket a segment keeps comes back (integers cost no lookup), so the top
                # values are chosen below by (count, value) as for the other facets.
                field, size = KEYED_FACETS[facet], AGG_SEGMENT_SIZE
            spec[facet] = {
                "terms": {"field": field, "size": size, "segment_size": AGG_SEGMENT_SIZE}
            }
        if with_size:  # every document has one sample bucket: its value count is the size
            spec[_SIZE] = {"value_count": {"field": SAMPLE}}
        result = self.searcher.aggregate(scope, spec)
        counts = {f: {b["key"]: b["doc_count"] for b in result[f]["buckets"]} for f in facets}
        for facet in facets:
            if facet in self.key_names:
                counts[facet] = self._named(facet, counts[facet], scope, query)
        if with_size:
            counts[_SIZE] = {"docs": int(result[_SIZE]["value"] or 0)}
        return counts

    def _named(self, facet: str, counts: dict, scope: tantivy.Query, query: SearchQuery) -> dict:
        """Return a keyed facet's counts by value (the top ones: as many as shown)."""
        names = self.key_names[facet].names(self.searcher, counts)
        if names is None:  # a key of no indexed value: count the values themselves
            return self._aggregate_values(facet, scope, query)
        size = query.facet_size + len(query.filters.get(facet, ()))
        top = sorted(((names[k], c) for k, c in counts.items()), key=lambda vc: (-vc[1], vc[0]))
        return dict(top[:size])

    def _aggregate_values(self, facet: str, scope: tantivy.Query, query: SearchQuery) -> dict:
        size = query.facet_size + len(query.filters.get(facet, ()))
        spec = {facet: {"terms": {"field": FACET_INDEX_FIELD[facet], "size": size,
                                  "segment_size": AGG_SEGMENT_SIZE}}}  # fmt: skip
        result = self.searcher.aggregate(scope, spec)
        return {b["key"]: b["doc_count"] for b in result[facet]["buckets"]}

    def _with_missing(self, counts: Counts, scope: tantivy.Query, query: SearchQuery) -> Counts:
        """Count ticked values the top buckets cut off, so a selection keeps its count."""
        for facet, values in counts.items():
            selected = query.filters.get(facet, ())
            if facet == YEAR or len(values) < query.facet_size + len(selected):
                continue  # nothing was cut off
            field = FACET_INDEX_FIELD[facet]
            values.update(self._missing(field, scope, selected, values))
        return counts

    def _missing(
        self, field: str, scope: tantivy.Query, selected: tuple[str, ...], counts: Mapping
    ) -> dict[str, int]:
        out = {}
        for value in selected:
            if value not in counts:
                term = tantivy.Query.term_query(self.builder.schema, field, value)
                both = tantivy.Query.boolean_query(
                    [(tantivy.Occur.Must, scope), (tantivy.Occur.Must, term)]
                )
                out[value] = self.searcher.search(both, 1, count=True).count or 0
        return out
