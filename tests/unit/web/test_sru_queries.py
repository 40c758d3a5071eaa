"""SRU searchRetrieve: each CQL test query returns exactly the right records, and every record
in the answers validates against its own schema (Dublin Core, MARC 21 slim)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from tests.unit.web.test_api_search import make_doc

SCHEMAS = Path(__file__).resolve().parents[2] / "data" / "schemas"
DC_SCHEMA = etree.XMLSchema(etree.parse(str(SCHEMAS / "oai_dc.xsd")))
MARC_SCHEMA = etree.XMLSchema(etree.parse(str(SCHEMAS / "MARC21slim.xsd")))
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
NS = {
    "sru": "http://docs.oasis-open.org/ns/search-ws/sruResponse",
    "dc": "http://purl.org/dc/elements/1.1/",
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    "marc": "http://www.loc.gov/MARC21/slim",
}
CORPUS = {
    "design": dict(title="Modern library design", authors=["Wang Li"],
                   subjects=["Library architecture"], isbns=["9787302000011"]),
    "history": dict(title="Library history of China", authors=["Chen Ming"],
                    subjects=["Libraries -- History"]),
    "data": dict(title="Data science handbook", authors=["Wang Li"], subjects=["Data mining"]),
    "zh": dict(title="中国图书馆史", authors=["王明"], subjects=["图书馆史"], languages=["chi"]),
    "river": dict(title="River and mountain", authors=["Smith, J."], subjects=["Geography"]),
}  # fmt: skip
TITLES = {key: fields["title"] for key, fields in CORPUS.items()}


@pytest.fixture
def sru(app):
    docs = []
    for n, fields in enumerate(CORPUS.values()):
        doc = make_doc(n, **fields)
        doc["title_sort"] = fields["title"].lower()
        docs.append(doc)
    backend = app.extensions["federation.search"]
    backend.index_documents(docs)
    backend.commit()
    return app.test_client()


def search(client, query: str, schema: str = "dc") -> etree._Element:
    response = client.get(
        "/sru", query_string={"query": query, "recordSchema": schema, "maximumRecords": "50"}
    )
    assert response.status_code == 200
    return etree.fromstring(response.data, PARSER)


@pytest.mark.parametrize(
    ("cql", "expected"),
    [
        ("title=library", {"design", "history"}),
        ('dc.title="library design"', {"design"}),
        ('title adj "library history"', {"history"}),
        ('title adj "history library"', set()),
        ("author=wang", {"design", "data"}),
        ('author any "chen smith"', {"history", "river"}),
        ('dc.creator all "wang li"', {"design", "data"}),
        ("subject=geography", {"river"}),
        ('dc.subject="data mining"', {"data"}),
        ("isbn=9787302000011", {"design"}),
        ("cql.anywhere=handbook", {"data"}),
        ("wang", {"design", "data"}),
        ("title=library and author=chen", {"history"}),
        ("title=library or subject=geography", {"design", "history", "river"}),
        ("author=wang not title=data", {"design"}),
        ("(title=library or title=river) not subject=architecture", {"history", "river"}),
        ("title=图书馆", {"zh"}),
        ("cql.allRecords=1", set(CORPUS)),
        ("title=nonexistentword", set()),
    ],
)
def test_each_cql_query_returns_exactly_its_records(sru, cql, expected):
    root = search(sru, cql)
    assert not root.xpath("//*[local-name()='diagnostic']"), etree.tostring(root)[:300]
    titles = {t.text for t in root.xpath("//oai_dc:dc/dc:title", namespaces=NS)}
    assert titles == {TITLES[key] for key in expected}
    assert root.xpath("string(sru:numberOfRecords)", namespaces=NS) == str(len(expected))


@pytest.mark.parametrize("cql", ["cql.allRecords=1", "title=library or author=王明"])
def test_every_record_validates_against_its_schema(sru, cql):
    for schema, xsd, path in (
        ("dc", DC_SCHEMA, "//oai_dc:dc"),
        ("marcxml", MARC_SCHEMA, "//marc:record"),
    ):
        records = search(sru, cql, schema).xpath(path, namespaces=NS)
        assert records
        for record in records:
            xsd.assertValid(etree.ElementTree(record))
