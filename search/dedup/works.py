"""Keep work links ("other editions") current for clusters that changed.

A work is every cluster connected through a shared work key (title and first author). After
clusters change, the works they belong to are found by following work keys through the
``dedup_keys`` table until no new cluster turns up, then linked afresh with the same
``group_works`` the in-memory core uses. A work's id is its first cluster's id with "w" for
"c"; a cluster alone has no work link.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from search.dedup import storage as st
from search.dedup.cluster import group_works
from search.dedup.evidence import Evidence

MAX_WORK_CLUSTERS = 5000  # a work key this common is not one work; stop following it


def relink_works(session: Session, cluster_ids: Iterable[str]) -> list[str]:
    """Relink the works of these clusters; return clusters whose work link changed."""
    clusters = _work_component(session, set(cluster_ids))
    if not clusters:
        return []
    members = st.members_of(session, clusters)
    order = sorted(members, key=lambda cid: members[cid][0])  # by first record: stable leaders
    keys = _work_keys(session, [r for cid in order for r in members[cid]])
    grouped = group_works(
        [[(rid, key) for rid in members[cid] for key in keys.get(rid, ())] for cid in order]
    )
    before = st.work_links(session, order)
    after = write_works(session, order, grouped)
    return sorted(cid for cid in order if (before.get(cid) or {}).get("work_id") != after.get(cid))


def write_works(
    session: Session,
    cluster_ids: list[str],
    grouped: list[tuple[int, Evidence | None]],
    replace: bool = True,
) -> dict[str, str]:
    """Replace the work links of these clusters; return cluster id -> work id (linked ones).

    ``grouped`` gives, per cluster, the index of its work's first cluster and the evidence
    linking it (as ``group_works`` returns). ``replace=False``: the caller emptied the table.
    """
    sizes = Counter(leader for leader, _link in grouped)
    rows = [
        {
            "cluster_id": cid,
            "work_id": "w" + cluster_ids[leader][1:],
            "rule": link.rule if link else None,
            "evidence": link.as_dict() if link else {},
        }
        for cid, (leader, link) in zip(cluster_ids, grouped, strict=True)
        if sizes[leader] >= 2  # a cluster alone has no work link
    ]
    if replace:
        st.delete_in(session, st.WORKS, "cluster_id", cluster_ids)
    st.insert_rows(session, st.WORKS, rows)
    return {row["cluster_id"]: row["work_id"] for row in rows}


def _work_keys(session: Session, record_ids: list[int]) -> dict[int, list[str]]:
    return {
        rid: [k for k in keys if k.startswith("w:")]
        for rid, keys in st.stored_keys(session, record_ids).items()
    }


def _work_component(session: Session, start: set[str]) -> list[str]:
    """Return every cluster reachable from ``start`` through shared work keys."""
    seen = set(start)
    frontier = set(start)
    followed: set[str] = set()
    while frontier and len(seen) < MAX_WORK_CLUSTERS:
        records = [r for rids in st.members_of(session, frontier).values() for r in rids]
        keys = {k for ks in _work_keys(session, records).values() for k in ks} - followed
        followed |= keys
        holders = st.records_with_keys(session, keys)
        found = set(st.clusters_of(session, holders).values()) - seen
        seen |= found
        frontier = found
    existing = st.existing_cluster_ids(session, seen)
    return sorted(existing)


def work_of(session: Session, cluster_id: str) -> str | None:
    """Return the work id of a cluster, or None when it has no other editions."""
    query = select(st.WORKS.c.work_id).where(st.WORKS.c.cluster_id == cluster_id)
    return session.execute(query).scalar_one_or_none()
