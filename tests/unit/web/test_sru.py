"""SRU 2.0 searchRetrieve with CQL (Dublin Core and MARCXML records, diagnostics) and the
OpenSearch description, on a small real tantivy index of hand-made clusters."""

from __future__ import annotations

import hypothesis
import pytest
from hypothesis import strategies as st
from lxml import etree

from search.query import And, MatchAll, Not, Or, Phrase, Term
from tests.unit.web.test_api_search import HOSTILE_TITLE, sample_docs
from web.cql import CQLError, parse_cql

NS = {
    "sru": "http://docs.oasis-open.org/ns/search-ws/sruResponse",
    "diag": "http://docs.oasis-open.org/ns/search-ws/diagnostic",
    "dc": "http://purl.org/dc/elements/1.1/",
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    "marc": "http://www.loc.gov/MARC21/slim",
    "os": "http://a9.com/-/spec/opensearch/1.1/",
}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@pytest.fixture
def sru(app):
    backend = app.extensions["federation.search"]
    backend.index_documents(sample_docs())
    backend.commit()
    return app.test_client()


def fetch(client, **params) -> etree._Element:
    response = client.get("/sru", query_string=params)
    assert response.status_code == 200
    assert response.mimetype == "application/sru+xml"
    return etree.fromstring(response.data, PARSER)  # raises if not well-formed


def texts(root, path: str) -> list[str]:
    return [e.text for e in root.xpath(path, namespaces=NS)]


def diagnostic(root) -> str:
    return texts(root, "//diag:diagnostic/diag:uri")[0]


# --- the CQL parser ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cql", "tree"),
    [
        ("dinosaur", Term("dinosaur")),
        ("title = library", Term("library", "title")),
        ('dc.title="中国 发展"', Term("中国 发展", "title")),
        ('title adj "library science"', Phrase("library science", "title")),
        ('author any "wang li"', Or((Term("wang", "author"), Term("li", "author")))),
        ('subject all "a b"', Term("a b", "subject")),
        ("bath.isbn=9787111544937", Term("9787111544937", "isbn")),
        (
            "title=a or title=b and author=c",
            And((Or((Term("a", "title"), Term("b", "title"))), Term("c", "author"))),
        ),
        ("a not (b or c)", And((Term("a"), Not(Or((Term("b"), Term("c"))))))),
        ("cql.anywhere = x AND dc.subject = y", And((Term("x"), Term("y", "subject")))),
        ("cql.allRecords = 1", MatchAll()),
        (r'title="say \"hi\""', Term('say "hi"', "title")),
    ],
)
def test_cql_parses_into_the_query_model(cql, tree):
    assert parse_cql(cql) == tree


@pytest.mark.parametrize(
    ("cql", "number"),
    [
        ("", 7),
        ("(title=a", 10),
        ("title=a)", 10),
        ('title="never closed', 10),
        ("title=a b", 10),
        ("colour=red", 16),
        ("title < a", 19),
        ("title =/stem a", 20),
        ('title=""', 27),
        ("a prox b", 37),
        ("(" * 20 + "a" + ")" * 20, 10),
    ],
)
def test_bad_cql_names_its_diagnostic(cql, number):
    with pytest.raises(CQLError) as caught:
        parse_cql(cql)
    assert caught.value.uri == f"info:srw/diagnostic/1/{number}"


# --- searchRetrieve ---------------------------------------------------------------------


def test_search_retrieve_answers_dublin_core_records(sru):
    root = fetch(sru, query='dc.title="library science"', maximumRecords="5")
    assert root.tag == f"{{{NS['sru']}}}searchRetrieveResponse"
    assert texts(root, "sru:version") == ["2.0"]
    assert texts(root, "sru:numberOfRecords") == ["25"]
    records = root.xpath("sru:records/sru:record", namespaces=NS)
    assert len(records) == 5
    assert texts(records[0], "sru:recordSchema") == ["info:srw/schema/1/dc-v1.1"]
    assert texts(root, "//sru:recordPosition") == ["1", "2", "3", "4", "5"]
    assert texts(root, "sru:nextRecordPosition") == ["6"]
    titles = texts(root, "//oai_dc:dc/dc:title")
    assert len(titles) == 5 and all(t.startswith("Library science volume") for t in titles)


def test_start_record_pages_through_without_overlap(sru):
    first = texts(fetch(sru, query="title=library", maximumRecords="10"), "//dc:title")
    second_root = fetch(sru, query="title=library", maximumRecords="10", startRecord="11")
    second = texts(second_root, "//dc:title")
    third_root = fetch(sru, query="title=library", maximumRecords="10", startRecord="21")
    assert len(set(first) | set(second) | set(texts(third_root, "//dc:title"))) == 25
    assert texts(second_root, "//sru:recordPosition")[0] == "11"
    assert texts(third_root, "sru:nextRecordPosition") == []  # the last page


def test_boolean_cql_narrows_like_the_reader_search(sru):
    root = fetch(sru, query="(author=wang or author=王伟) not title=library", recordSchema="dc")
    assert texts(root, "//dc:title") == ["中国发展报告"]
    root = fetch(sru, query="isbn=7111544938 or title=nothing-like-this")
    assert texts(root, "sru:numberOfRecords") == ["1"]


def test_marcxml_records_carry_title_authors_isbn_imprint_class_and_holdings(sru):
    root = fetch(sru, query="isbn=9787111544937", recordSchema="marcxml")
    assert texts(root, "//sru:recordSchema") == ["info:srw/schema/1/marcxml-v1.1"]
    record = root.xpath("//marc:record", namespaces=NS)[0]

    def sub(tag: str, code: str) -> list[str]:
        path = f"marc:datafield[@tag='{tag}']/marc:subfield[@code='{code}']"
        return texts(record, path)

    assert len(texts(record, "marc:leader")[0]) == 24
    assert sub("245", "a") == ["中国发展报告"]
    assert sub("100", "a") == ["王伟"]
    assert sub("020", "a") == ["9787111544937", "7111544938"]
    assert sub("264", "b") == ["Alliance Press"] and sub("264", "c") == ["2016"]
    assert sub("084", "a") == ["F124"] and sub("084", "2") == ["clc"]
    assert sub("650", "a") == ["经济发展"]
    assert sub("852", "a") == ["ytlib"] and sub("852", "h") == ["G250/100"]


def test_hostile_metadata_is_escaped_text_in_sru_xml(sru):
    for schema in ("dc", "marcxml"):
        response = sru.get("/sru", query_string={"query": "title=alert", "recordSchema": schema})
        root = etree.fromstring(response.data, PARSER)
        assert not root.xpath("//script | //*[local-name()='img'] | //b")  # no injected elements
        assert HOSTILE_TITLE in "".join(root.itertext())
        assert b"&lt;script&gt;" in response.data and b"<script>" not in response.data


def test_control_characters_in_metadata_do_not_break_the_answer(sru, app):
    backend = app.extensions["federation.search"]
    from tests.unit.web.test_api_search import make_doc

    backend.index_documents([make_doc(300, title="Broken\x00\x0b title zzyzx")])
    backend.commit()
    root = fetch(sru, query="zzyzx", recordSchema="marcxml")
    assert texts(root, "//marc:datafield[@tag='245']/marc:subfield") == ["Broken title zzyzx"]


@pytest.mark.parametrize(
    ("params", "uri"),
    [
        ({"query": "title=(broken"}, "info:srw/diagnostic/1/10"),
        ({"query": "colour=red"}, "info:srw/diagnostic/1/16"),
        ({"query": "title=a", "recordSchema": "mods"}, "info:srw/diagnostic/1/66"),
        ({"query": "title=a", "maximumRecords": "5000"}, "info:srw/diagnostic/1/6"),
        ({"query": "title=a", "startRecord": "0"}, "info:srw/diagnostic/1/6"),
        ({"query": "title=a", "version": "3.0"}, "info:srw/diagnostic/1/5"),
        ({"operation": "scan", "scanClause": "title=a"}, "info:srw/diagnostic/1/4"),
        ({"query": ""}, "info:srw/diagnostic/1/7"),
    ],
)
def test_bad_requests_get_sru_diagnostics(sru, params, uri):
    root = fetch(sru, **params)
    assert diagnostic(root) == uri
    assert texts(root, "sru:numberOfRecords") == ["0"]
    assert texts(root, "//diag:message")[0]


def test_hostile_query_text_is_escaped_in_diagnostics(sru):
    response = sru.get("/sru", query_string={"query": '<x y="1">=a'})
    root = etree.fromstring(response.data, PARSER)
    assert diagnostic(root) == "info:srw/diagnostic/1/10"


def test_opensearch_description_points_at_the_reader_search(sru):
    response = sru.get("/opensearch.xml")
    assert response.mimetype == "application/opensearchdescription+xml"
    root = etree.fromstring(response.data, PARSER)
    assert root.tag == f"{{{NS['os']}}}OpenSearchDescription"
    templates = {u.get("type"): u.get("template") for u in root.xpath("os:Url", namespaces=NS)}
    assert templates["text/html"] == "http://localhost/search?q={searchTerms}"
    assert texts(root, "os:ShortName")[0]


def test_any_query_text_gets_records_or_a_diagnostic_never_a_crash(sru, app):
    pieces = st.sampled_from(
        ["title", "=", '"', "(", ")", " and ", " or ", " not ", "any", "<", "/", "\\", "库", "x"]
    )
    app.config["RATE_LIMITS"] = {"sru": (100_000, 60)}
    texts_ = st.one_of(st.text(max_size=40), st.lists(pieces, max_size=12).map("".join))

    @hypothesis.given(query=texts_, schema=st.sampled_from(["dc", "marcxml"]))
    @hypothesis.settings(max_examples=150, deadline=None, database=None)
    def check(query, schema):
        response = sru.get("/sru", query_string={"query": query, "recordSchema": schema})
        assert response.status_code == 200
        root = etree.fromstring(response.data, PARSER)
        count = texts(root, "sru:numberOfRecords")
        assert count and (int(count[0]) >= 0)

    check()


def test_sru_has_its_own_per_client_limit(sru, app):
    app.config["RATE_LIMITS"] = {"sru": (2, 60)}
    codes = [sru.get("/sru", query_string={"query": "x"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert sru.get("/api/v1/members").status_code == 200  # the JSON API counts separately


def test_explain_lists_indexes_and_record_schemas(sru):
    zr = {"zr": "http://explain.z3950.org/dtd/2.0/"}
    for params in ({}, {"operation": "explain"}):
        response = sru.get("/sru", query_string=params)
        root = etree.fromstring(response.data, PARSER)
        assert root.tag == f"{{{NS['sru']}}}explainResponse"
        names = set(root.xpath("//zr:index/zr:map/zr:name/text()", namespaces=zr))
        assert {"title", "author", "subject", "isbn", "anywhere", "dc.title"} <= names
        schemas = set(root.xpath("//zr:schema/@name", namespaces=zr))
        assert {"dc", "marcxml"} <= schemas
