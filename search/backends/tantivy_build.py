"""Writing a whole index generation (a rebuild): in this process, or over worker processes.

Turning a cluster document into tantivy's fields is Python (~20 µs a document, under the
GIL), and tantivy's own indexing threads need about as much again. In one process that one
Python thread is the serial part of a rebuild: on two cores it bounded the build at ~25,000
documents/s whatever tantivy's thread count. A big rebuild therefore sends the documents,
serialised once by orjson (their stored form anyway), to worker processes; each prepares its
share and writes its own part index with one writer thread. Documents go to a worker by their
cluster id, so a repeated id still replaces the earlier document within that worker.

Tantivy segments are self-contained files named by the segment's id: the parts are joined into
the generation's folder by moving those files and listing every part's segments in one
meta.json. Nothing is indexed twice, and the generation is opened and counted before it is
published.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import queue
import shutil
import zlib
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import tantivy

from search.backends.tantivy_schema import build_schema, index_document, register_tokenizers
from search.documents import ClusterDoc
from search.interfaces import Progress, SearchBackendError

# Below this many documents a rebuild stays in this process: starting two workers costs
# ~0.3 s of CPU and ~0.5 s before the first document is indexed, about what splitting
# 20,000 documents over two cores saves (one process indexes ~25,000 documents/s).
PARALLEL_MIN_DOCS = 20_000
BATCH_DOCS = 256  # documents per message to a worker
QUEUE_BATCHES = 8  # messages waiting per worker: memory stays flat when workers lag
POLL_S = 1.0  # how often a blocked send or wait looks whether a worker failed


def write_all(
    folder: Path,
    index: tantivy.Index,
    schema: tantivy.Schema,
    docs: Iterable[ClusterDoc],
    *,
    threads: int,
    workers: int,
    heap: int,
    progress: Progress | None,
    parallel_min: int = PARALLEL_MIN_DOCS,
) -> int:
    """Write every document into the fresh index in ``folder`` and commit; return how many."""
    docs = iter(docs)
    head = list(itertools.islice(docs, parallel_min))
    if workers < 2 or len(head) < parallel_min:
        return write_here(index, schema, itertools.chain(head, docs), threads, heap, progress)
    return write_in_workers(folder, schema, itertools.chain(head, docs), workers, heap, progress)


def write_here(
    index: tantivy.Index,
    schema: tantivy.Schema,
    docs: Iterable[ClusterDoc],
    threads: int,
    heap: int,
    progress: Progress | None,
) -> int:
    """Write every document from this process (small rebuilds)."""
    writer = index.writer(heap, threads)
    seen: set[str] = set()
    written = 0
    for doc in docs:
        _add(writer, schema, doc, seen)
        written += 1
        if progress and written % 10_000 == 0:
            progress(written)
    writer.commit()
    writer.wait_merging_threads()
    if progress:
        progress(written)
    return written


def _add(
    writer: tantivy.IndexWriter,
    schema: tantivy.Schema,
    doc: ClusterDoc,
    seen: set[str],
    stored: bytes | None = None,
) -> None:
    """Add one document; a repeated cluster id replaces the earlier document."""
    cluster_id = doc["cluster_id"]
    if cluster_id in seen:
        writer.delete_documents_by_term("cluster_id", cluster_id)
    seen.add(cluster_id)
    writer.add_document(index_document(doc, schema, stored))


@dataclass
class _Worker:
    process: Any  # multiprocessing's SpawnProcess
    queue: Any  # multiprocessing Queue of document batches (None ends the part)
    folder: Path


def write_in_workers(
    folder: Path,
    schema: tantivy.Schema,
    docs: Iterator[ClusterDoc],
    workers: int,
    heap: int,
    progress: Progress | None,
) -> int:
    """Write every document through ``workers`` processes, then join their parts."""
    # spawn, not fork: the caller may run threads (web server, tantivy's own) that a fork
    # would copy in whatever state they were in.
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    pool: list[_Worker] = []
    try:
        for number in range(workers):
            part = folder / f"part-{number}"
            batches = ctx.Queue(maxsize=QUEUE_BATCHES)
            process = ctx.Process(
                target=_write_part,
                args=(str(part), heap // workers, batches, results, number),
                name=f"index-part-{number}",
                daemon=True,
            )
            process.start()
            pool.append(_Worker(process, batches, part))
        pending: list[list[bytes]] = [[] for _ in pool]
        written = 0
        for doc in docs:
            cluster_id = doc["cluster_id"]
            number = zlib.crc32(cluster_id.encode()) % workers
            batch = pending[number]
            batch.append(orjson.dumps(doc))
            if len(batch) == BATCH_DOCS:
                _send(pool, number, batch, results)
                pending[number] = []
            written += 1
            if progress and written % 10_000 == 0:
                progress(written)
        for number, batch in enumerate(pending):
            if batch:
                _send(pool, number, batch, results)
            _send(pool, number, None, results)
        distinct = _wait_done(pool, results)
        for worker in pool:
            worker.process.join()
        join_parts(folder, [worker.folder for worker in pool])
        _check_count(folder, schema, distinct)
        if progress:
            progress(written)
        return written
    finally:
        for worker in pool:
            if worker.process.is_alive():  # only after a failure: stop our own workers
                worker.process.kill()
            worker.process.join()
            worker.queue.cancel_join_thread()
            worker.queue.close()
        results.close()


def _send(pool: list[_Worker], number: int, batch: list[bytes] | None, results: Any) -> None:
    """Queue a batch for one worker, waiting while its queue is full; raise if a worker failed."""
    while True:
        try:
            pool[number].queue.put(batch, timeout=POLL_S)
            return
        except queue.Full:
            _raise_on_failure(pool, results)


def _raise_on_failure(pool: list[_Worker], results: Any) -> None:
    try:
        kind, number, detail = results.get_nowait()
    except queue.Empty:
        kind = None
    if kind == "error":
        raise SearchBackendError(f"indexing worker {number} failed: {detail}")
    if kind is not None:  # a worker finished early: cannot happen before its end marker
        raise SearchBackendError(f"indexing worker {number} ended before its last document")
    _raise_if_stopped(pool)


def _raise_if_stopped(pool: list[_Worker], done: Container[int] = ()) -> None:
    """Raise if a worker not yet ``done`` has exited."""
    for number, worker in enumerate(pool):
        if number not in done and not worker.process.is_alive():
            raise SearchBackendError(
                f"indexing worker {number} stopped (exit code {worker.process.exitcode})"
            )


def _wait_done(pool: list[_Worker], results: Any) -> int:
    """Wait for every worker's commit; return the number of distinct documents they hold."""
    done: dict[int, int] = {}
    while len(done) < len(pool):
        try:
            kind, number, detail = results.get(timeout=POLL_S)
        except queue.Empty:
            kind = None
        if kind is None:
            _raise_if_stopped(pool, done)
            continue
        if kind == "error":
            raise SearchBackendError(f"indexing worker {number} failed: {detail}")
        done[number] = detail
    return sum(done.values())


def _write_part(folder: str, heap: int, batches: Any, results: Any, number: int) -> None:
    """Worker process: index the batches it is sent into a part index, commit, report."""
    try:
        schema = build_schema()
        os.mkdir(folder)
        index = tantivy.Index(schema, path=folder, reuse=False)
        register_tokenizers(index)
        writer = index.writer(heap, 1)
        seen: set[str] = set()
        while (batch := _next_batch(batches)) is not None:
            for stored in batch:
                _add(writer, schema, orjson.loads(stored), seen, stored)
        writer.commit()
        writer.wait_merging_threads()
        results.put(("done", number, len(seen)))
    except BaseException as exc:  # reported to the parent, which raises it
        results.put(("error", number, f"{type(exc).__name__}: {exc}"))


def _next_batch(batches: Any) -> list[bytes] | None:
    """Return the next batch; leave (SystemExit) if the rebuilding process is gone."""
    # The queue's pipe stays open in this process too, so a killed parent gives no EOF:
    # without this look, a worker would wait for ever holding its writer's memory.
    parent = multiprocessing.parent_process()
    while True:
        try:
            return batches.get(timeout=POLL_S)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                raise SystemExit(1) from None


def join_parts(folder: Path, parts: list[Path]) -> None:
    """Move the segments of the part indexes into the index in ``folder`` (no segments yet)."""
    meta = json.loads((folder / "meta.json").read_bytes())
    managed = json.loads((folder / ".managed.json").read_bytes())
    segments = []
    for part in parts:
        part_meta = json.loads((part / "meta.json").read_bytes())
        if part_meta["schema"] != meta["schema"]:
            raise SearchBackendError(f"the part index in {part} has another schema")
        live = {segment["segment_id"].replace("-", "") for segment in part_meta["segments"]}
        for path in sorted(part.iterdir()):
            # <segment id>.<ext>, and <segment id>.<opstamp>.del for a segment with deletes
            if path.name.split(".")[0] in live:
                os.replace(path, folder / path.name)
                managed.append(path.name)
        segments += part_meta["segments"]
        meta["opstamp"] = max(meta["opstamp"], part_meta["opstamp"])
    meta["segments"] = segments
    # .managed.json first: tantivy only ever deletes files it lists there, so segment files
    # listed before meta.json names them can at worst be collected later, never lost.
    _replace_json(folder / ".managed.json", managed)
    _replace_json(folder / "meta.json", meta)
    for part in parts:
        shutil.rmtree(part)


def _replace_json(path: Path, value: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        out.write(json.dumps(value).encode())
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def _check_count(folder: Path, schema: tantivy.Schema, expected: int) -> None:
    """Open the joined index and check it holds every document the workers wrote."""
    index = tantivy.Index(schema, path=str(folder), reuse=True)
    found = index.searcher().num_docs
    if found != expected:
        raise SearchBackendError(
            f"the joined search index holds {found} documents, not {expected}: rebuild again"
        )
