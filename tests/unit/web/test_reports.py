"""The service-gap report page, its exports and JSON API, as a coordinator sees them."""

from __future__ import annotations

import csv
import io

import pytest

from federation.policy import Permission
from federation.roles import Actor, Role
from tests.conftest import DEMO_ALLIANCE
from tests.unit.federation.reports.seed import seed
from web.identity import set_actor_loader


@pytest.fixture
def seeded(app):
    with app.extensions["federation.db"].session() as session:
        seed(session, DEMO_ALLIANCE)
    return app


def act_as(app, actor):
    set_actor_loader(app, lambda: actor)
    return app.test_client()


@pytest.fixture
def coordinator(seeded):
    return act_as(seeded, Actor(Role.COORDINATOR, name="Wang"))


def test_the_page_leads_with_the_largest_gaps_in_chinese(coordinator):
    page = coordinator.get("/reports/gaps?period=2026").get_data(as_text=True)
    assert "服务差距报告" in page
    largest = page.split('id="largest"')[1].split("</section>")[0]
    # the two counties without a member library are the largest gaps
    assert "栖霞市：520,000位居民没有成员馆" in largest
    assert "海阳市：573,000位居民没有成员馆" in largest
    assert "模拟" in page  # simulated activity is labelled


def test_the_page_in_english_with_a_map_of_the_districts(coordinator):
    coordinator.get("/lang/en")
    page = coordinator.get("/reports/gaps?period=2026-03").get_data(as_text=True)
    assert "Qixia: no member library for 520,000 residents" in page
    assert "<svg" in page and 'data-district="muping"' in page
    assert "Schematic shapes, not surveyed boundaries" in page


def test_no_reader_data_and_no_single_request_reaches_the_page(coordinator):
    page = coordinator.get("/reports/gaps?period=2026").get_data(as_text=True)
    main = page.split("<main")[1]
    assert "Zhang San" not in main and "计算机书" not in main  # feedback is counted, not quoted
    assert "oai:" not in main and '"c1"' not in main and ">c1<" not in main


def test_a_period_without_data_says_so(coordinator):
    page = coordinator.get("/reports/gaps?period=2019").get_data(as_text=True)
    assert "本期没有数据" in page


@pytest.mark.parametrize(
    "query",
    [
        "period=2026-13",
        "period=%3Cscript%3E",
        "district=nowhere",
        "district=yantai",
        "type=prison",
        "period=2026&district=%00",
    ],
)
def test_bad_filters_get_one_clear_line_not_a_500(coordinator, query):
    response = coordinator.get(f"/reports/gaps?{query}")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'role="alert"' in body and "<script>" not in body


def test_json_api_has_the_numbers(coordinator):
    data = coordinator.get("/api/v1/reports/gaps?period=2026-03").get_json()
    ill = {
        row["district"]: row for row in next(t for t in data["tables"] if t["id"] == "ill")["rows"]
    }
    assert ill["muping"]["fill_rate"] == 0.5
    assert data["largest_gaps"][0]["district"] in ("qixia", "haiyang")
    bad = coordinator.get("/api/v1/reports/gaps?period=soon")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_request"


def test_csv_of_one_table_and_of_every_table(coordinator):
    one = coordinator.get("/reports/gaps.csv?period=2026-03&table=ill")
    assert one.headers["Content-Disposition"].endswith('ill.csv"')
    rows = list(csv.reader(io.StringIO(one.get_data(as_text=True))))
    muping = next(r for r in rows if r[0] == "muping")
    assert muping[1] == "牟平区" and "0.5" in muping
    every = coordinator.get("/reports/gaps.csv?period=2026-03").get_data(as_text=True)
    assert "2026-03,ill," in every and ",muping,fill_rate,0.5" in every


def test_xlsx_has_a_sheet_per_table(coordinator):
    from openpyxl import load_workbook

    body = coordinator.get("/reports/gaps.xlsx?period=2026-03").data
    book = load_workbook(io.BytesIO(body))
    assert {"gaps", "collections", "ill", "unmet", "lending", "types", "trend"} <= set(
        book.sheetnames
    )
    sheet = book["collections"]
    names = [row[1] for row in sheet.iter_rows(values_only=True)]
    assert "栖霞市" in names


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        (Actor(Role.READER, "ytlib"), 403),
        (Actor(Role.ILL_STAFF, "ytlib"), 403),
        (Actor(Role.ALLIANCE_ADMIN), 200),
    ],
)
def test_only_coordinators_and_administrators_see_reports(seeded, actor, status):
    client = act_as(seeded, actor)
    for url in ("/reports/gaps", "/reports/gaps.csv", "/api/v1/reports/gaps"):
        assert client.get(url).status_code == status


def test_every_report_route_declares_the_reports_permission(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("reports.") or rule.endpoint == "api.reports_gaps":
            assert app.view_functions[rule.endpoint].permission is Permission.REPORTS


def test_json_answer_matches_the_openapi_document(coordinator):
    import json

    from openapi_schema_validator import OAS30Validator

    spec = coordinator.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/reports/gaps"]["get"]
    for url, status in (
        ("/api/v1/reports/gaps?period=2026-03", "200"),
        ("/api/v1/reports/gaps?period=x", "400"),
    ):
        response = coordinator.get(url)
        assert str(response.status_code) == status
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        schema = json.loads(json.dumps({**schema, "components": spec["components"]}))
        OAS30Validator(schema).validate(response.get_json())


def test_a_district_filter_keeps_the_choice_and_the_map_of_every_district(coordinator):
    page = coordinator.get("/reports/gaps?period=2026-03&district=muping").get_data(as_text=True)
    assert '<option value="muping" selected>' in page and '<option value="qixia" >' in page
    assert page.count('class="district" data-district=') == 8
    ill = page.split('id="table-ill"')[1].split("</table>")[0]
    assert "牟平区" in ill and "芝罘区" not in ill


def test_the_print_layout_in_the_browser_links_its_styles_and_files_carry_them_inline(coordinator):
    page = coordinator.get("/reports/gaps?period=2026&print=1").get_data(as_text=True)
    assert "<style>" not in page and "css/reports.css" in page  # the CSP refuses inline styles
    assert "Content-Security-Policy" in coordinator.get("/reports/gaps?period=2026").headers


def test_signed_in_coordinators_find_the_report_in_the_header(app):
    from tests.support.accounts import sign_in_as

    coordinator, reader = app.test_client(), app.test_client()
    sign_in_as(coordinator, app, Role.COORDINATOR)
    sign_in_as(reader, app, Role.READER, "ytlib")
    link = 'href="/reports/gaps">服务差距</a>'
    assert link in coordinator.get("/").get_data(as_text=True)
    assert link not in reader.get("/").get_data(as_text=True)
    assert coordinator.get("/reports/gaps?period=2026").status_code == 200
    assert reader.get("/reports/gaps?period=2026").status_code == 403


def test_reader_feedback_is_summarised_by_category_without_its_text(app, coordinator):
    from federation.models import ReaderFeedback
    from tests.unit.federation.reports.seed import MARCH

    with app.extensions["federation.db"].session() as session:
        session.add(ReaderFeedback(category="search", message="找不到书 <b>", created_at=MARCH))
    page = coordinator.get("/reports/gaps?period=2026-03").get_data(as_text=True)
    feedback = page.split('id="table-feedback"')[1].split("</table>")[0]
    assert "检索联合目录" in feedback and "找不到书" not in page  # the form's own label
    assert (
        coordinator.get("/reports/gaps?period=2019")
        .get_data(as_text=True)
        .count("本期没有读者反馈。")
        == 1
    )
