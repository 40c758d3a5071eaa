"""Harvest the OAI-PMH provider over real loopback HTTP with the sickle client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import requests
from lxml import etree
from sickle import Sickle
from sickle.iterator import OAIResponseIterator
from sickle.oaiexceptions import BadArgument, NoRecordsMatch

from web.oai.provider import MemoryRecord, MemoryRepository, MetadataFormat, OAIProvider, SetSpec
from web.oai.server import EndpointServer

pytestmark = pytest.mark.integration

SCHEMA = etree.XMLSchema(
    etree.parse(str(Path(__file__).resolve().parents[1] / "data/schemas/oai-pmh-federation.xsd"))
)
MARC = "http://www.loc.gov/MARC21/slim"
DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
FORMATS = (
    MetadataFormat("marc21", "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd", MARC),
    MetadataFormat("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", DC_NS),
)
SETS = (SetSpec("public", "Public libraries"), SetSpec("university", "University libraries"))
TOTAL = 1050
START = datetime(2023, 1, 1, tzinfo=UTC)


def title(n: int) -> str:
    return f"Book {n} — 图书 {n} & <more>"


def make_record(n: int) -> MemoryRecord:
    """Record ``n``: three records share each datestamp, so pages split ties."""
    payloads = {
        "marc21": (
            f'<record xmlns="{MARC}"><leader>00000nam a2200000 a 4500</leader>'
            f'<controlfield tag="001">b{n}</controlfield><datafield tag="245" ind1="1" ind2="0">'
            f'<subfield code="a">{escape(title(n))}</subfield></datafield></record>'
        ).encode(),
        "oai_dc": (
            f'<oai_dc:dc xmlns:oai_dc="{DC_NS}" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:title>{escape(title(n))}</dc:title></oai_dc:dc>"
        ).encode(),
    }
    return MemoryRecord(
        identifier=f"oai:city-library.example.org:{n:05d}",
        datestamp=START + timedelta(hours=7 * (n // 3)),
        payloads=payloads,
        deleted=n % 17 == 5,
        sets=("university",) if n % 3 == 0 else ("public",),
    )


RECORDS = [make_record(n) for n in range(TOTAL)]
BY_ID = {r.identifier: r for r in RECORDS}


def expected(predicate=lambda r: True) -> list[str]:
    ordered = sorted(RECORDS, key=lambda r: (r.datestamp, r.identifier))
    return [r.identifier for r in ordered if predicate(r)]


@pytest.fixture(scope="module")
def endpoint():
    """A member library's endpoint on a free loopback port; its base URL."""
    repo = MemoryRepository("City Library", "", RECORDS, FORMATS, SETS)
    with EndpointServer() as server:
        url = server.start(OAIProvider(repo, page_size=100).wsgi_app())
        yield url


@pytest.fixture(scope="module")
def sickle(endpoint):
    return Sickle(endpoint, timeout=30)


@pytest.mark.parametrize("prefix", ["marc21", "oai_dc"])
def test_list_records_harvests_every_record_exactly_once(sickle, prefix):
    harvested = list(sickle.ListRecords(metadataPrefix=prefix, ignore_deleted=False))
    ids = [r.header.identifier for r in harvested]
    assert ids == expected()
    assert len(set(ids)) == TOTAL
    for rec in harvested:
        source = BY_ID[rec.header.identifier]
        assert rec.header.deleted == source.deleted
        assert rec.header.setSpecs == list(source.sets)
        if source.deleted:
            assert rec.xml.find(f"{OAI}metadata") is None
        else:
            texts = rec.metadata["subfield" if prefix == "marc21" else "title"]
            assert texts == [title(int(rec.header.identifier[-5:]))]


def test_every_page_is_schema_valid_and_counts_its_place(endpoint):
    pages = list(
        Sickle(endpoint, iterator=OAIResponseIterator).ListRecords(metadataPrefix="marc21")
    )
    assert len(pages) == 11
    tokens = []
    for page in pages:
        assert SCHEMA.validate(page.xml), SCHEMA.error_log
        tokens.append(page.xml.find(f".//{OAI}resumptionToken"))
    assert [int(t.get("cursor")) for t in tokens] == list(range(0, TOTAL, 100))
    assert {t.get("completeListSize") for t in tokens} == {str(TOTAL)}
    assert all(t.text and t.get("expirationDate") for t in tokens[:-1])
    assert tokens[-1].text is None and tokens[-1].get("expirationDate") is None


def test_list_identifiers_and_list_sets(sickle):
    headers = list(sickle.ListIdentifiers(metadataPrefix="oai_dc", ignore_deleted=False))
    assert [h.identifier for h in headers] == expected()
    assert sum(h.deleted for h in headers) == sum(r.deleted for r in RECORDS) > 0
    live = [
        h.identifier for h in sickle.ListIdentifiers(metadataPrefix="oai_dc", ignore_deleted=True)
    ]
    assert live == expected(lambda r: not r.deleted)
    assert [(s.setSpec, s.setName) for s in sickle.ListSets()] == [
        ("public", "Public libraries"),
        ("university", "University libraries"),
    ]


@pytest.mark.parametrize("spec", ["public", "university"])
def test_selective_harvest_by_set(sickle, spec):
    records = sickle.ListRecords(metadataPrefix="marc21", set=spec, ignore_deleted=False)
    assert [r.header.identifier for r in records] == expected(lambda r: spec in r.sets)


def test_selective_harvest_by_dates(sickle):
    days = sickle.ListIdentifiers(
        metadataPrefix="marc21",
        ignore_deleted=False,
        **{"from": "2023-02-01", "until": "2023-03-31"},
    )
    first, last = datetime(2023, 2, 1, tzinfo=UTC), datetime(2023, 4, 1, tzinfo=UTC)
    assert [h.identifier for h in days] == expected(lambda r: first <= r.datestamp < last)
    seconds = sickle.ListRecords(
        metadataPrefix="oai_dc",
        ignore_deleted=False,
        **{"from": "2023-03-01T05:00:00Z", "until": "2023-05-01T12:00:00Z"},
    )
    first, last = datetime(2023, 3, 1, 5, tzinfo=UTC), datetime(2023, 5, 1, 12, tzinfo=UTC)
    assert [r.header.identifier for r in seconds] == expected(
        lambda r: first <= r.datestamp <= last
    )
    with pytest.raises(NoRecordsMatch):
        list(sickle.ListRecords(metadataPrefix="marc21", **{"from": "2031-01-01"}))
    with pytest.raises(BadArgument):
        list(
            sickle.ListRecords(
                metadataPrefix="marc21", **{"from": "2023-01-01", "until": "2023-02-01T00:00:00Z"}
            )
        )


def test_changes_during_a_harvest_are_neither_lost_nor_doubled():
    repo = MemoryRepository("Changing Library", "", RECORDS, FORMATS, SETS)
    later = START + timedelta(days=3650)
    added = MemoryRecord("oai:city-library.example.org:new", later, RECORDS[0].payloads)
    gone = RECORDS[900]  # not yet harvested when it is deleted
    deleted = MemoryRecord(gone.identifier, later + timedelta(seconds=1), deleted=True)
    with EndpointServer() as server:
        url = server.start(OAIProvider(repo, page_size=100).wsgi_app())
        seen = []
        for header in Sickle(url).ListIdentifiers(metadataPrefix="marc21", ignore_deleted=False):
            seen.append((header.identifier, header.deleted))
            if len(seen) == 150:  # mid-harvest, between pages two and three
                repo.put(added)
                repo.put(deleted)
    ids = [ident for ident, _ in seen]
    assert len(ids) == len(set(ids)) == TOTAL + 1
    assert ids == [i for i in expected() if i != gone.identifier] + [
        added.identifier,
        gone.identifier,
    ]
    assert seen[-1] == (gone.identifier, True)


def test_identify_and_get_record(sickle, endpoint):
    identify = sickle.Identify()
    assert identify.repositoryName == "City Library"
    assert identify.baseURL == endpoint  # taken from the request: the repository named none
    assert identify.earliestDatestamp == "2023-01-01T00:00:00Z"
    rec = sickle.GetRecord(identifier=RECORDS[10].identifier, metadataPrefix="marc21")
    assert rec.metadata["subfield"] == [title(10)]


def test_post_harvest_gives_the_same_list(endpoint):
    post = Sickle(endpoint, http_method="POST")
    ids = [
        h.identifier for h in post.ListIdentifiers(metadataPrefix="marc21", ignore_deleted=False)
    ]
    assert ids == expected()


def test_http_level_behaviour(endpoint):
    ok = requests.get(endpoint, params={"verb": "Identify"}, timeout=10)
    assert ok.status_code == 200
    assert ok.headers["Content-Type"] == "text/xml; charset=utf-8"
    error = requests.get(endpoint, params={"verb": "Frobnicate"}, timeout=10)
    assert error.status_code == 200  # OAI-PMH errors travel in a normal response
    assert b'code="badVerb"' in error.content
    for method in ("PUT", "DELETE", "PATCH"):
        refused = requests.request(method, endpoint, data={"verb": "Identify"}, timeout=10)
        assert refused.status_code == 405
        assert "POST" in refused.headers["Allow"]
    as_json = requests.post(endpoint, json={"verb": "Identify"}, timeout=10)
    assert as_json.status_code == 415
    too_big = requests.post(endpoint, data={"verb": "Identify", "x": "a" * 70_000}, timeout=10)
    assert too_big.status_code == 413
    head = requests.head(endpoint, params={"verb": "Identify"}, timeout=10)
    assert head.status_code == 200 and head.content == b""
    posted = requests.post(endpoint, data={"verb": "ListSets"}, timeout=10)
    assert posted.status_code == 200 and b"University libraries" in posted.content


def test_many_endpoints_run_side_by_side_and_stop():
    server = EndpointServer()
    urls = []
    for name in ("North District Library", "Normal University Library"):
        repo = MemoryRepository(name, "", RECORDS[:5], FORMATS)
        urls.append(server.start(OAIProvider(repo).wsgi_app()))
    try:
        assert len(set(urls)) == 2
        names = [Sickle(u).Identify().repositoryName for u in urls]
        assert names == ["North District Library", "Normal University Library"]
    finally:
        server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(urls[0], params={"verb": "Identify"}, timeout=5)
