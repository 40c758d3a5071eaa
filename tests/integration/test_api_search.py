"""The JSON API and SRU over a real harvested, clustered and indexed demo subset: three
members (MARC 21, UNIMARC, Dublin Core) harvested over OAI-PMH on loopback."""

from __future__ import annotations

import pytest
from lxml import etree
from sqlalchemy import func, select

from federation.models import ClusterRecord
from search.indexing import rebuild_index
from tests.integration.test_indexing import harvested  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
SRU = {"sru": "http://docs.oasis-open.org/ns/search-ws/sruResponse"}


@pytest.fixture
def demo_client(db, harvested):  # noqa: F811 - pytest fixture by name
    """A client of an app whose index holds the harvested demo subset."""
    from web import create_app

    settings, _corpus = harvested
    app = create_app(settings)
    app.config["TESTING"] = True
    rebuild_index(db, app.extensions["federation.search"])
    yield app.test_client()
    app.extensions["federation.search"].close()
    app.extensions["federation.db"].dispose()


def test_search_facets_and_paging_over_the_harvested_catalogue(demo_client):
    body = demo_client.get("/api/v1/search?q=中国发展报告&page_size=5").get_json()
    assert body["total"] >= 1
    assert "中国发展报告" in body["hits"][0]["title"]
    members = {b["value"] for b in body["facets"]["member"]}
    assert members and members <= {"ytu", "ytlib", "xingfu-cl"}

    everything = demo_client.get("/api/v1/search?page_size=100&filter=member:ytu").get_json()
    assert everything["total"] > 100
    assert all("ytu" in h["members"] for h in everything["hits"])
    second = demo_client.get(everything["links"]["next"]).get_json()
    first_ids = {h["cluster_id"] for h in everything["hits"]}
    assert not first_ids & {h["cluster_id"] for h in second["hits"]}


def test_merged_record_explains_why_its_records_are_one(demo_client, db):
    with db.session() as s:
        cluster_id = s.scalar(
            select(ClusterRecord.cluster_id)
            .group_by(ClusterRecord.cluster_id)
            .having(func.count() > 1)
            .order_by(ClusterRecord.cluster_id)
            .limit(1)
        )
    assert cluster_id, "the demo subset should have clusters of several members' records"
    body = demo_client.get(f"/api/v1/records/{cluster_id}").get_json()
    assert len({h["record_id"] for h in body["holdings"]}) > 1
    rules = [e["rule"] for e in body["why_merged"]]
    assert "seed" in rules and len(rules) >= 2
    assert all(e["label"] and e["record_id"] for e in body["why_merged"][:2])
    joined = body["why_merged"][1]
    assert joined["matched_record_id"] and joined["values"]


def test_sru_finds_the_same_records_as_the_json_api(demo_client):
    api_total = demo_client.get("/api/v1/search?q=title:中国发展报告").get_json()["total"]
    response = demo_client.get(
        "/sru", query_string={"query": 'dc.title="中国发展报告"', "recordSchema": "marcxml"}
    )
    root = etree.fromstring(response.data, PARSER)
    assert root.xpath("string(sru:numberOfRecords)", namespaces=SRU) == str(api_total)
    assert root.xpath("count(//sru:record)", namespaces=SRU) >= 1


OAI = {"oai": "http://www.openarchives.org/OAI/2.0/", "marc": "http://www.loc.gov/MARC21/slim"}


def test_union_catalogue_is_harvestable_over_oai_pmh(demo_client, db):
    from federation.models import Cluster, Record

    demo_client.application.config["RATE_LIMITS"] = {"oai": (10_000, 60)}
    with db.session() as s:
        clusters = set(s.scalars(select(Cluster.id)))
        withdrawn = {
            f"c{i}" for i in s.scalars(select(Record.id).where(Record.status == "deleted"))
        }
    seen: list[str] = []
    deleted: list[str] = []
    params = {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}
    while True:
        root = etree.fromstring(demo_client.get("/oai", query_string=params).data, PARSER)
        assert not root.xpath("//oai:error", namespaces=OAI), etree.tostring(root)[:300]
        seen += root.xpath("//oai:header[not(@status)]/oai:identifier/text()", namespaces=OAI)
        deleted += root.xpath(
            "//oai:header[@status='deleted']/oai:identifier/text()", namespaces=OAI
        )
        token = root.xpath("string(//oai:resumptionToken)", namespaces=OAI)
        if not token:
            break
        params = {"verb": "ListIdentifiers", "resumptionToken": token}
    assert len(seen) == len(set(seen)) == len(clusters)
    assert {i.removeprefix("oai:union:") for i in seen} == clusters
    # Records withdrawn at their source whose id names no cluster are announced as deleted.
    assert withdrawn, "the demo subset includes withdrawn records"
    assert {i.removeprefix("oai:union:") for i in deleted} == withdrawn - clusters

    one = sorted(clusters)[0]
    record = demo_client.get(
        "/oai", query_string={"verb": "GetRecord", "metadataPrefix": "marcxml",
                              "identifier": f"oai:union:{one}"}
    )  # fmt: skip
    root = etree.fromstring(record.data, PARSER)
    assert root.xpath("//marc:datafield[@tag='245']", namespaces=OAI)
    assert root.xpath("//marc:datafield[@tag='852']", namespaces=OAI)
    bad = etree.fromstring(demo_client.get("/oai?verb=Nonsense").data, PARSER)
    assert bad.xpath("//oai:error/@code", namespaces=OAI) == ["badVerb"]
