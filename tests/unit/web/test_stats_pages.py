"""Statistics and cost pages: who sees what, sorting, the median, SVG charts, downloads, what-if."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from federation.members import import_alliance
from federation.roles import Role
from federation.stats.rollup import rollup
from federation.usage import ILL_FILLED, SEARCH, record_usage
from tests.support.accounts import csrf, sign_in_as

COORDINATOR = (Role.COORDINATOR, None)
ADMIN = (Role.ALLIANCE_ADMIN, None)
YTLIB_STAFF = (Role.ILL_STAFF, "ytlib")
RANGE = {"from": "2026-07", "to": "2026-09"}


@pytest.fixture
def seeded(app, db):
    with db.session() as s:
        import_alliance(s, app.extensions["federation.alliance"])
        for day in range(1, 6):  # ytlib: 5 searches in July; ytu: 1
            record_usage(
                s, SEARCH, member_code="ytlib", occurred_at=datetime(2026, 7, day, 3, tzinfo=UTC)
            )
        record_usage(s, SEARCH, member_code="ytu", occurred_at=datetime(2026, 7, 9, 3, tzinfo=UTC))
        for n in (1, 2):
            record_usage(
                s,
                ILL_FILLED,
                member_code="ytlib",
                partner_code="ytu",
                ref=f"ill_request:{n}",
                occurred_at=datetime(2026, 8, n, 3, tzinfo=UTC),
            )
    with db.session() as s:
        rollup(s)
    return app


def act_as(app, actor):
    """Return a client signed in through the real sign-in form (anonymous for None)."""
    client = app.test_client()
    if actor is not None:
        sign_in_as(client, app, *actor)
    return client


def post(client, url, **data):
    return client.post(url, data={"csrf_token": csrf(client), **data})


def test_a_coordinator_sorts_every_member_by_searches(seeded):
    client = act_as(seeded, COORDINATOR)
    page = client.get("/stats/members", query_string={**RANGE, "sort": "searches", "dir": "desc"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    table = html[html.index('id="every-member"') :]
    ytlib, ytu = (
        seeded.extensions["federation.alliance"].member("ytlib"),
        seeded.extensions["federation.alliance"].member("ytu"),
    )
    assert table.index(ytlib.name_zh) < table.index(ytu.name_zh)
    assert "Share_i = C·[b/N" in html  # the formula beside the numbers


def test_district_and_library_type_tables_name_them_in_the_readers_language(seeded):
    client = act_as(seeded, COORDINATOR)
    html = client.get("/stats/members", query_string=RANGE).get_data(as_text=True)
    alliance = seeded.extensions["federation.alliance"]
    by_district = html[html.index("按区县") : html.index("按图书馆类型")]
    district = next(r for r in alliance.regions if r.code == alliance.member("ytlib").region)
    assert f'<th scope="row">{district.name_zh}</th>' in by_district
    assert f'<th scope="row">{district.code}</th>' not in by_district
    by_type = html[html.index("按图书馆类型") :]
    assert '<th scope="row">公共图书馆</th>' in by_type


def test_member_staff_see_their_own_page_and_never_another_members(seeded):
    client = act_as(seeded, YTLIB_STAFF)
    own = client.get("/stats/member/ytlib", query_string=RANGE)
    assert own.status_code == 200
    html = own.get_data(as_text=True)
    assert "<svg" in html and "<script" not in html
    assert client.get("/stats/member/ytu", query_string=RANGE).status_code == 404
    assert client.get("/stats/members").status_code == 403


def test_position_against_the_median_and_rank(seeded):
    client = act_as(seeded, YTLIB_STAFF)
    data = client.get("/stats/member/ytlib", query_string={**RANGE, "format": "csv", "lang": "en"})
    rows = list(csv.reader(io.StringIO(data.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][0].startswith("formula in force:")
    searches = next(r for r in rows if r[0] == "Searches")
    # 11 members: ytlib 5, ytu 1, nine with 0 → median 0, ytlib first
    assert searches[1:] == ["5", "0", "1"]


def test_anonymous_visitors_are_asked_to_sign_in(seeded):
    client = act_as(seeded, None)
    assert client.get("/stats/members").status_code == 401
    assert client.get("/stats/costs/2026-Q3").status_code == 401


def test_xlsx_download_of_every_member(seeded):
    from openpyxl import load_workbook

    client = act_as(seeded, COORDINATOR)
    response = client.get("/stats/members", query_string={**RANGE, "format": "xlsx"})
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert len(book.worksheets) == 3
    assert book.worksheets[0]["A2"].value.startswith("formula in force:")


def test_a_bad_month_is_a_clear_400(seeded):
    client = act_as(seeded, COORDINATOR)
    response = client.get("/stats/members", query_string={"from": "July"})
    assert response.status_code == 400 and "YYYY-MM" in response.get_data(as_text=True)


def test_statement_page_for_member_staff_shows_their_fees_only(seeded):
    client = act_as(seeded, YTLIB_STAFF)
    html = client.get("/stats/costs/2026-Q3").get_data(as_text=True)
    assert "ill_request:1 ill_request:2" in html and "-16.00" in html
    assert client.get("/stats/costs/2026-Q3", query_string={"member": "ytu"}).status_code == 404
    assert post(client, "/stats/costs/2026-Q3/approve").status_code == 403


def test_the_administrator_approves_and_locks(seeded):
    client = act_as(seeded, ADMIN)
    assert post(client, "/stats/costs/2026-Q3/approve").status_code == 302
    assert post(client, "/stats/costs/2026-Q3/lock").status_code == 302
    html = client.get("/stats/costs/2026-Q3").get_data(as_text=True)
    assert "Approve these figures" not in html
    pdf = client.get("/stats/costs/2026-Q3", query_string={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_whatif_shows_current_and_proposed_shares(seeded):
    client = act_as(seeded, COORDINATOR)
    html = client.get(
        "/stats/costs/whatif", query_string={"period": "2026-Q3", "common_costs": "400000"}
    ).get_data(as_text=True)
    assert 'id="comparison"' in html and "C = 400000" in html
    assert "Adopt the proposed model" not in html  # coordinators compare; they do not adopt


def test_whatif_refuses_weights_that_do_not_sum_to_one(seeded):
    client = act_as(seeded, COORDINATOR)
    response = client.get("/stats/costs/whatif", query_string={"period": "2026-Q3", "alpha": "0.9"})
    assert response.status_code == 400
    assert "must sum to 1" in response.get_data(as_text=True)


def test_the_administrator_adopts_a_proposed_model(seeded):
    client = act_as(seeded, ADMIN)
    response = post(
        client, "/stats/costs/whatif/adopt", period="2026-Q4", common_costs="400000", note="cheaper"
    )
    assert response.status_code == 302
    html = client.get("/stats/costs/2026-Q4").get_data(as_text=True)
    assert "C = 400000" in html


def test_counter_reports_for_staff_and_coordinators(seeded):
    staff = act_as(seeded, YTLIB_STAFF)
    pr = staff.get("/stats/counter/pr.json", query_string=RANGE).get_json()
    assert pr["Report_Header"]["Institution_ID"] == {"Proprietary": ["federation:ytlib"]}
    assert (
        pr["Report_Items"][0]["Attribute_Performance"][0]["Performance"]["Searches_Platform"][
            "2026-07"
        ]
        == 5
    )
    assert staff.get("/stats/counter/pr.json", query_string={"member": "ytu"}).status_code == 404
    assert staff.get("/stats/counter/ill.json").status_code == 403
    coordinator = act_as(seeded, COORDINATOR)
    ill = coordinator.get("/stats/counter/ill.json", query_string=RANGE).get_json()
    assert len(ill["Report_Items"][0]["Attribute_Performance"]) == 11


def test_simulated_activity_is_labelled(seeded, db):
    with db.session() as s:
        record_usage(
            s,
            SEARCH,
            member_code="ytu",
            simulated=True,
            occurred_at=datetime(2026, 7, 20, 3, tzinfo=UTC),
        )
    with db.session() as s:
        rollup(s)
    client = act_as(seeded, COORDINATOR)
    html = client.get("/stats/members", query_string={**RANGE, "lang": "en"}).get_data(as_text=True)
    assert "include 1 simulated events" in html


def test_the_header_leads_staff_and_coordinators_to_statistics_but_not_readers(app):
    link = 'href="/stats/"'
    assert link in act_as(app, COORDINATOR).get("/").get_data(as_text=True)
    assert link in act_as(app, (Role.ILL_STAFF, "ytu")).get("/").get_data(as_text=True)
    assert link not in act_as(app, (Role.READER, "ytlib")).get("/").get_data(as_text=True)
