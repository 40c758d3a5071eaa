"""The JSON API's search, records and facets, on a small real tantivy index of hand-made
clusters; its OpenAPI document; its rate limit; the one error shape for every failure."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

HOSTILE_TITLE = "<script>alert(\"x\")</script> 'quoted' javascript:alert(1) & <b>bold</b>"


def make_doc(n: int, **fields) -> dict:
    """Return a small but complete cluster document, number ``n``."""
    member = ("ytu", "ytlib", "xingfu-cl")[n % 3]
    doc = {
        "cluster_id": f"c{n:04d}",
        "work_id": None,
        "title": f"Library science volume {n}",
        "subtitle": None,
        "title_sort": f"library science volume {n:04d}",
        "other_titles": [],
        "authors": [f"Author {n}", "Wang Wei"],
        "publisher": "Alliance Press",
        "place": "Yantai",
        "year": 1990 + n,
        "edition": None,
        "languages": ["eng"],
        "format": "book",
        "subjects": ["Libraries"],
        "clc": ["G250"],
        "clc_main": ["G"],
        "isbns": [],
        "issns": [],
        "other_ids": [],
        "series": [],
        "pages": 100 + n,
        "holdings": [
            {
                "record_id": n,
                "member": member,
                "member_name_zh": member,
                "member_name_en": member,
                "region": "zhifu",
                "region_name_zh": "芝罘区",
                "region_name_en": "Zhifu",
                "library_type": "university",
                "latitude": 37.5,
                "longitude": 121.4,
                "location": "Stacks",
                "call_number": f"G250/{n}",
                "availability": "available",
                "item_count": 1,
            }
        ],
        "members": [member],
        "regions": ["zhifu"],
        "library_types": ["university"],
        "holding_count": 1,
        "available_count": 1,
        "record_ids": [n],
    }
    doc.update(fields)
    return doc


def sample_docs() -> list[dict]:
    """25 library-science clusters, a Chinese one, and one with a hostile title."""
    docs = [make_doc(n) for n in range(25)]
    docs.append(
        make_doc(
            100,
            title="中国发展报告",
            authors=["王伟"],
            languages=["chi"],
            subjects=["经济发展"],
            isbns=["9787111544937", "7111544938"],
            clc=["F124"],
            clc_main=["F"],
            year=2016,
        )
    )
    docs.append(
        make_doc(200, title=HOSTILE_TITLE, authors=['O"Brien <img src=x onerror=alert(1)>'])
    )
    return docs


@pytest.fixture
def indexed(app):
    """The app with the sample clusters indexed in its own search backend."""
    backend = app.extensions["federation.search"]
    backend.index_documents(sample_docs())
    backend.commit()
    return app


@pytest.fixture
def api(indexed):
    return indexed.test_client()


def assert_error(response, status: int, *words: str) -> dict:
    """Check the one error shape, and that the message names what to fix."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    message = body["error"]["message"]
    assert "Traceback" not in message and "\n" not in message
    for word in words:
        assert word in message, message
    return body["error"]


def test_search_answers_a_page_with_total_facets_and_links(api):
    body = api.get("/api/v1/search?q=library&page_size=10&page=2").get_json()
    assert body["total"] == 25
    assert (body["page"], body["page_size"]) == (2, 10)
    assert len(body["hits"]) == 10
    hit = body["hits"][0]
    assert hit["cluster_id"].startswith("c") and hit["holdings"][0]["member"]
    assert hit["url"].endswith(f"/api/v1/records/{hit['cluster_id']}")
    assert {b["value"] for b in body["facets"]["member"]} == {"ytu", "ytlib", "xingfu-cl"}
    links = body["links"]
    assert parse_qs(urlsplit(links["next"]).query)["page"] == ["3"]
    assert parse_qs(urlsplit(links["prev"]).query)["page"] == ["1"]
    assert parse_qs(urlsplit(links["last"]).query)["page"] == ["3"]
    assert parse_qs(urlsplit(links["self"]).query)["q"] == ["library"]


def test_following_next_links_visits_every_hit_once(api):
    url, seen = "/api/v1/search?q=library&page_size=7&filter=format:book", []
    while url:
        body = api.get(url).get_json()
        seen += [h["cluster_id"] for h in body["hits"]]
        url = body["links"]["next"]
    assert len(seen) == len(set(seen)) == 25
    assert body["links"]["prev"] is not None


def test_filters_years_and_sort_narrow_and_order(api):
    body = api.get(
        "/api/v1/search?filter=member:ytu&year_from=1995&year_to=2005&sort=year_asc&page_size=50"
    ).get_json()
    years = [h["year"] for h in body["hits"]]
    assert years == sorted(years) and years
    assert all(1995 <= y <= 2005 for y in years)
    assert all(h["members"] == ["ytu"] for h in body["hits"])
    next_link = body["links"]["next"]
    assert next_link is None  # one page holds them all


def test_filters_survive_into_the_paging_links(api):
    body = api.get("/api/v1/search?q=library&filter=member:ytu&filter=format:book&page_size=2")
    query = parse_qs(urlsplit(body.get_json()["links"]["next"]).query)
    assert query["filter"] == ["member:ytu", "format:book"]


def test_chinese_search_and_isbn_search_find_the_chinese_record(api):
    assert api.get("/api/v1/search?q=中国发展报告").get_json()["hits"][0]["cluster_id"] == "c0100"
    body = api.get("/api/v1/search?q=isbn:978-7-111-54493-7").get_json()
    assert [h["cluster_id"] for h in body["hits"]] == ["c0100"]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("page=0", ["page", "from 1"]),
        ("page_size=1000", ["page_size", "1 to 100"]),
        ("page=abc", ["page"]),
        ("sort=newest", ["sort", "relevance"]),
        ("facet=colour", ["facet", "member"]),
        ("filter=colour:red", ["colour"]),
        ("filter=member", ["name:value"]),
        ("year_from=2010&year_to=2000", ["year_from", "year_to"]),
        ("year_from=99999999999999999999", ["year"]),
        ("pagesize=10", ["pagesize"]),
        ("page=500&page_size=100", ["10000"]),
    ],
)
def test_bad_parameters_get_400_saying_what_to_fix(api, query, words):
    error = assert_error(api.get(f"/api/v1/search?{query}"), 400, *words)
    assert error["code"] == "bad_request"
    assert error["details"]["parameters"]


def test_record_gives_the_cluster_and_why_merged(api):
    body = api.get("/api/v1/records/c0100").get_json()
    assert body["title"] == "中国发展报告"
    assert body["isbns"] == ["9787111544937", "7111544938"]
    assert body["why_merged"] == []  # hand-made cluster: no dedup evidence in the store
    assert "title_sort" not in body  # internal sort key is not part of the API


def test_unknown_record_is_404_in_the_error_shape(api):
    assert_error(api.get("/api/v1/records/nope"), 404, "nope")
    assert_error(api.get("/api/v1/records/" + "x" * 500), 404)
    assert_error(api.get("/api/v1/no-such-endpoint"), 404)


def test_facets_endpoint_counts_without_hits(api):
    body = api.get("/api/v1/facets?q=library&facet=member&facet=year&facet_size=3").get_json()
    assert body["total"] == 25
    assert set(body["facets"]) == {"member", "year"}
    assert len(body["facets"]["year"]) == 3
    assert sum(b["count"] for b in body["facets"]["member"]) == 25
    assert "hits" not in body
    assert_error(api.get("/api/v1/facets?facet=shoe_size"), 400, "facet")


def test_hostile_metadata_comes_back_as_plain_json_text(api):
    response = api.get("/api/v1/search?q=alert")
    assert response.mimetype == "application/json"
    hit = next(h for h in response.get_json()["hits"] if h["cluster_id"] == "c0200")
    assert hit["title"] == HOSTILE_TITLE  # data, unchanged; JSON escapes it on the wire
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # never sniffed as HTML
    assert "<script>" not in hit["highlights"]["title"]  # the HTML field is escaped HTML
    assert "&lt;script&gt;" in hit["highlights"]["title"]
    record = api.get("/api/v1/records/c0200").get_json()
    assert record["authors"][0].startswith('O"Brien <img')


def test_backend_failure_is_503_in_the_error_shape(indexed, tmp_path):
    from search.backends.tantivy import TantivyBackend

    broken = tmp_path / "broken"
    (broken / "indexes" / "gone").mkdir(parents=True)
    (broken / "indexes" / "gone" / "meta.json").write_text("not json")
    (broken / "CURRENT").write_text("gone\n")
    indexed.extensions["federation.search"] = TantivyBackend(broken)
    client = indexed.test_client()
    assert_error(client.get("/api/v1/search?q=x"), 503, "try again")
    assert_error(client.get("/api/v1/records/c0001"), 503)


def test_rate_limit_per_client_answers_429_with_retry_after(indexed):
    indexed.config["RATE_LIMITS"] = {"api": (3, 60)}
    client = indexed.test_client()
    answers = [client.get("/api/v1/members") for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert answers[0].headers["X-RateLimit-Remaining"] == "2"
    assert int(answers[3].headers["Retry-After"]) >= 1
    assert_error(answers[3], 429, "3 requests")
    other = client.get("/api/v1/members", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200  # another client has its own allowance


def test_openapi_document_is_valid_and_lists_every_api_route(api, app):
    from openapi_spec_validator import validate

    spec = api.get("/api/v1/openapi.json").get_json()
    validate(spec)
    routes = {
        rule.rule.removeprefix("/api/v1")
        .replace("<cluster_id>", "{cluster_id}")
        .replace("<int:request_id>", "{request_id}")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(("api.", "ill_api."))
        and rule.endpoint not in ("api.openapi", "api.docs")
    }
    assert routes == set(spec["paths"])
    params = {p["name"] for p in spec["paths"]["/search"]["get"]["parameters"]}
    assert {"q", "filter", "year_from", "year_to", "sort", "page", "page_size"} <= params
    search_answer = spec["paths"]["/search"]["get"]["responses"]["200"]
    ref = search_answer["content"]["application/json"]["schema"]["$ref"]
    assert set(spec["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]) >= {
        "total", "page", "page_size", "hits", "facets", "links"
    }  # fmt: skip
    assert "400" in spec["paths"]["/search"]["get"]["responses"]


def test_answers_match_the_documented_schemas(api):
    from openapi_schema_validator import OAS30Validator

    spec = api.get("/api/v1/openapi.json").get_json()
    components = {"components": spec["components"]}
    for url, path in [
        ("/api/v1/search?q=library", "/search"),
        ("/api/v1/records/c0100", "/records/{cluster_id}"),
        ("/api/v1/facets", "/facets"),
        ("/api/v1/members", "/members"),
        ("/api/v1/search?page=0", "/search"),
    ]:
        response = api.get(url)
        answer = spec["paths"][path]["get"]["responses"][str(response.status_code)]
        schema = {**answer["content"]["application/json"]["schema"], **components}
        OAS30Validator(json.loads(json.dumps(schema))).validate(response.get_json())


def test_readable_api_page_lists_the_operations(api):
    page = api.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    for needle in ("GET /search", "GET /records/{cluster_id}", "page_size", "openapi.json"):
        assert needle in text


def test_generated_requests_from_the_openapi_document_never_get_a_500(indexed):
    """A bounded schemathesis run: every operation, a few dozen generated requests each; no
    500, only documented status codes, and every answer matches its documented schema.
    (Not checked: that every schema-valid request succeeds, since year_from <= year_to and
    the 10,000-result window are rules OpenAPI 3.0 cannot state.)"""
    wanted = [
        checks.not_a_server_error,
        checks.status_code_conformance,
        checks.content_type_conformance,
        checks.response_schema_conformance,
    ]
    indexed.config["RATE_LIMITS"] = {"api": (100_000, 60)}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", indexed)
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(checks=wanted)

        check()


def test_superscript_digits_in_a_filter_are_a_400_not_a_crash(api):
    # found by the schemathesis run: a value like "³³" once reached int() in the query model
    assert_error(api.get("/api/v1/search?filter=region:³³"), 400, "digits")
