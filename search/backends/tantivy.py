"""The embedded search backend: a tantivy index folder inside the instance.

Layout of ``<instance>/search/tantivy``: ``indexes/<name>/`` holds index generations;
``CURRENT`` names the live one. A rebuild writes a new generation and then replaces
``CURRENT`` atomically, so readers (other processes too) never see a half-built index.
"""

from __future__ import annotations

import dataclasses
import fcntl
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import tantivy

from search.backends.tantivy_build import PARALLEL_MIN_DOCS, write_all
from search.backends.tantivy_facets import EXACT_LIMIT, SAMPLE_TARGET, FacetCounter, KeyNames
from search.backends.tantivy_schema import (
    FACET_INDEX_FIELD,
    KEYED_FACETS,
    QueryBuilder,
    build_schema,
    index_document,
    register_tokenizers,
)
from search.documents import ClusterDoc
from search.interfaces import Progress, RebuildInProgress, SearchBackendError
from search.query import (
    Hit,
    SearchQuery,
    SearchResult,
    highlight_doc,
    positive_texts,
)
from search.result_cache import ResultCache, counts_key, query_key

log = logging.getLogger(__name__)

INCREMENTAL_HEAP = 128_000_000
REBUILD_HEAP = 1_000_000_000


class TantivyBackend:
    """SearchBackend on an embedded tantivy index (the default)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        rebuild_threads: int = 0,
        rebuild_workers: int = 0,
        parallel_rebuild_min: int = PARALLEL_MIN_DOCS,
        facet_exact_limit: int = EXACT_LIMIT,
        facet_sample_target: int = SAMPLE_TARGET,
        result_cache_size: int = 0,
    ) -> None:
        self.root = Path(path)
        # Results of recent searches, per process; keys hold the index generation.
        self.results = ResultCache(result_cache_size)
        # Totals and facet counts of recent searches: page 2 and a re-sort of a search reuse
        # its first page's counts (the facets cost most of a search). Same keys' generation.
        self.counts = ResultCache(result_cache_size)
        self._meta_seen: int | None = None
        self.facet_limits = (facet_exact_limit, facet_sample_target)
        self.rebuild_threads = rebuild_threads or min(4, os.cpu_count() or 1)
        # A rebuild of at least parallel_rebuild_min documents is written by this many
        # processes (see search.backends.tantivy_build); 1 keeps every rebuild in-process.
        self.rebuild_workers = rebuild_workers or min(4, os.cpu_count() or 1)
        self.parallel_rebuild_min = parallel_rebuild_min
        self.schema = build_schema()
        self.builder = QueryBuilder(self.schema)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="facets")
        self._key_names = {f: KeyNames(FACET_INDEX_FIELD[f]) for f in KEYED_FACETS}
        self._index: tantivy.Index | None = None
        self._current: tuple[str, int] | None = None
        self._writer: tantivy.IndexWriter | None = None

    # --- files --------------------------------------------------------------------------

    @property
    def _pointer(self) -> Path:
        return self.root / "CURRENT"

    def _read_pointer(self) -> tuple[str, int] | None:
        try:
            stat = self._pointer.stat()
            return self._pointer.read_text(encoding="utf-8").strip(), stat.st_mtime_ns
        except FileNotFoundError:
            return None

    def _open_index(self, name: str) -> tantivy.Index:
        folder = self.root / "indexes" / name
        try:
            index = tantivy.Index(self.schema, path=str(folder), reuse=True)
        except ValueError as exc:
            if "schema does not match" in str(exc):  # written by an older layout of the index
                raise SearchBackendError(
                    f"the search index in {folder} was built by another version of the "
                    "platform: run `federation index rebuild`"
                ) from exc
            raise SearchBackendError(
                f"cannot open the search index in {folder} ({exc}); rebuild it"
            ) from exc
        register_tokenizers(index)
        return index

    def _new_generation(self) -> tuple[str, tantivy.Index]:
        name = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        folder = self.root / "indexes" / name
        folder.mkdir(parents=True)
        index = tantivy.Index(self.schema, path=str(folder), reuse=False)
        register_tokenizers(index)
        return name, index

    def _publish(self, name: str) -> None:
        """Point CURRENT at generation ``name`` atomically."""
        tmp = self.root / f"CURRENT.{uuid.uuid4().hex}.tmp"
        tmp.write_text(name + "\n", encoding="utf-8")
        os.replace(tmp, self._pointer)
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _lock(self, name: str) -> Callable[[], None] | None:
        """Take an exclusive lock file without waiting; return its release, or None if held."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / name, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return lambda: (fcntl.flock(fd, fcntl.LOCK_UN), os.close(fd))

    def index(self) -> tantivy.Index:
        """Return the live index, reopening it when a rebuild swapped CURRENT."""
        pointer = self._read_pointer()
        if pointer is None:
            pointer = self._create_first()
        if self._index is None or pointer != self._current:
            self._drop_writer()
            self._index = self._open_index(pointer[0])
            self._current = pointer
        return self._index

    def _create_first(self) -> tuple[str, int]:
        release = self._lock("rebuild.lock")
        if release is None:
            raise RebuildInProgress("the search index is being built; try again shortly")
        try:
            pointer = self._read_pointer()
            if pointer is None:
                name, _ = self._new_generation()
                self._publish(name)
                pointer = self._read_pointer()
            assert pointer is not None
            return pointer
        finally:
            release()

    # --- writes -------------------------------------------------------------------------

    def _get_writer(self) -> tantivy.IndexWriter:
        index = self.index()
        if self._writer is None:
            try:
                self._writer = index.writer(INCREMENTAL_HEAP, 1)
            except ValueError as exc:
                raise SearchBackendError(
                    f"another process is writing to the search index ({exc})"
                ) from exc
        return self._writer

    def _drop_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is None:
            return
        try:
            writer.rollback()
        except (ValueError, OSError) as exc:  # at exit the index folder may be gone already
            log.debug("search index writer not rolled back: %s", exc)

    def index_documents(self, docs: Iterable[ClusterDoc]) -> int:
        """Add or replace documents; visible after commit()."""
        writer = self._get_writer()
        sent = 0
        for doc in docs:
            writer.delete_documents_by_term("cluster_id", doc["cluster_id"])
            writer.add_document(index_document(doc, self.schema))
            sent += 1
        return sent

    def delete_documents(self, cluster_ids: Iterable[str]) -> int:
        """Remove documents by cluster id; visible after commit()."""
        writer = self._get_writer()
        sent = 0
        for cluster_id in cluster_ids:
            writer.delete_documents_by_term("cluster_id", cluster_id)
            sent += 1
        return sent

    def commit(self) -> None:
        """Make writes durable and visible."""
        if self._writer is not None:
            self._writer.commit()
        self.index().reload()

    def rebuild(self, docs: Iterable[ClusterDoc], progress: Progress | None = None) -> int:
        """Build a new generation from ``docs`` and swap it in; a second rebuild is refused."""
        release = self._lock("rebuild.lock")
        if release is None:
            raise RebuildInProgress("another rebuild of the search index is running")
        try:
            name, index = self._new_generation()
            written = write_all(
                self.root / "indexes" / name,
                index,
                self.schema,
                docs,
                threads=self.rebuild_threads,
                workers=self.rebuild_workers,
                heap=REBUILD_HEAP,
                progress=progress,
                parallel_min=self.parallel_rebuild_min,
            )
            self._drop_writer()
            self._publish(name)
            self.index()
            self._remove_old_generations(keep=name)
            return written
        finally:
            release()

    def _remove_old_generations(self, keep: str) -> None:
        # Readers in other processes keep their open files (POSIX unlink semantics).
        for folder in (self.root / "indexes").iterdir():
            if folder.name != keep:
                shutil.rmtree(folder, ignore_errors=True)

    # --- reads --------------------------------------------------------------------------

    def generation(self) -> tuple:
        """Return what names the searchable state: the index generation and its last commit.

        When another process (or this one) committed since the last call, the reader is
        reloaded first, so a search that follows sees at least the state this names.
        """
        index = self.index()
        current = self._current
        try:
            # Every commit rewrites meta.json with a higher opstamp: its bytes name the
            # commit (its inode and mtime need not change between two quick commits).
            meta = hash((self.root / "indexes" / current[0] / "meta.json").read_bytes())
        except FileNotFoundError:  # a rebuild removed this generation meanwhile
            meta = 0
        if meta != self._meta_seen:
            index.reload()
            self._meta_seen = meta
        return (current, meta)

    def search(self, query: SearchQuery) -> SearchResult:
        """Answer one query: a page of hits, the total and the facet counts.

        A query answered before against the same index generation comes from the result
        cache (when it has room); its ``took_ms`` is the time of this call.
        """
        started = time.perf_counter()
        if not self.results.size:
            return self._search(query, started, None)
        generation = self.generation()
        key = (generation, query_key(query))
        try:
            hash(key)
        except TypeError:  # a query tree of unhashable parts (none of ours): not cached
            return self._search(query, started, None)
        found = self.results.get(key)
        if found is not None:
            took = round((time.perf_counter() - started) * 1000, 3)
            return dataclasses.replace(found, took_ms=took)
        result = self._search(query, started, (generation, counts_key(query)))
        self.results.put(key, result)
        return result

    def _search(self, query: SearchQuery, started: float, counts_at: tuple | None) -> SearchResult:
        """Search the index; with ``counts_at`` (a key of the counts cache), a total and facet
        counts kept for the same words and filters are reused and only the page is read."""
        searcher = self.index().searcher()
        text = self.builder.text_query(query.ast)
        main = self.builder.combine(text, self.builder.filters(query.filters, query))
        kept = self.counts.get(counts_at) if counts_at is not None and query.facets else None
        if kept is not None:
            total, facets, approximate = kept
            _, hits = self._hits(searcher, main, query, count=False)
        else:
            total, hits = self._hits(searcher, main, query)
            counter = FacetCounter(
                searcher, self.builder, self._pool, *self.facet_limits, key_names=self._key_names
            )
            facets = counter.count_all(query, text, main, total) if query.facets else {}
            approximate = counter.approximate
            if counts_at is not None and query.facets:
                self.counts.put(counts_at, (total, facets, approximate))
        took = round((time.perf_counter() - started) * 1000, 3)
        return SearchResult(total, hits, facets, took, facets_approximate=approximate)

    def _hits(
        self,
        searcher: tantivy.Searcher,
        main: tantivy.Query,
        query: SearchQuery,
        count: bool = True,
    ) -> tuple[int, list[Hit]]:
        order = {
            "year_desc": ("year", tantivy.Order.Desc),
            "year_asc": ("year", tantivy.Order.Asc),
            "title": ("title_sort", tantivy.Order.Asc),
        }.get(query.sort)
        kwargs = {"order_by_field": order[0], "order": order[1]} if order else {}
        result = searcher.search(main, query.page_size, count=count, offset=query.offset, **kwargs)
        needles = positive_texts(query.ast) if query.highlight else []
        hits = []
        for value, address in result.hits:
            doc = orjson.loads(searcher.doc(address).get_first("doc"))
            score = float(value) if not order else None
            marks = highlight_doc(doc, needles) if needles else {}
            hits.append(Hit(doc["cluster_id"], score, doc, marks))
        return result.count or 0, hits

    def get(self, cluster_id: str) -> ClusterDoc | None:
        """Return one document by cluster id, or None."""
        searcher = self.index().searcher()
        query = tantivy.Query.term_query(self.schema, "cluster_id", cluster_id)
        result = searcher.search(query, 1)
        if not result.hits:
            return None
        return orjson.loads(searcher.doc(result.hits[0][1]).get_first("doc"))

    def count(self) -> int:
        """Return the number of searchable documents."""
        return self.index().searcher().num_docs

    def close(self) -> None:
        """Commit nothing, release the writer lock and threads."""
        self._drop_writer()
        self._pool.shutdown(wait=True)
        self._index = None
