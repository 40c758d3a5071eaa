"""Dedup over the record store: incremental updates and deletions, staff decisions, evidence.

Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL names one (as .ci/run does).
"""

from __future__ import annotations

import itertools
import threading

import pytest
from sqlalchemy import select

from federation.alliance import load_alliance
from federation.members import import_alliance
from federation.models import ClusterRecord, Record
from harvesters.runs import start_run
from harvesters.store import Checkpoint, StoredRecord, bib_to_json, mark_deleted, save_page
from search.dedup import services
from tests.conftest import DEMO_ALLIANCE
from tests.unit.search.dedup_records import book

ISBN_X, ISBN_Y, ISBN_Z = "9787111544937", "9787302269663", "9787020040179"
_stamps = itertools.count(1)


@pytest.fixture
def store(db):
    """A migrated database holding the demo alliance's members."""
    with db.session() as session:
        import_alliance(session, load_alliance(DEMO_ALLIANCE))
    return db


def save(db, member: str, records: dict) -> dict[str, int]:
    """Store {oai identifier: BibRecord} for a member as a harvest would; return their ids."""
    stamp = f"2026-01-01T00:00:{next(_stamps) % 60:02d}Z"
    rows = [
        StoredRecord(i, stamp, "active", "marc21", f"{i}{stamp}".encode(), bib_to_json(r))
        for i, r in records.items()
    ]
    save_page(db, start_run(db, member, "full", "marc21"), member, rows, Checkpoint(None, 0, None))
    with db.session() as session:
        query = select(Record.oai_identifier, Record.id).where(Record.member_code == member)
        return {i: rid for i, rid in session.execute(query) if i in records}


def delete(db, member: str, identifier: str) -> None:
    mark_deleted(db, member, [identifier], start_run(db, member, "full", "marc21"), "2026-02-01")


def novel(member, title="微观经济学导论", isbns=(ISBN_X,), **fields):
    fields.setdefault("names", ["周瑞静"])
    fields.setdefault("publisher", "浙江大学出版社")
    fields.setdefault("year", 2001)
    fields.setdefault("pages", 298)
    return book(member, title, isbns=list(isbns), **fields)


def clusters(db) -> dict[str, set[int]]:
    with db.session() as session:
        out: dict[str, set[int]] = {}
        for rid, cid in session.execute(select(ClusterRecord.record_id, ClusterRecord.cluster_id)):
            out.setdefault(cid, set()).add(rid)
        return out


def cluster_of(db, rid: int) -> str | None:
    with db.session() as session:
        return services.cluster_of_record(session, rid)


def do(db, call, *args, **kwargs):
    with db.session() as session:
        return call(session, *args, **kwargs)


def three_holders(store):
    """ytu, ldu and ytlib hold one edition; sdtbu holds another book."""
    ids = save(store, "ytu", {"a1": novel("ytu")})
    ids |= save(store, "ldu", {"b1": novel("ldu")})
    ids |= save(store, "ytlib", {"c1": novel("ytlib")})
    ids |= save(store, "sdtbu", {"d1": novel("sdtbu", "果树栽培技术", (ISBN_Z,), names=["汪英磊"])})
    return ids


def test_a_rebuild_clusters_the_store_and_a_second_one_keeps_every_id(store):
    ids = three_holders(store)
    changes = do(store, services.rebuild_clusters)
    first = clusters(store)
    assert sorted(map(sorted, first.values())) == sorted(
        [sorted([ids["a1"], ids["b1"], ids["c1"]]), [ids["d1"]]]
    )
    assert sorted(changes.upserted) == sorted(first) and changes.removed == []
    do(store, services.rebuild_clusters)
    assert clusters(store) == first


def test_a_new_record_joins_the_cluster_it_shares_an_isbn_with_and_keeps_its_id(store):
    ids = three_holders(store)
    do(store, services.rebuild_clusters)
    before = cluster_of(store, ids["a1"])
    new = save(store, "fushan-pl", {"e1": novel("fushan-pl", title="微觀經濟學導論")})["e1"]
    changes = do(store, services.recluster, [new])
    assert cluster_of(store, new) == before == cluster_of(store, ids["a1"])
    assert changes.upserted == [before] and changes.removed == []


def test_an_updated_record_moves_to_the_book_it_now_describes(store):
    ids = three_holders(store)
    do(store, services.rebuild_clusters)
    book_x, book_z = cluster_of(store, ids["a1"]), cluster_of(store, ids["d1"])
    save(store, "ldu", {"b1": novel("ldu", "果树栽培技术", (ISBN_Z,), names=["汪英磊"])})
    changes = do(store, services.recluster, [ids["b1"]])
    assert cluster_of(store, ids["b1"]) == book_z
    assert clusters(store)[book_x] == {ids["a1"], ids["c1"]}
    assert set(changes.upserted) == {book_x, book_z}


def test_deleting_the_record_that_held_a_cluster_together_dissolves_it(store):
    ids = save(store, "ytu", {"a": novel("ytu", isbns=(ISBN_X,))})
    ids |= save(store, "ldu", {"b": novel("ldu", isbns=(ISBN_X, ISBN_Y))})  # hardback and paperback
    ids |= save(store, "ytlib", {"c": novel("ytlib", isbns=(ISBN_Y,))})
    do(store, services.rebuild_clusters)
    old = cluster_of(store, ids["a"])
    assert clusters(store)[old] == {ids["a"], ids["b"], ids["c"]}
    delete(store, "ldu", "b")
    changes = do(store, services.recluster, [ids["b"]])
    assert cluster_of(store, ids["b"]) is None
    assert cluster_of(store, ids["a"]) != cluster_of(store, ids["c"])
    assert old in (cluster_of(store, ids["a"]), cluster_of(store, ids["c"]))  # one keeps the id
    assert len(changes.upserted) == 2 and changes.removed == []


def test_deleting_a_clusters_only_record_removes_the_cluster(store):
    ids = three_holders(store)
    do(store, services.rebuild_clusters)
    gone = cluster_of(store, ids["d1"])
    delete(store, "sdtbu", "d1")
    changes = do(store, services.recluster, [ids["d1"]])
    assert changes.removed == [gone] and gone not in clusters(store)


def test_incremental_changes_end_where_a_full_rebuild_ends(store):
    ids = three_holders(store)
    do(store, services.rebuild_clusters)
    more = save(store, "muping-pl", {"m1": novel("muping-pl", isbns=(), pages=299)})
    more |= save(
        store,
        "penglai-pl",
        {"p1": novel("penglai-pl", "果树栽培技术", (ISBN_Z,), names=["汪英磊"])},
    )
    do(store, services.recluster, more.values())
    delete(store, "ytu", "a1")
    do(store, services.recluster, [ids["a1"]])
    incremental = clusters(store)
    do(store, services.rebuild_clusters)
    assert sorted(map(sorted, clusters(store).values())) == sorted(
        map(sorted, incremental.values())
    )


def test_a_staff_merge_survives_reclustering_reharvesting_and_rebuilding(store):
    ids = three_holders(store)
    do(store, services.rebuild_clusters)
    x, z = cluster_of(store, ids["a1"]), cluster_of(store, ids["d1"])
    do(store, services.force_merge, x, z, by="librarian", reason="same book, wrong ISBN")
    assert cluster_of(store, ids["d1"]) == cluster_of(store, ids["a1"])
    save(
        store,
        "sdtbu",
        {"d1": novel("sdtbu", "果树栽培技术", (ISBN_Z,), names=["汪英磊"], pages=300)},
    )
    do(store, services.recluster, [ids["d1"]])
    assert cluster_of(store, ids["d1"]) == cluster_of(store, ids["a1"])
    do(store, services.rebuild_clusters)
    assert cluster_of(store, ids["d1"]) == cluster_of(store, ids["a1"])
    staff = [
        e
        for e in do(store, services.explain_cluster, cluster_of(store, ids["a1"]))
        if e.rule == "staff-merge"
    ]
    assert staff and staff[0].values == {"by": "librarian", "reason": "same book, wrong ISBN"}


def test_a_staff_split_survives_reclustering_reharvesting_and_rebuilding(store):
    ids = three_holders(store)
    do(store, services.rebuild_clusters)
    cid = cluster_of(store, ids["a1"])
    changes = do(store, services.force_split, cid, [ids["c1"]], by="librarian", reason="reprint")
    assert cluster_of(store, ids["c1"]) != cid == cluster_of(store, ids["a1"])
    assert cid in changes.upserted and cluster_of(store, ids["c1"]) in changes.upserted
    save(store, "ytlib", {"c1": novel("ytlib", pages=297)})
    do(store, services.recluster, [ids["c1"]])
    assert cluster_of(store, ids["c1"]) != cluster_of(store, ids["a1"])
    do(store, services.rebuild_clusters)
    assert cluster_of(store, ids["c1"]) != cluster_of(store, ids["a1"])
    assert cluster_of(store, ids["b1"]) == cluster_of(store, ids["a1"])


def test_a_later_staff_decision_replaces_an_earlier_one(store):
    ids = three_holders(store)
    do(store, services.rebuild_clusters)
    cid = cluster_of(store, ids["a1"])
    do(store, services.force_split, cid, [ids["c1"]])
    do(store, services.force_merge, cid, cluster_of(store, ids["c1"]))
    assert cluster_of(store, ids["c1"]) == cluster_of(store, ids["a1"])


def test_staff_decisions_on_unknown_clusters_or_records_say_what_to_fix(store):
    ids = three_holders(store)
    do(store, services.rebuild_clusters)
    cid = cluster_of(store, ids["a1"])
    with pytest.raises(ValueError, match="no cluster 'c999999'"):
        do(store, services.force_merge, cid, "c999999")
    with pytest.raises(ValueError, match="not in cluster"):
        do(store, services.force_split, cid, [ids["d1"]])
    with pytest.raises(ValueError, match="some, but not all"):
        do(store, services.force_split, cid, [ids["a1"], ids["b1"], ids["c1"]])
    with pytest.raises(ValueError, match="identifier key"):
        do(store, services.block_identifier, "9787111544937")


def test_a_blocklisted_isbn_stops_holding_records_together(store):
    ids = save(store, "ytu", {"a": novel("ytu")})
    ids |= save(store, "ldu", {"b": novel("ldu", "完全不同的书", names=["李四"], pages=120)})
    ids |= save(store, "ytlib", {"c": novel("ytlib", "完全不同的书", names=["李四"], pages=120)})
    do(store, services.rebuild_clusters)
    assert cluster_of(store, ids["b"]) == cluster_of(store, ids["c"])
    do(store, services.block_identifier, f"isbn:{ISBN_X}", by="librarian", reason="printer's error")
    assert cluster_of(store, ids["b"]) == cluster_of(store, ids["c"])  # the title rule still holds
    explained = do(store, services.explain_cluster, cluster_of(store, ids["b"]))
    assert {e.rule for e in explained} >= {"title", "ignored-identifier"}
    ignored = next(e for e in explained if e.rule == "ignored-identifier")
    assert ignored.values["identifier"] == f"isbn:{ISBN_X}" and ignored.values["source"] == "staff"


def test_explain_cluster_says_why_each_record_joined_and_which_editions_are_linked(store):
    ids = three_holders(store)
    ids |= save(
        store, "zhifu-pl", {"f1": novel("zhifu-pl", isbns=(ISBN_Y,), year=2009, edition="第2版")}
    )
    do(store, services.rebuild_clusters)
    first = cluster_of(store, ids["a1"])
    explained = do(store, services.explain_cluster, first)
    by_record = {e.record_id: e for e in explained if e.rule in ("seed", "isbn")}
    assert set(by_record) == {ids["a1"], ids["b1"], ids["c1"]}
    assert by_record[ids["a1"]].rule == "seed"
    assert by_record[ids["b1"]].values == {"isbn": ISBN_X}
    assert by_record[ids["b1"]].matched_record_id == ids["a1"]
    second = do(store, services.explain_cluster, cluster_of(store, ids["f1"]))
    link = next(e for e in second if e.rule == "title-author")
    assert link.values["work_id"] == "w" + first[1:]
    assert do(store, services.explain_cluster, "c-none") == []


def test_cluster_documents_carry_every_members_holdings_with_region_and_type(store):
    ids = three_holders(store)
    do(store, services.rebuild_clusters)
    cid = cluster_of(store, ids["a1"])
    (doc,) = do(store, services.cluster_documents, [cid, "c-none"])
    assert doc["cluster_id"] == cid and doc["title"] == "微观经济学导论"
    assert doc["members"] == ["ldu", "ytlib", "ytu"]
    assert doc["library_types"] == ["public", "university"]
    assert doc["regions"] == sorted({h["region"] for h in doc["holdings"]})
    assert doc["holding_count"] == 3
    assert {h["record_id"] for h in doc["holdings"]} == {ids["a1"], ids["b1"], ids["c1"]}
    assert ISBN_X in doc["isbns"] and "7111544935" in doc["isbns"]  # and its ISBN-10


def test_a_harvest_run_reclusters_what_it_stored_since_it_started(store):
    ids = three_holders(store)
    do(store, services.rebuild_clusters)
    with store.session() as session:
        started = session.execute(select(Record.harvested_at).order_by(Record.id.desc())).scalar()
    new = save(store, "fushan-pl", {"e1": novel("fushan-pl")})["e1"]
    delete(store, "sdtbu", "d1")
    changes = do(store, services.recluster_since, started)
    assert cluster_of(store, new) == cluster_of(store, ids["a1"])
    assert cluster_of(store, ids["d1"]) is None and len(changes.removed) == 1


def test_reclusterings_running_at_once_both_finish_and_agree(store):
    ids = three_holders(store)
    do(store, services.rebuild_clusters)
    more = save(store, "fushan-pl", {"e1": novel("fushan-pl")})
    more |= save(store, "muping-pl", {"m1": novel("muping-pl")})
    errors = []

    def worker(rid):
        try:
            do(store, services.recluster, [rid])
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(rid,)) for rid in more.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    expected = {ids["a1"], ids["b1"], ids["c1"], *more.values()}
    assert clusters(store)[cluster_of(store, ids["a1"])] == expected


def test_an_edition_whose_last_record_is_deleted_leaves_its_work(store):
    ids = three_holders(store)
    ids |= save(
        store, "zhifu-pl", {"f1": novel("zhifu-pl", isbns=(ISBN_Y,), year=2009, edition="第2版")}
    )
    do(store, services.rebuild_clusters)
    first = cluster_of(store, ids["a1"])
    (doc,) = do(store, services.cluster_documents, [first])
    assert doc["work_id"] == "w" + first[1:]
    delete(store, "zhifu-pl", "f1")
    changes = do(store, services.recluster, [ids["f1"]])
    (doc,) = do(store, services.cluster_documents, [first])
    assert doc["work_id"] is None and first in changes.upserted


def test_a_staff_merge_outlives_the_deletion_of_any_one_record(store):
    ids = three_holders(store)
    do(store, services.rebuild_clusters)
    x, z = cluster_of(store, ids["a1"]), cluster_of(store, ids["d1"])
    do(store, services.force_merge, x, z)
    delete(store, "ytu", "a1")
    do(store, services.recluster, [ids["a1"]])
    assert cluster_of(store, ids["d1"]) == cluster_of(store, ids["b1"]) is not None
