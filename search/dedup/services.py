"""Dedup services: re-cluster what changed, staff merges and splits, and why a cluster holds.

Every function takes the caller's SQLAlchemy session and writes inside its transaction (the
caller commits, as ``Database.session()`` does); those that change clusters return
``ClusterChanges``: the cluster ids whose index documents must be rewritten, and those to
delete, once the transaction has committed.

Incremental: ``recluster`` re-runs the in-memory core on what the changed records can affect
(see ``recluster.scope``) and keeps cluster ids stable: a new cluster takes the id of the old
cluster it shares most records with. ``rebuild_clusters`` redoes everything and settles what
an incremental pass could not see. Staff decisions are stored as record pairs and applied on
every later run, so they survive harvests; a record deleted at its source takes its
decisions with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from federation.models import Member, Region, utcnow
from search.dedup import storage as st
from search.dedup.cluster import paused_gc
from search.dedup.documents import MemberInfo, stored_document
from search.dedup.evidence import Evidence
from search.dedup.keys import ID_RULES, record_keys
from search.dedup.recluster import (
    ClusterChanges,
    recluster_everything,
    recluster_scope,
    scope,
    take_write_lock,
)
from search.documents import ClusterDoc

__all__ = [
    "ClusterChanges",
    "block_identifier",
    "all_cluster_documents",
    "cluster_documents",
    "cluster_of_record",
    "cluster_unclustered",
    "explain_cluster",
    "force_merge",
    "force_split",
    "member_infos",
    "rebuild_clusters",
    "recluster",
    "recluster_since",
]


def recluster(session: Session, record_ids: Iterable[int]) -> ClusterChanges:
    """Re-cluster after these records were added, changed or deleted in the record store."""
    touched = set(record_ids)
    if not touched:
        return ClusterChanges()
    take_write_lock(session)
    old_keys = {k for keys in st.stored_keys(session, touched).values() for k in keys}
    live = st.live_records(session, touched)
    rows = [
        {"record_id": rid, "key": key}
        for rid, record in live.items()
        for key in record_keys(rid, record).store_keys()
    ]
    st.delete_in(session, st.KEYS, "record_id", touched)
    st.insert_rows(session, st.KEYS, rows)
    return recluster_scope(session, scope(session, touched, old_keys))


def recluster_since(session: Session, since: datetime) -> ClusterChanges:
    """Re-cluster the records harvested (added, changed or deleted) at or after ``since``.

    What a harvest job calls after a run, with the run's start time.
    """
    query = select(st.RECORDS.c.id).where(st.RECORDS.c.harvested_at >= since)
    return recluster(session, session.execute(query).scalars())


def rebuild_clusters(session: Session) -> ClusterChanges:
    """Re-cluster every record of the store: keys, clusters, evidence and work links."""
    with paused_gc():  # a rebuild holds every record in memory: collector passes cost most
        take_write_lock(session)
        live = dict(st.stream_live_records(session))
        keys = [record_keys(rid, record) for rid, record in live.items()]
        session.execute(delete(st.KEYS))
        rows = [{"record_id": k.rid, "key": key} for k in keys for key in k.store_keys()]
        st.insert_plain_rows(session, st.KEYS, rows)
        return recluster_everything(session, live, keys)


def cluster_unclustered(session: Session) -> int:
    """Cluster the active records that are in no cluster yet; return how many there were.

    A store with no cluster at all is clustered in full (``rebuild_clusters``), otherwise
    the records join the stored clusters as after a harvest (``recluster``).
    """
    missing = st.unclustered_record_ids(session)
    if missing:
        if session.execute(select(st.CLUSTERS.c.id).limit(1)).first() is None:
            rebuild_clusters(session)
        else:
            recluster(session, missing)
    return len(missing)


# -- staff decisions -------------------------------------------------------------------------


def force_merge(
    session: Session,
    cluster_a: str,
    cluster_b: str,
    *,
    by: str | None = None,
    reason: str | None = None,
) -> ClusterChanges:
    """Make two clusters one, now and after every later re-clustering."""
    take_write_lock(session)
    members = st.members_of(session, [cluster_a, cluster_b])
    for cid in (cluster_a, cluster_b):
        if cid not in members:
            raise ValueError(f"no cluster {cid!r}: give the id of an existing cluster")
    if cluster_a == cluster_b:
        raise ValueError("give two different clusters to merge")
    a, b = members[cluster_a], members[cluster_b]
    _drop_overrides(session, "split", a, b)
    # every record of each cluster tied to the other's first: a deleted record breaks nothing
    pairs = [(a[0], record) for record in b] + [(b[0], record) for record in a[1:]]
    _add_overrides(session, "merge", pairs, by, reason)
    return recluster_scope(session, scope(session, set(a) | set(b)))


def force_split(
    session: Session,
    cluster_id: str,
    record_ids: Iterable[int],
    *,
    by: str | None = None,
    reason: str | None = None,
) -> ClusterChanges:
    """Take records out of a cluster into their own, now and after every later re-clustering."""
    take_write_lock(session)
    members = st.members_of(session, [cluster_id]).get(cluster_id)
    if not members:
        raise ValueError(f"no cluster {cluster_id!r}: give the id of an existing cluster")
    moved = sorted(set(record_ids))
    strangers = sorted(set(moved) - set(members))
    if strangers:
        raise ValueError(f"records {strangers} are not in cluster {cluster_id}")
    rest = [r for r in members if r not in moved]
    if not moved or not rest:
        raise ValueError("name some, but not all, of the cluster's records to split off")
    _drop_overrides(session, "merge", moved, rest)
    _drop_overrides(session, "split", moved, moved)
    _add_overrides(session, "split", [(m, r) for m in moved for r in rest], by, reason)
    # the records moved out stay together
    _add_overrides(session, "merge", [(moved[0], m) for m in moved[1:]], by, reason)
    return recluster_scope(session, scope(session, set(members)))


def _add_overrides(session: Session, kind: str, pairs: list[tuple[int, int]], by, reason) -> None:
    now = utcnow()
    rows = [
        {"kind": kind, "record_a": a, "record_b": b, "created_by": by, "reason": reason,
         "created_at": now}
        for a, b in pairs
    ]  # fmt: skip
    st.insert_rows(session, st.OVERRIDES, rows)


def _drop_overrides(session: Session, kind: str, group_a: list[int], group_b: list[int]) -> None:
    """Delete earlier overrides of ``kind`` between the two groups: the newer decision wins."""
    o = st.OVERRIDES.c
    for batch_a in st.chunks(group_a):
        for batch_b in st.chunks(group_b):
            session.execute(
                delete(st.OVERRIDES).where(
                    o.kind == kind,
                    or_(
                        and_(o.record_a.in_(batch_a), o.record_b.in_(batch_b)),
                        and_(o.record_a.in_(batch_b), o.record_b.in_(batch_a)),
                    ),
                )
            )


def block_identifier(
    session: Session, key: str, *, by: str | None = None, reason: str | None = None
) -> ClusterChanges:
    """Stop an identifier ("isbn:9787...") counting as evidence, and re-cluster its records."""
    rule, _, value = key.partition(":")
    if rule not in ID_RULES or not value:
        raise ValueError(f"{key!r}: write an identifier key such as isbn:9787111544937")
    take_write_lock(session)
    session.execute(delete(st.BLOCKS).where(st.BLOCKS.c.key == key))
    row = {"key": key, "source": "staff", "reason": reason, "created_by": by}
    st.insert_rows(session, st.BLOCKS, [{**row, "created_at": utcnow()}])
    holders = set(st.records_with_keys(session, [key]))
    return recluster_scope(session, scope(session, holders)) if holders else ClusterChanges()


# -- reading clusters ------------------------------------------------------------------------


def cluster_of_record(session: Session, record_id: int) -> str | None:
    """Return the id of the cluster a record is in, or None."""
    return st.clusters_of(session, [record_id]).get(record_id)


def explain_cluster(session: Session, cluster_id: str) -> list[Evidence]:
    """Say why each record is in the cluster, what staff decided, and what was not evidence.

    One Evidence per record (rule "seed" for the first, else the rule and values that joined
    it and the record it matched), then staff splits naming its records, identifiers of its
    records that were not used ("ignored-identifier"), and its link to other editions.
    """
    query = (
        select(st.MEMBERS)
        .where(st.MEMBERS.c.cluster_id == cluster_id)
        .order_by(st.MEMBERS.c.record_id)
    )
    rows = session.execute(query).all()
    out = [Evidence(r.record_id, r.rule, dict(r.evidence or {}), r.matched_record_id) for r in rows]
    ids = [r.record_id for r in rows]
    for row in st.overrides_touching(session, ids):
        if row["kind"] == "split":
            values = {"by": row["created_by"], "reason": row["reason"]}
            out.append(Evidence(row["record_a"], "staff-split", values, row["record_b"]))
    keys = st.stored_keys(session, ids)
    blocked = st.blocked(session, {k for ks in keys.values() for k in ks})
    for rid in ids:
        for key in keys.get(rid, ()):
            if key in blocked:
                source, why = blocked[key]
                values = {"identifier": key, "source": source, "reason": why}
                out.append(Evidence(rid, "ignored-identifier", values, None))
    link = st.work_links(session, [cluster_id]).get(cluster_id)
    if link and link["rule"]:
        data = link["evidence"]
        values = {**data.get("values", {}), "work_id": link["work_id"]}
        out.append(
            Evidence(data.get("record_id"), link["rule"], values, data.get("matched_record_id"))
        )
    return out


def cluster_documents(session: Session, cluster_ids: Iterable[str]) -> list[ClusterDoc]:
    """Return the index documents of these clusters (missing clusters are left out)."""
    wanted = sorted(set(cluster_ids))
    members = st.members_of(session, wanted)
    records = st.live_record_rows(session, [r for rids in members.values() for r in rids])
    links = {cid: row["work_id"] for cid, row in st.work_links(session, wanted).items()}
    infos = member_infos(session)
    docs = []
    for cid in wanted:
        rows = [(rid, *records[rid]) for rid in members.get(cid, ()) if rid in records]
        if rows:
            docs.append(stored_document(cid, rows, infos, links.get(cid)))
    return docs


def all_cluster_documents(session: Session) -> Iterator[ClusterDoc]:
    """Yield the index document of every cluster as the store holds it, in cluster id order.

    Reads the stored clusters and their records in one streamed query, and builds each
    document from the records' stored JSON: what ``federation index rebuild`` writes.
    """
    links = st.all_work_ids(session)
    infos = member_infos(session)
    for cid, rows in st.stream_clustered_records(session):
        yield stored_document(cid, rows, infos, links.get(cid))


def member_infos(session: Session) -> dict[str, MemberInfo]:
    """Return every member's document facts (names, district, kind, coordinates)."""
    query = select(Member, Region).join(Region, Member.region_code == Region.code)
    return {
        m.code: MemberInfo(
            m.code,
            m.name_zh,
            m.name_en,
            r.code,
            r.name_zh,
            r.name_en,
            m.type,
            m.latitude,
            m.longitude,
        )
        for m, r in session.execute(query)
    }
