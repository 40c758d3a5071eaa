"""The union catalogue's OAI-PMH provider (/oai) over a really harvested and clustered demo
subset: every verb and error validates against the official XSD, sets per member and per
district, deletions, from/until at both granularities, and a complete harvest with sickle."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree
from sickle import Sickle
from sqlalchemy import select, update

from federation.models import Cluster, ClusterRecord, Member, Record
from search.indexing import rebuild_index
from tests.integration.test_indexing import harvested  # noqa: F401 - the fixture
from web.oai.server import EndpointServer

pytestmark = pytest.mark.integration

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
SCHEMA = etree.XMLSchema(
    etree.parse(str(Path(__file__).resolve().parents[1] / "data/schemas/oai-pmh-federation.xsd"))
)
NS = {"oai": "http://www.openarchives.org/OAI/2.0/"}


@pytest.fixture
def union(db, harvested):  # noqa: F811 - pytest fixture by name
    """The app over the harvested subset, with generous OAI rate limits."""
    from web import create_app

    settings, _corpus = harvested
    app = create_app(settings)
    app.config["TESTING"] = True
    app.config["RATE_LIMITS"] = {"oai": (100_000, 60)}
    rebuild_index(db, app.extensions["federation.search"])
    yield app
    app.extensions["federation.search"].close()
    app.extensions["federation.db"].dispose()


def oai(app, **params) -> etree._Element:
    """Ask /oai, check the answer against the OAI-PMH XSD, return its root."""
    response = app.test_client().get("/oai", query_string=params)
    assert response.status_code == 200
    root = etree.fromstring(response.data, PARSER)
    SCHEMA.assertValid(root)
    return root


def error_code(root) -> str | None:
    codes = root.xpath("oai:error/@code", namespaces=NS)
    return codes[0] if codes else None


def harvest(app, **params) -> list[etree._Element]:
    """Return every header of a list request, following resumption tokens."""
    verb = params["verb"]
    headers = []
    while True:
        root = oai(app, **params)
        if error_code(root) == "noRecordsMatch":
            return headers
        assert error_code(root) is None, etree.tostring(root)[:400]
        headers += root.xpath("//oai:header", namespaces=NS)
        token = root.xpath("string(//oai:resumptionToken)", namespaces=NS)
        if not token:
            return headers
        params = {"verb": verb, "resumptionToken": token}


def ids(headers, deleted: bool = False) -> set[str]:
    want = [h for h in headers if (h.get("status") == "deleted") == deleted]
    return {h.findtext("oai:identifier", namespaces=NS).removeprefix("oai:union:") for h in want}


ERRORS = [
    ({"verb": "Nonsense"}, "badVerb"),
    ({}, "badVerb"),
    ({"verb": "ListRecords"}, "badArgument"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc"}, "badArgument"),
    ({"verb": "Identify", "extra": "x"}, "badArgument"),
    ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "from": "yesterday"}, "badArgument"),
    (
        {
            "verb": "ListIdentifiers",
            "metadataPrefix": "oai_dc",
            "from": "2026-01-01",
            "until": "2026-02-01T00:00:00Z",
        },
        "badArgument",
    ),  # fmt: skip
    ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
    (
        {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:union:nosuch"},
        "idDoesNotExist",
    ),
    ({"verb": "ListMetadataFormats", "identifier": "oai:union:nosuch"}, "idDoesNotExist"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "member:nosuch"}, "noRecordsMatch"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "shelf:a"}, "noRecordsMatch"),
    (
        {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "from": "2099-01-01"},
        "noRecordsMatch",
    ),
    ({"verb": "ListRecords", "resumptionToken": "forged"}, "badResumptionToken"),
    ({"verb": "ListSets", "resumptionToken": "forged"}, "badResumptionToken"),
]


def test_every_verb_and_every_error_validates_against_the_xsd(union, db):
    identify = oai(union, verb="Identify")
    assert identify.xpath("string(//oai:deletedRecord)", namespaces=NS) == "transient"
    assert identify.xpath("string(//oai:granularity)", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    formats = oai(union, verb="ListMetadataFormats")
    prefixes = formats.xpath("//oai:metadataPrefix/text()", namespaces=NS)
    assert sorted(prefixes) == ["marcxml", "oai_dc"]
    headers = harvest(union, verb="ListIdentifiers", metadataPrefix="oai_dc")
    one = "oai:union:" + sorted(ids(headers))[0]
    assert (
        oai(union, verb="ListMetadataFormats", identifier=one).xpath(
            "count(//oai:metadataFormat)", namespaces=NS
        )
        == 2
    )
    for prefix in ("oai_dc", "marcxml"):
        record = oai(union, verb="GetRecord", metadataPrefix=prefix, identifier=one)
        assert record.xpath("count(//oai:metadata/*)", namespaces=NS) == 1
        page = oai(union, verb="ListRecords", metadataPrefix=prefix)
        assert page.xpath("count(//oai:record)", namespaces=NS) > 10
    sets = oai(union, verb="ListSets").xpath("//oai:setSpec/text()", namespaces=NS)
    assert {"member", "district", "member:ytu", "member:ytlib", "member:xingfu-cl"} <= set(sets)
    with db.session() as s:
        districts = set(s.scalars(select(Member.region_code)))
    assert {f"district:{d}" for d in districts} <= set(sets)
    for params, code in ERRORS:
        assert error_code(oai(union, **params)) == code, params


def test_sets_select_the_clusters_of_a_member_or_a_district(union, db):
    with db.session() as s:

        def holders(condition):
            query = (
                select(ClusterRecord.cluster_id)
                .join(Record, Record.id == ClusterRecord.record_id)
                .where(condition, Record.status == "active")
            )
            return set(s.scalars(query))

        ytu = holders(Record.member_code == "ytu")
        district = s.scalar(select(Member.region_code).where(Member.code == "ytlib"))
        in_district = select(Member.code).where(Member.region_code == district)
        ytlib_district = holders(Record.member_code.in_(in_district))
        every = set(s.scalars(select(Cluster.id)))
    headers = harvest(union, verb="ListIdentifiers", metadataPrefix="oai_dc", set="member:ytu")
    assert ids(headers) == ytu and 0 < len(ytu) < len(every)
    assert all("member:ytu" in h.xpath("oai:setSpec/text()", namespaces=NS) for h in headers)
    spec = f"district:{district}"
    assert ids(harvest(union, verb="ListIdentifiers", metadataPrefix="oai_dc", set=spec)) == (
        ytlib_district
    )
    parent = harvest(union, verb="ListIdentifiers", metadataPrefix="oai_dc", set="member")
    assert ids(parent) == every


def test_withdrawn_records_are_announced_as_deleted_in_their_members_set(union, db):
    with db.session() as s:
        withdrawn = s.execute(
            select(Record.id, Record.member_code).where(Record.status == "deleted")
        ).all()
        every = set(s.scalars(select(Cluster.id)))
    assert withdrawn, "the demo subset has records withdrawn at their source"
    gone = {f"c{rid}": code for rid, code in withdrawn if f"c{rid}" not in every}
    headers = harvest(union, verb="ListRecords", metadataPrefix="marcxml")
    assert ids(headers, deleted=True) == set(gone)
    record = oai(union, verb="GetRecord", metadataPrefix="oai_dc",
                 identifier=f"oai:union:{next(iter(gone))}")  # fmt: skip
    assert record.xpath("//oai:header/@status", namespaces=NS) == ["deleted"]
    assert not record.xpath("//oai:metadata", namespaces=NS)
    code = next(iter(gone.values()))
    in_set = harvest(union, verb="ListIdentifiers", metadataPrefix="oai_dc", set=f"member:{code}")
    assert ids(in_set, deleted=True) == {c for c, m in gone.items() if m == code}


def test_from_and_until_at_day_and_seconds_granularity(union, db):
    with db.session() as s:
        clusters = sorted(s.scalars(select(Cluster.id)))
        early, late = clusters[:5], clusters[5:12]
        stamp = {c: datetime(2025, 3, 1, 10, tzinfo=UTC) for c in early}
        stamp |= {c: datetime(2025, 3, 2, 23, 59, 59, tzinfo=UTC) for c in late}
        for cluster_id, when in stamp.items():
            s.execute(update(Cluster).where(Cluster.id == cluster_id).values(updated_at=when))

    def window(**dates) -> set[str]:
        found = harvest(union, verb="ListIdentifiers", metadataPrefix="oai_dc", **dates)
        return ids(found)

    assert window(**{"from": "2025-03-01", "until": "2025-03-01"}) == set(early)
    assert window(**{"from": "2025-03-01", "until": "2025-03-02"}) == set(early + late)
    assert window(**{"from": "2025-03-02", "until": "2025-03-02"}) == set(late)
    assert window(until="2025-03-02T23:59:58Z") == set(early)
    assert window(**{"from": "2025-03-02T23:59:59Z", "until": "2025-03-02T23:59:59Z"}) == set(late)
    assert window(**{"from": "2025-03-01T10:00:01Z", "until": "2025-03-02T00:00:00Z"}) == set()


def test_sickle_harvests_the_whole_union_catalogue_over_http(union, db):
    with db.session() as s:
        every = set(s.scalars(select(Cluster.id)))
    with EndpointServer() as server:
        url = server.start(union.wsgi_app) + "oai"
        sickle = Sickle(url, timeout=30)
        records = list(sickle.ListRecords(metadataPrefix="oai_dc", ignore_deleted=True))
        member_sets = {s.setSpec for s in sickle.ListSets()}
    seen = [r.header.identifier.removeprefix("oai:union:") for r in records]
    assert len(seen) == len(set(seen)) == len(every)
    assert set(seen) == every
    assert all(r.metadata.get("title") for r in records)
    assert "member:ytu" in member_sets
