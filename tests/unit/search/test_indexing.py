"""Rebuilding the search index from the record store: from the stored clusters, or clustered
again; records never clustered are not left out; the queue keeps what the new index lacks.

Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL names one (as .ci/run does).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from federation.alliance import load_alliance
from federation.members import import_alliance
from federation.models import IndexQueue
from harvesters.store import bib_from_json
from search.backends.tantivy import TantivyBackend
from search.dedup import services
from search.dedup import storage as st
from search.dedup.documents import build_document
from search.dedup.services import ClusterChanges
from search.indexing import enqueue, queued, rebuild_index
from search.query import SearchQuery
from tests.conftest import DEMO_ALLIANCE
from tests.unit.search.test_dedup_services import (
    ISBN_X,
    ISBN_Y,
    ISBN_Z,
    cluster_of,
    clusters,
    do,
    novel,
    save,
    three_holders,
)


@pytest.fixture
def store(db):
    """A migrated database holding the demo alliance's members."""
    with db.session() as session:
        import_alliance(session, load_alliance(DEMO_ALLIANCE))
    return db


@pytest.fixture
def backend(tmp_path):
    index = TantivyBackend(tmp_path / "index")
    yield index
    index.close()


def indexed(backend) -> dict[str, set[int]]:
    """Return cluster id -> record ids, as the index holds them."""
    hits = backend.search(SearchQuery(text="", page_size=100)).hits
    assert len(hits) == backend.count()
    return {hit.doc["cluster_id"]: set(hit.doc["record_ids"]) for hit in hits}


def test_a_rebuild_indexes_the_stored_clusters_with_the_staff_merge(store, backend):
    ids = three_holders(store)
    do(store, services.rebuild_clusters)
    x, z = cluster_of(store, ids["a1"]), cluster_of(store, ids["d1"])
    do(store, services.force_merge, x, z, by="librarian", reason="one book, two ISBNs")
    assert rebuild_index(store, backend) == 1
    assert indexed(backend) == clusters(store) == {x: set(ids.values())}


def test_records_never_clustered_are_clustered_before_the_index_is_built(store, backend):
    ids = three_holders(store)  # stored as a harvest would, not clustered
    assert rebuild_index(store, backend) == 2
    assert indexed(backend) == clusters(store)
    first = clusters(store)
    new = save(store, "fushan-pl", {"e1": novel("fushan-pl", isbns=(ISBN_X,))})["e1"]
    other = save(store, "fushan-pl", {"e2": novel("fushan-pl", "新书", (ISBN_Y,))})["e2"]
    assert rebuild_index(store, backend) == 3
    now = clusters(store)
    joined = next(cid for cid, rids in first.items() if ids["a1"] in rids)
    assert now[joined] == first[joined] | {new}  # joined the stored cluster, same id
    assert {other} in now.values()
    assert indexed(backend) == now


def test_recluster_clusters_every_record_again_and_indexes_the_same(store, backend):
    three_holders(store)
    do(store, services.rebuild_clusters)
    before = clusters(store)
    assert rebuild_index(store, backend, recluster=True) == 2
    assert clusters(store) == before and indexed(backend) == before


def test_stored_documents_are_the_documents_of_the_records(store):
    ids = three_holders(store)
    ids |= save(store, "ldu", {"b2": novel("ldu", "果树栽培", (ISBN_Z,), subtitle="第2版")})
    do(store, services.rebuild_clusters)
    with store.session() as session:
        built = list(services.all_cluster_documents(session))
        infos = services.member_infos(session)
        links = st.all_work_ids(session)
        expected = []
        for cid, rids in sorted(st.members_of(session, clusters(store)).items()):
            rows = st.live_record_rows(session, rids)
            records = []
            for rid in rids:
                record = bib_from_json(rows[rid][1])
                record.member = rows[rid][0]
                records.append((rid, record))
            expected.append(build_document(cid, records, infos, links.get(cid)))
        incremental = services.cluster_documents(session, [d["cluster_id"] for d in built])
    assert built == expected == incremental
    assert len(built) == 2 and {len(d["record_ids"]) for d in built} == {3, 2}


def test_queue_entries_the_new_index_covers_are_dropped_and_later_ones_kept(store, tmp_path):
    three_holders(store)
    do(store, services.rebuild_clusters)
    cids = sorted(clusters(store))
    do(store, enqueue, ClusterChanges(upserted=cids))

    def queue_during_the_build(done: int, total: int | None) -> None:
        if not late:  # a harvest queues a cluster again while the documents are written
            late.append(queued(store))
            with store.session() as session:
                enqueue(session, ClusterChanges(upserted=[cids[0]]))

    late: list[bool] = []
    index = TantivyBackend(tmp_path / "queue-index")
    try:
        rebuild_index(store, index, progress=queue_during_the_build)
    finally:
        index.close()
    assert late == [len(cids)], "the progress callback never ran"
    with store.session() as session:
        assert list(session.scalars(select(IndexQueue.cluster_id))) == [cids[0]]
