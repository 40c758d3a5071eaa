"""Dedup services: re-cluster what changed, staff merges and splits, and why a cluster holds.

Every function takes the caller's SQLAlchemy session and writes inside its transaction (the
caller commits, as ``Database.session()`` does); those that change clusters return
``ClusterChanges``, the cluster ids whose index documents must be rewritten or deleted once
the transaction has committed.

Incremental: ``recluster`` loads the changed records, the clusters they were in, and every
record sharing a match key with them (with those records' clusters), re-runs the in-memory
core on that scope only, and keeps cluster ids stable: a new cluster takes the id of the old
cluster it shares most records with. A periodic ``rebuild_clusters`` settles anything an
incremental pass could not see. Staff decisions are stored as record pairs and applied on
every later run, so they survive harvests; a record deleted at its source takes its
decisions with it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from federation.models import utcnow
from search.dedup import storage as st
from search.dedup.cluster import Cluster, Clustering, Overrides, cluster_records
from search.dedup.evidence import Evidence
from search.dedup.keys import record_keys
from search.dedup.works import relink_works

_SCOPE_ROUNDS = 4  # rounds of following staff overrides to clusters outside the scope


@dataclass
class ClusterChanges:
    """Clusters whose documents must be written again, and clusters that are gone."""

    upserted: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def add(self, other: ClusterChanges) -> None:
        """Merge another change set into this one."""
        self.upserted = sorted(set(self.upserted) | set(other.upserted))
        self.removed = sorted((set(self.removed) | set(other.removed)) - set(self.upserted))


# -- re-clustering ---------------------------------------------------------------------------


def recluster(session: Session, record_ids: Iterable[int]) -> ClusterChanges:
    """Re-cluster after these records were added, changed or deleted in the record store."""
    touched = set(record_ids)
    if not touched:
        return ClusterChanges()
    old_keys = st.stored_keys(session, touched)
    live = st.live_records(session, touched)
    new_keys = {rid: record_keys(rid, record).store_keys() for rid, record in live.items()}
    st.delete_in(session, st.KEYS, "record_id", touched)
    st.insert_rows(session, st.KEYS, [{"record_id": r, "key": k} for r, ks in new_keys.items() for k in ks])
    extra = {k for keys in old_keys.values() for k in keys}
    return _recluster_scope(session, _scope(session, touched, extra))


def rebuild_clusters(session: Session) -> ClusterChanges:
    """Re-cluster every record of the store (keys, clusters, evidence, work links)."""
    ids = st.all_record_ids(session)
    session.execute(delete(st.KEYS))
    live = st.live_records(session, ids)
    rows = [{"record_id": r, "key": k} for r, rec in live.items() for k in record_keys(r, rec).store_keys()]
    st.insert_rows(session, st.KEYS, rows)
    return _recluster_scope(session, set(ids))


def _scope(session: Session, touched: set[int], extra_keys: set[str]) -> set[int]:
    """Return the records whose clusters a change to ``touched`` can alter."""
    seeds = _with_clusters(session, touched)
    keys = {k for ks in st.stored_keys(session, seeds).values() for k in ks} | extra_keys
    keys = {k for k in keys if not k.startswith("w:")}  # work keys link works, not records
    scope = _with_clusters(session, seeds | set(st.records_with_keys(session, keys)))
    for _round in range(_SCOPE_ROUNDS):
        partners = {
            rid
            for row in st.overrides_touching(session, scope)
            for rid in (row["record_a"], row["record_b"])
        } - scope
        if not partners:
            break
        scope |= _with_clusters(session, partners)
    return scope


def _with_clusters(session: Session, ids: set[int]) -> set[int]:
    """Return ``ids`` and every record of the clusters they are in."""
    clusters = set(st.clusters_of(session, ids).values())
    return ids | {r for rids in st.members_of(session, clusters).values() for r in rids}


def _recluster_scope(session: Session, scope: set[int]) -> ClusterChanges:
    """Cluster the scope's records afresh and replace their clusters in the tables."""
    live = st.live_records(session, scope)
    overrides_rows = st.overrides_touching(session, live)
    result = cluster_records(
        [record_keys(rid, record) for rid, record in live.items()],
        _overrides(overrides_rows),
        st.staff_blocklist(session),
    )
    old = st.clusters_of(session, scope)
    ids = _assign_ids(session, result.clusters, old)
    _write_clusters(session, result, ids, set(old.values()), overrides_rows)
    _write_auto_blocks(session, live, result)
    changes = ClusterChanges(upserted=sorted(set(ids)), removed=sorted(set(old.values()) - set(ids)))
    changes.add(ClusterChanges(upserted=relink_works(session, ids)))
    return changes


def _overrides(rows: list[dict]) -> Overrides:
    out = Overrides()
    for row in rows:
        pair = (row["record_a"], row["record_b"])
        (out.merge if row["kind"] == "merge" else out.split).append(pair)
    return out


def _assign_ids(session: Session, clusters: list[Cluster], old: dict[int, str]) -> list[str]:
    """Give each cluster the id of the old cluster it shares most records with, or a new id."""
    candidates = []
    for n, c in enumerate(clusters):
        counts = Counter(old[r] for r in c.record_ids if r in old)
        candidates += [(-count, n, cid) for cid, count in counts.items()]
    ids: list[str | None] = [None] * len(clusters)
    used: set[str] = set()
    for _neg, n, cid in sorted(candidates):
        if ids[n] is None and cid not in used:
            ids[n], used = cid, used | {cid}
    wanted = {f"c{c.record_ids[0]}" for n, c in enumerate(clusters) if ids[n] is None}
    taken = (st.existing_cluster_ids(session, wanted) - set(old.values())) | used
    for n, c in enumerate(clusters):
        if ids[n] is None:
            base, suffix = f"c{c.record_ids[0]}", 1
            candidate = base
            while candidate in taken:
                suffix += 1
                candidate = f"{base}-{suffix}"
            ids[n] = candidate
            taken.add(candidate)
    return [i for i in ids if i is not None]


def _write_clusters(session, result: Clustering, ids: list[str], old_ids: set[str], overrides):
    """Replace the scope's clusters and cluster records (one statement per table and batch)."""
    created = _created_at(session, old_ids & set(ids))
    st.delete_in(session, st.MEMBERS, "cluster_id", old_ids | set(ids))
    st.delete_in(session, st.WORKS, "cluster_id", old_ids | set(ids))
    st.delete_in(session, st.CLUSTERS, "id", old_ids | set(ids))
    now = utcnow()
    staff = {(r["record_a"], r["record_b"]): r for r in overrides if r["kind"] == "merge"}
    st.insert_rows(
        session,
        st.CLUSTERS,
        [
            {"id": cid, "size": len(c.record_ids), "created_at": created.get(cid, now), "updated_at": now}
            for cid, c in zip(ids, result.clusters, strict=True)
        ],
    )
    rows = []
    for cid, c in zip(ids, result.clusters, strict=True):
        for evidence in c.evidence:
            values = dict(evidence.values)
            if evidence.rule == "staff-merge":
                row = staff.get((evidence.matched_record_id, evidence.record_id)) or staff.get(
                    (evidence.record_id, evidence.matched_record_id), {}
                )
                values.update(by=row.get("created_by"), reason=row.get("reason"))
            rows.append(
                {
                    "record_id": evidence.record_id,
                    "cluster_id": cid,
                    "rule": evidence.rule,
                    "evidence": values,
                    "matched_record_id": evidence.matched_record_id,
                }
            )
    st.insert_rows(session, st.MEMBERS, rows)


def _created_at(session: Session, ids: set[str]) -> dict:
    out = {}
    for batch in st.chunks(sorted(ids)):
        query = select(st.CLUSTERS.c.id, st.CLUSTERS.c.created_at).where(st.CLUSTERS.c.id.in_(batch))
        out.update(session.execute(query).tuples())
    return out


def _write_auto_blocks(session: Session, live: dict, result: Clustering) -> None:
    """Keep the identifiers found untrusted in this scope as 'auto' blocklist rows."""
    keys = {key for record in live.values() for _rule, key in _ids(record)}
    for batch in st.chunks(sorted(keys)):
        session.execute(
            delete(st.BLOCKS).where(st.BLOCKS.c.key.in_(batch), st.BLOCKS.c.source == "auto")
        )
    rows = [
        {"key": key, "source": "auto", "reason": reason[:500], "created_at": utcnow()}
        for key, reason in result.ignored.items()
        if reason != "blocklist"
    ]
    st.insert_rows(session, st.BLOCKS, rows)


def _ids(record) -> tuple:
    from search.dedup.keys import identifier_keys

    return identifier_keys(record)


# -- staff decisions -------------------------------------------------------------------------


def force_merge(
    session: Session, cluster_a: str, cluster_b: str, *, by: str | None = None, reason: str | None = None
) -> ClusterChanges:
    """Make two clusters one, now and after every later re-clustering."""
    members = st.members_of(session, [cluster_a, cluster_b])
    for cid in (cluster_a, cluster_b):
        if cid not in members:
            raise ValueError(f"no cluster {cid!r}: give the id of an existing cluster")
    if cluster_a == cluster_b:
        raise ValueError("give two different clusters to merge")
    a, b = members[cluster_a], members[cluster_b]
    _drop_overrides(session, "split", a, b)
    _add_override(session, "merge", a[0], b[0], by, reason)
    return _recluster_scope(session, _scope(session, set(a) | set(b), set()))


def force_split(
    session: Session,
    cluster_id: str,
    record_ids: Iterable[int],
    *,
    by: str | None = None,
    reason: str | None = None,
) -> ClusterChanges:
    """Take records out of a cluster into their own, now and after every later re-clustering."""
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
    for m in moved:
        for r in rest:
            _add_override(session, "split", m, r, by, reason)
    for m in moved[1:]:  # the records moved out stay together
        _add_override(session, "merge", moved[0], m, by, reason)
    return _recluster_scope(session, _scope(session, set(members), set()))


def _add_override(session: Session, kind: str, a: int, b: int, by, reason) -> None:
    row = {"kind": kind, "record_a": a, "record_b": b, "created_by": by, "reason": reason}
    st.insert_rows(session, st.OVERRIDES, [{**row, "created_at": utcnow()}])


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
    if rule not in {"isbn", "issn", "oclc", "lccn", "nbn"} or not value:
        raise ValueError(f"{key!r}: write an identifier key such as isbn:9787111544937")
    session.execute(delete(st.BLOCKS).where(st.BLOCKS.c.key == key))
    row = {"key": key, "source": "staff", "reason": reason, "created_by": by}
    st.insert_rows(session, st.BLOCKS, [{**row, "created_at": utcnow()}])
    holders = set(st.records_with_keys(session, [key]))
    return _recluster_scope(session, _scope(session, holders, set())) if holders else ClusterChanges()


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
        out.append(Evidence(data.get("record_id"), link["rule"], values, data.get("matched_record_id")))
    return out
