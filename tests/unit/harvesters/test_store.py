"""The record store: batched upserts with their checkpoint, counts, tombstones, rejections."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from federation.alliance import load_alliance
from federation.members import import_alliance
from federation.models import HarvestRun, Record
from harvesters.harvest import to_records
from harvesters.pages import parse_page
from harvesters.runs import get_run, start_run
from harvesters.store import (
    Checkpoint,
    StoredRecord,
    bib_from_json,
    bib_to_json,
    compress,
    decompress,
    live_identifiers,
    mark_deleted,
    save_page,
)
from tests.conftest import DEMO_ALLIANCE
from tests.unit.harvesters.loopback import oai_file

MEMBER = "ytu"


@pytest.fixture
def store(db):
    """A database with the demo alliance's members (records refer to them)."""
    with db.session() as session:
        import_alliance(session, load_alliance(DEMO_ALLIANCE))
    return db


def alma_page():
    """100 real MARC 21 records (Ex Libris Alma) as the harvest loop turns them into rows."""
    page = parse_page(oai_file("vufindharvest/marc.xml"))
    records, errors = to_records(page.items, "marc21", "marc21", MEMBER)
    assert errors == []
    return records


def checkpoint(token: str | None = "t1", cursor: int = 100, last: str | None = None):  # noqa: S107
    return Checkpoint(resumption_token=token, cursor=cursor, last_datestamp=last)


def rows(db) -> dict[str, Record]:
    with db.session() as session:
        found = session.scalars(select(Record).where(Record.member_code == MEMBER)).all()
        for row in found:
            session.expunge(row)
    return {r.oai_identifier: r for r in found}


def test_a_first_page_is_stored_new_with_its_payload_and_normalised_record(store):
    run = start_run(store, MEMBER, "full", "marc21")
    counts = save_page(store, run, MEMBER, alma_page(), checkpoint())
    assert (counts.new, counts.updated, counts.unchanged, counts.deleted) == (100, 0, 0, 0)
    stored = rows(store)
    assert len(stored) == 100
    row = stored["oai:urm_publish:9925821506101791"]
    assert row.status == "active" and row.run_id == run
    assert row.datestamp == "2016-05-02T08:06:51Z"
    assert decompress(row.raw).startswith(b'<record xmlns="http://www.loc.gov/MARC21/slim"')
    assert row.normalised["title"] and row.normalised["source_format"] == "marc21"


def test_harvesting_the_same_page_again_is_idempotent(store):
    first = start_run(store, MEMBER, "full", "marc21")
    save_page(store, first, MEMBER, alma_page(), checkpoint())
    before = rows(store)
    again = start_run(store, MEMBER, "full", "marc21")
    counts = save_page(store, again, MEMBER, alma_page(), checkpoint())
    assert (counts.new, counts.updated, counts.unchanged) == (0, 0, 100)
    after = rows(store)
    assert {i: (r.run_id, r.harvested_at) for i, r in after.items()} == {
        i: (r.run_id, r.harvested_at) for i, r in before.items()
    }, "unchanged records must not be rewritten"
    assert get_run(store, again).new == 0 and get_run(store, again).pages == 1


def test_a_new_datestamp_or_a_new_payload_is_an_update(store):
    run = start_run(store, MEMBER, "full", "marc21")
    records = alma_page()
    save_page(store, run, MEMBER, records, checkpoint())
    records[0].datestamp = "2020-01-01T00:00:00Z"
    records[1].raw = compress(
        decompress(records[1].raw).replace(b"</record>", b"<!-- x --></record>")
    )
    counts = save_page(store, run, MEMBER, records, checkpoint())
    assert (counts.new, counts.updated, counts.unchanged) == (0, 2, 98)
    assert rows(store)[records[0].oai_identifier].datestamp == "2020-01-01T00:00:00Z"


def test_a_deleted_header_leaves_a_tombstone_without_payload(store):
    run = start_run(store, MEMBER, "full", "marc21")
    records = alma_page()
    save_page(store, run, MEMBER, records, checkpoint())
    gone = records[5].oai_identifier
    tombstone = StoredRecord(gone, "2024-01-01T00:00:00Z", "deleted", "marc21")
    unknown = StoredRecord("oai:never-seen", "2024-01-01T00:00:00Z", "deleted", "marc21")
    counts = save_page(store, run, MEMBER, [tombstone, unknown], checkpoint())
    assert counts.deleted == 2
    row = rows(store)[gone]
    assert (row.status, row.raw, row.normalised) == ("deleted", None, None)
    with store.engine.connect() as conn:  # SQL NULL, not the JSON text 'null'
        nulls = conn.execute(
            text("SELECT count(*) FROM records WHERE normalised IS NULL AND status = 'deleted'")
        ).scalar()
    assert nulls == 2
    again = save_page(store, run, MEMBER, [tombstone], checkpoint())
    assert (again.deleted, again.unchanged) == (0, 1)
    assert gone not in set(live_identifiers(store, MEMBER))


def test_a_rejected_record_keeps_its_payload_and_reason(store):
    page = parse_page(
        oai_file("invenio-oaiharvester-arxiv/sample_inspire_response_listrecords.xml")
    )
    records, _ = to_records(page.items, "marc21", "marc21", MEMBER)
    run = start_run(store, MEMBER, "full", "marc21")
    counts = save_page(store, run, MEMBER, records, checkpoint())
    assert counts.rejected == 2 and counts.new == 0
    for row in rows(store).values():
        assert row.status == "rejected"
        assert row.reject_reason == "no 245 title field"
        assert decompress(row.raw).startswith(b"<marc:record")
        assert row.normalised is None


def test_each_page_moves_the_checkpoint_with_its_counters(store):
    run = start_run(store, MEMBER, "full", "marc21")
    records = alma_page()
    save_page(
        store,
        run,
        MEMBER,
        records[:60],
        Checkpoint(
            "tok-1",
            60,
            "2016-05-02T08:06:51Z",
            response_date="2026-01-01T00:00:00Z",
            illegal_chars=2,
            retries=1,
        ),
    )
    save_page(
        store,
        run,
        MEMBER,
        records[60:],
        Checkpoint("tok-2", 100, "2016-06-01T00:00:00Z", response_date="2026-01-02T00:00:00Z"),
    )
    row = get_run(store, run)
    assert (row.pages, row.new, row.cursor, row.resumption_token) == (2, 100, 100, "tok-2")
    assert row.last_datestamp == "2016-06-01T00:00:00Z"
    assert row.response_date == "2026-01-01T00:00:00Z", "the first page's responseDate is kept"
    assert (row.illegal_chars, row.retries) == (2, 1)
    assert row.checkpoint_at is not None


def test_a_page_that_cannot_be_stored_leaves_records_and_checkpoint_as_they_were(store):
    run = start_run(store, MEMBER, "full", "marc21")
    records = alma_page()
    save_page(store, run, MEMBER, records[:50], checkpoint("tok-1", 50))
    broken = records[50:]
    broken[-1].datestamp = None  # NOT NULL: the database refuses the last row of the batch
    with pytest.raises(IntegrityError):
        save_page(store, run, MEMBER, broken, checkpoint("tok-2", 100))
    assert len(rows(store)) == 50
    row = get_run(store, run)
    assert (row.pages, row.new, row.resumption_token, row.cursor) == (1, 50, "tok-1", 50)


def test_an_identifier_repeated_within_a_page_is_stored_once_the_last_wins(store):
    run = start_run(store, MEMBER, "full", "marc21")
    records = alma_page()[:2]
    twin = StoredRecord(
        records[0].oai_identifier,
        "2030-01-01T00:00:00Z",
        "active",
        "marc21",
        records[0].raw,
        records[0].normalised,
    )
    counts = save_page(store, run, MEMBER, [*records, twin], checkpoint())
    assert counts.new == 2
    assert rows(store)[twin.oai_identifier].datestamp == "2030-01-01T00:00:00Z"


def test_reconciled_deletions_become_tombstones(store):
    run = start_run(store, MEMBER, "full", "marc21")
    records = alma_page()
    save_page(store, run, MEMBER, records, checkpoint())
    gone = [r.oai_identifier for r in records[:3]]
    assert mark_deleted(store, MEMBER, [*gone, "oai:unknown"], run, "2026-02-02T00:00:00Z") == 3
    assert mark_deleted(store, MEMBER, gone, run, "2026-02-02T00:00:00Z") == 0
    assert set(live_identifiers(store, MEMBER)) == {r.oai_identifier for r in records[3:]}
    assert rows(store)[gone[0]].normalised is None


def test_the_normalised_record_comes_back_as_the_same_bibrecord():
    page = parse_page(oai_file("vufindharvest/marc.xml"))
    from harvesters.parsers import parse_metadata

    for item in page.items[:20]:
        bib = parse_metadata("marc21", item.metadata, member=MEMBER, keep_raw=False)
        assert bib_from_json(bib_to_json(bib)) == bib


def test_runs_are_recorded_in_harvest_runs(store):
    run = start_run(store, MEMBER, "incremental", "marc21", from_date="2026-01-01")
    with store.session() as session:
        row = session.get(HarvestRun, run)
        assert (row.status, row.kind, row.from_date, row.pages) == (
            "running",
            "incremental",
            "2026-01-01",
            0,
        )


def test_payloads_stored_before_as_zlib_still_read_and_new_ones_are_zstd():
    import zlib

    payload = '<record xmlns="http://www.loc.gov/MARC21/slim"><leader>红楼梦</leader></record>'
    payload = payload.encode() * 20
    assert decompress(zlib.compress(payload, 1)) == payload  # a store made before session 6
    stored = compress(payload)
    assert stored[:4] == b"\x28\xb5\x2f\xfd" and len(stored) < len(payload) / 3
    assert decompress(stored) == payload
