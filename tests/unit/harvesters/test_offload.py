"""Big pages normalised in a worker process land exactly as when normalised in process."""

from __future__ import annotations

import multiprocessing

import pytest

from harvesters import offload
from harvesters.harvest import to_records
from harvesters.offload import RecordPool
from harvesters.pages import parse_page
from tests.unit.harvesters.loopback import oai_file

MEMBER = "ytu"
ALMA = "vufindharvest/marc.xml"  # 100 real MARC 21 records (Ex Libris Alma)


def in_process(content: bytes, fmt: str = "marc21"):
    page = parse_page(content)
    return to_records(page.items, fmt, fmt, MEMBER)


def through_pool(content: bytes, fmt: str = "marc21"):
    with RecordPool(fmt, fmt, MEMBER) as pool:
        [(page, job)] = list(pool.prepare(iter([parse_page(content)])))
        return job, pool.records(page, job)()


def rows(parsed):
    records, errors = parsed
    return [
        (r.oai_identifier, r.datestamp, r.status, r.raw, r.normalised, r.reject_reason)
        for r in records
    ], errors


def test_a_big_page_goes_to_the_worker_and_stores_the_same_rows():
    content = oai_file(ALMA)
    job, parsed = through_pool(content)
    assert job is not None  # the page was big enough to go to the worker
    assert rows(parsed) == rows(in_process(content))


def test_small_pages_stay_in_process():
    job, parsed = through_pool(oai_file("sickle/ListRecords4.xml"), "oai_dc")
    assert job is None
    assert rows(parsed) == rows(in_process(oai_file("sickle/ListRecords4.xml"), "oai_dc"))


def test_deleted_rejected_and_unidentified_items_come_back_as_in_process(monkeypatch):
    monkeypatch.setattr(offload, "POOL_MIN_RECORDS", 1)
    content = oai_file(ALMA)
    head, _, rest = content.partition(b"<record>")
    odd = (
        b"<record><header status='deleted'><identifier>oai:gone</identifier>"
        b"<datestamp>2026-01-01</datestamp></header></record>"
        b"<record><header><identifier>oai:empty</identifier><datestamp>2026-01-02</datestamp>"
        b"</header><metadata/></record>"
        b"<record><header><identifier></identifier><datestamp>2026-01-03</datestamp>"
        b"</header><metadata><x xmlns='urn:x'/></metadata></record>"
    )
    content = head + odd + b"<record>" + rest
    job, parsed = through_pool(content)
    assert job is not None
    assert rows(parsed) == rows(in_process(content))
    statuses = {r.oai_identifier: r.status for r in parsed[0]}
    assert statuses["oai:gone"] == "deleted" and statuses["oai:empty"] == "rejected"
    assert parsed[1] == ["1 record(s) without a usable identifier skipped"]


def test_a_record_that_only_parses_within_its_page_is_parsed_in_process(monkeypatch):
    monkeypatch.setattr(offload, "POOL_MIN_RECORDS", 1)
    content = oai_file(ALMA)
    decl, _, body = content.partition(b"?>")
    # An entity from the page's own DTD: left unresolved, it cannot be re-read on its own.
    dtd = b'<!DOCTYPE OAI-PMH [<!ENTITY pub "Publisher">]>'
    body = body.replace(b'code="b">', b'code="b">&pub; ', 1)
    content = decl + b"?>" + dtd + body
    job, parsed = through_pool(content)
    assert job.result() is None  # the worker gave the page back
    assert rows(parsed) == rows(in_process(content))


def test_the_worker_is_gone_when_the_pool_closes_even_after_an_error():
    content = oai_file(ALMA)
    with pytest.raises(RuntimeError), RecordPool("marc21", "marc21", MEMBER) as pool:
        list(pool.prepare(iter([parse_page(content)])))
        assert multiprocessing.active_children()
        raise RuntimeError("the harvest loop failed")
    assert not multiprocessing.active_children()
