"""The re-clustering engine behind the services: scope, core run, stable ids, one write.

``scope`` finds the records a change can affect: the changed records, the clusters they
were in, every record sharing a match key with those, and the clusters of those records (and
of staff-override partners). ``recluster_scope`` runs the in-memory core on exactly that set
and replaces its clusters, cluster records and work links inside the caller's transaction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import delete, false, select, text
from sqlalchemy.orm import Session

from federation.models import utcnow
from harvesters.bibrecord import BibRecord
from search.dedup import storage as st
from search.dedup.cluster import Cluster, Clustering, Overrides, cluster_records
from search.dedup.keys import RecordKeys, record_keys
from search.dedup.works import relink_works, write_works

_LOCK_KEY = 0x6465647570  # "dedup": the advisory lock every dedup writer takes
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


def take_write_lock(session: Session) -> None:
    """Serialise dedup writers until the caller's transaction ends.

    Two re-clusterings of overlapping scopes would each replace the other's clusters from a
    stale read. PostgreSQL: a transaction-level advisory lock (waited for). SQLite: a write
    statement that changes nothing takes the database's write lock now, before any read.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    else:
        session.execute(delete(st.BLOCKS).where(false()))


def scope(session: Session, touched: set[int], extra_keys: set[str] = frozenset()) -> set[int]:
    """Return the records whose clusters a change to ``touched`` can alter."""
    seeds = _with_clusters(session, touched)
    keys = {k for ks in st.stored_keys(session, seeds).values() for k in ks} | set(extra_keys)
    keys = {k for k in keys if not k.startswith("w:")}  # work keys link works, not records
    found = _with_clusters(session, seeds | set(st.records_with_keys(session, keys)))
    for _round in range(_SCOPE_ROUNDS):
        partners = {
            rid
            for row in st.overrides_touching(session, found)
            for rid in (row["record_a"], row["record_b"])
        } - found
        if not partners:
            break
        found |= _with_clusters(session, partners)
    return found


def _with_clusters(session: Session, ids: set[int]) -> set[int]:
    """Return ``ids`` and every record of the clusters they are in."""
    clusters = set(st.clusters_of(session, ids).values())
    return ids | {r for rids in st.members_of(session, clusters).values() for r in rids}


def recluster_scope(
    session: Session,
    scoped: set[int],
    live: dict[int, BibRecord] | None = None,
    keys: list[RecordKeys] | None = None,
) -> ClusterChanges:
    """Cluster the scope's records afresh and replace their clusters in the tables.

    ``live`` and ``keys`` save loading them again when the caller has.
    """
    live = st.live_records(session, scoped) if live is None else live
    keys = [record_keys(rid, record) for rid, record in live.items()] if keys is None else keys
    override_rows = st.overrides_touching(session, live)
    result = cluster_records(keys, _overrides(override_rows), st.staff_blocklist(session))
    old = st.clusters_of(session, scoped)
    old_links = st.work_links(session, set(old.values()))
    # editions that were linked to the old clusters: their work may lose a member
    work_mates = st.clusters_in_works(session, {row["work_id"] for row in old_links.values()})
    ids = _assign_ids(session, result.clusters, old)
    _write_clusters(session, result, ids, set(old.values()), override_rows)
    _write_auto_blocks(session, keys, result)
    changes = ClusterChanges(
        upserted=sorted(set(ids)), removed=sorted(set(old.values()) - set(ids))
    )
    changes.add(ClusterChanges(upserted=relink_works(session, set(ids) | work_mates)))
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
            ids[n] = cid
            used.add(cid)
    wanted = {f"c{c.record_ids[0]}" for n, c in enumerate(clusters) if ids[n] is None}
    taken = (st.existing_cluster_ids(session, wanted) - set(old.values())) | used
    for n, c in enumerate(clusters):
        if ids[n] is None:
            base = candidate = f"c{c.record_ids[0]}"
            suffix = 1
            while candidate in taken:  # the id of a cluster that lives on elsewhere
                suffix += 1
                candidate = f"{base}-{suffix}"
            ids[n] = candidate
            taken.add(candidate)
    return [i for i in ids if i is not None]


def _write_clusters(session, result: Clustering, ids: list[str], old_ids: set[str], overrides):
    """Replace the scope's clusters and cluster records (batched statements)."""
    every = old_ids | set(ids)
    created = _created_at(session, old_ids & set(ids))
    for table, column in (
        (st.MEMBERS, "cluster_id"),
        (st.WORKS, "cluster_id"),
        (st.CLUSTERS, "id"),
    ):
        st.delete_in(session, table, column, every)
    _insert_clusters(session, result, ids, created, overrides)


def _insert_clusters(session, result: Clustering, ids: list[str], created: dict, overrides):
    """Insert the clusters and their cluster records, with each record's evidence."""
    now = utcnow()
    st.insert_rows(
        session,
        st.CLUSTERS,
        [
            {"id": cid, "size": len(c.record_ids), "created_at": created.get(cid, now),
             "updated_at": now}
            for cid, c in zip(ids, result.clusters, strict=True)
        ],
    )  # fmt: skip
    staff = {(r["record_a"], r["record_b"]): r for r in overrides if r["kind"] == "merge"}
    rows = []
    for cid, c in zip(ids, result.clusters, strict=True):
        for evidence in c.evidence:
            values = dict(evidence.values)
            if evidence.rule == "staff-merge":
                pair = (evidence.matched_record_id, evidence.record_id)
                row = staff.get(pair) or staff.get(pair[::-1]) or {}
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
    st.insert_plain_rows(session, st.MEMBERS, rows, json_columns=("evidence",))


def _created_at(session: Session, ids: set[str]) -> dict:
    out = {}
    for batch in st.chunks(sorted(ids)):
        query = select(st.CLUSTERS.c.id, st.CLUSTERS.c.created_at).where(
            st.CLUSTERS.c.id.in_(batch)
        )
        out.update((cid, at) for cid, at in session.execute(query))
    return out


def _write_auto_blocks(session: Session, keys: list[RecordKeys], result: Clustering) -> None:
    """Keep the identifiers found untrusted in this scope as 'auto' blocklist rows."""
    in_scope = {key for k in keys for key in k.ids}
    for batch in st.chunks(sorted(in_scope)):
        session.execute(
            delete(st.BLOCKS).where(st.BLOCKS.c.key.in_(batch), st.BLOCKS.c.source == "auto")
        )
    st.insert_rows(session, st.BLOCKS, _auto_block_rows(result))


def _auto_block_rows(result: Clustering) -> list[dict]:
    return [
        {"key": key, "source": "auto", "reason": reason[:500], "created_at": utcnow()}
        for key, reason in result.ignored.items()
        if reason != "blocklist"
    ]


def recluster_everything(
    session: Session, live: dict[int, BibRecord], keys: list[RecordKeys]
) -> ClusterChanges:
    """Cluster every record of the store afresh and replace every cluster and work link.

    What ``recluster_scope`` does for a scope, with whole-table reads and deletes instead
    of statements over lists of ids (a full rebuild would send every id of the store).
    """
    overrides = [r for r in st.all_overrides(session) if r["record_a"] in live
                 or r["record_b"] in live]  # fmt: skip
    result = cluster_records(keys, _overrides(overrides), st.staff_blocklist(session))
    old = st.all_clusters_of(session)
    ids = _assign_ids(session, result.clusters, old)
    created = st.all_created_at(session)
    for table in (st.MEMBERS, st.WORKS, st.CLUSTERS):
        session.execute(delete(table))
    _insert_clusters(session, result, ids, created, overrides)
    session.execute(delete(st.BLOCKS).where(st.BLOCKS.c.source == "auto"))
    st.insert_rows(session, st.BLOCKS, _auto_block_rows(result))
    write_works(session, ids, [(c.work, c.work_link) for c in result.clusters], replace=False)
    return ClusterChanges(upserted=sorted(set(ids)), removed=sorted(set(old.values()) - set(ids)))
