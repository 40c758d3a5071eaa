"""From the record store to the search index: re-cluster, queue, write, and rebuild.

The queue (table ``index_queue``) is written in the same transaction as the re-clustering
that changed the clusters, and a cluster leaves it only after the search backend has
committed its document. So an indexer killed at any point leaves the queue holding what the
index still lacks, and the next ``drain_queue`` makes store and index agree again. Writing a
document twice is harmless (an upsert by cluster id).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from federation.db import Database
from federation.models import Cluster, HarvestRun, IndexQueue, utcnow
from search.dedup.cluster import paused_gc
from search.dedup.services import (
    ClusterChanges,
    all_cluster_documents,
    cluster_documents,
    cluster_unclustered,
    rebuild_clusters,
    recluster_since,
)
from search.interfaces import SearchBackend

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]  # (done, total or None)


@dataclass
class IndexReport:
    """What one indexing pass did."""

    upserted: int = 0
    deleted: int = 0
    batches: int = 0


def enqueue(session: Session, changes: ClusterChanges) -> None:
    """Queue the clusters a re-clustering changed, inside the caller's transaction."""
    wanted = {cid: "upsert" for cid in changes.upserted}
    wanted.update({cid: "delete" for cid in changes.removed if cid not in wanted})
    if not wanted:
        return
    session.execute(delete(IndexQueue).where(IndexQueue.cluster_id.in_(list(wanted))))
    now = utcnow()
    session.add_all(IndexQueue(cluster_id=c, op=op, enqueued_at=now) for c, op in wanted.items())


def queued(db: Database) -> int:
    """Return how many clusters wait for the index."""
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(IndexQueue)) or 0


def drain_queue(
    db: Database, backend: SearchBackend, batch_size: int = 1000, progress: Progress | None = None
) -> IndexReport:
    """Write every queued cluster to the index, a batch at a time, then forget it."""
    report, total = IndexReport(), queued(db)
    while True:
        with db.session() as session:
            rows = session.execute(
                select(IndexQueue.cluster_id, IndexQueue.op, IndexQueue.enqueued_at)
                .order_by(IndexQueue.enqueued_at, IndexQueue.cluster_id)
                .limit(batch_size)
            ).all()
            if not rows:
                return report
            upserts = [r.cluster_id for r in rows if r.op == "upsert"]
            docs = cluster_documents(session, upserts)
        found = {d["cluster_id"] for d in docs}
        gone = [r.cluster_id for r in rows if r.op == "delete" or r.cluster_id not in found]
        backend.index_documents(docs)
        backend.delete_documents(gone)
        backend.commit()  # only now may the queue forget these clusters
        _forget(db, rows)
        report.upserted += len(docs)
        report.deleted += len(gone)
        report.batches += 1
        if progress:
            progress(report.upserted + report.deleted, total)


def _forget(db: Database, rows) -> None:
    """Drop queue entries that were indexed, unless they were queued again meanwhile."""
    if not rows:
        return
    entry = IndexQueue.__table__.c
    statement = delete(IndexQueue.__table__).where(
        entry.cluster_id == bindparam("cid"), entry.enqueued_at == bindparam("at")
    )
    with db.session() as session:
        session.execute(statement, [{"cid": r.cluster_id, "at": r.enqueued_at} for r in rows])


def index_changes_since(
    db: Database, backend: SearchBackend, since: datetime, progress: Progress | None = None
) -> IndexReport:
    """Re-cluster what was harvested since ``since``, queue it, and write it to the index."""
    cluster_harvested(db, since)
    return drain_queue(db, backend, progress=progress)


def cluster_harvested(db: Database, since: datetime | None = None) -> None:
    """Re-cluster the records harvested since ``since`` and queue their clusters.

    Every finished harvest run whose changes were never clustered is covered too: a process
    killed after its harvest committed and before this step (or a run whose own step failed)
    is caught up by the next call, whichever member it is for. Runs are marked clustered in
    the transaction that queues their clusters. Without ``since`` it only catches up.
    """
    with db.session() as session:
        cutoff = utcnow()  # runs finished by now: their records are all visible below
        earliest = session.scalar(
            select(func.min(HarvestRun.started_at)).where(_unclustered_runs(cutoff))
        )
        starts = [_utc(t) for t in (since, earliest) if t is not None]
        if starts:
            enqueue(session, recluster_since(session, min(starts)))
        _mark_clustered(session, cutoff)


def _utc(moment: datetime) -> datetime:
    """Return ``moment`` with its zone (SQLite gives stored UTC times back without one)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _mark_clustered(session: Session, cutoff: datetime) -> None:
    """Mark the finished runs not yet clustered as clustered (inside the caller's transaction)."""
    session.execute(update(HarvestRun).where(_unclustered_runs(cutoff)).values(clustered_at=cutoff))


def _unclustered_runs(cutoff: datetime):
    run = HarvestRun.__table__.c
    return run.clustered_at.is_(None) & run.finished_at.is_not(None) & (run.finished_at <= cutoff)


def rebuild_index(
    db: Database,
    backend: SearchBackend,
    *,
    recluster: bool = False,
    progress: Progress | None = None,
) -> int:
    """Rebuild the index from the record store alone (no network), swapping it in at the end.

    The documents are built from the clusters as the store keeps them (harvests maintain
    them, staff merges and splits included), so a rebuild need not cluster again. With
    ``recluster``, every record is clustered again first: after a change to the match rules.
    The changes of harvest runs that were never clustered (a process killed between its
    harvest and its index step) and records never clustered (a store filled without the
    harvest command) are clustered first either way, so the index leaves
    no active record out. Once the new index is live, the queue entries it covers are dropped;
    entries queued while it was built stay for ``drain_queue``.
    """
    if not recluster:
        cluster_harvested(db)  # changes of runs whose own step never ran
    with db.session() as session:
        if recluster:
            cutoff = utcnow()
            rebuild_clusters(session)
            _mark_clustered(session, cutoff)
        else:
            cluster_unclustered(session)
    with db.session() as session:
        total = session.scalar(select(func.count()).select_from(Cluster)) or 0

    def counted(done: int, _total: int | None = None) -> None:
        if progress:
            progress(done, total)

    # One read transaction, one streamed query. The queue is read first: a later statement
    # sees at least what the entries read here stand for, so the index covers them.
    with db.session() as session:
        covered = session.execute(select(IndexQueue.cluster_id, IndexQueue.enqueued_at)).all()
        with paused_gc():  # documents are acyclic; collector passes over them cost ~10 %
            written = backend.rebuild(all_cluster_documents(session), progress=counted)
    _forget(db, covered)
    return written
