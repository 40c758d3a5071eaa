import re

import pytest

from federation.alliance import load_alliance
from federation.members import import_alliance
from tests.conftest import DEMO_ALLIANCE


@pytest.fixture
def alliance(app):
    loaded = load_alliance(DEMO_ALLIANCE)
    with app.extensions["federation.db"].session() as s:
        import_alliance(s, loaded)
    return loaded


def test_home_lists_every_member_in_chinese_by_default(client, alliance):
    page = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "各区县成员馆" in page
    for member in alliance.members:
        assert member.name_zh in page
    district_names = {
        r.name_zh for r in alliance.regions if r.code in {m.region for m in alliance.members}
    }
    for name in district_names:
        assert name in page


def test_language_switch_keeps_english_and_returns_to_the_page(client, alliance):
    switched = client.get("/lang/en?next=/")
    assert switched.status_code == 302 and switched.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Member libraries by district" in page
    for member in alliance.members:
        assert member.name_en in page
    assert "中文" in page  # the way back


def test_language_switch_refuses_to_leave_the_site(client):
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.get("/lang/en", query_string={"next": target})
        assert response.headers["Location"] == "/"


def test_assets_are_served_locally(client, alliance):
    page = client.get("/").get_data(as_text=True)
    assert "http://" not in page.split("<body>")[0] and "https://" not in page.split("<body>")[0]
    css = client.get("/static/css/site.css")
    assert css.status_code == 200 and b"--accent" in css.data


def test_api_members_and_districts(client, alliance):
    data = client.get("/api/v1/members").get_json()
    assert data["count"] == len(alliance.members)
    assert {m["code"] for m in data["members"]} == {m.code for m in alliance.members}
    districts = client.get("/api/v1/districts").get_json()
    assert districts["count"] >= 4
    assert sum(d["member_count"] for d in districts["districts"]) == len(alliance.members)


def test_api_errors_have_one_shape(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == "not_found"
    wrong_method = client.post("/api/v1/members")
    assert wrong_method.status_code == 405
    assert wrong_method.get_json()["error"]["code"] == "method_not_allowed"


def test_pages_show_a_friendly_error_not_a_traceback(client):
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "<h1>" in text


def test_an_unexpected_error_is_a_clean_500_without_details(app):
    from web.identity import public

    @app.get("/boom")
    @public
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert "secret internals" not in response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "internal_error"


def test_home_says_when_each_member_was_last_harvested(app, client, alliance):
    from datetime import UTC, datetime

    from federation.models import HarvestRun

    def run(code, status, finished):
        return HarvestRun(member_code=code, kind="full", status=status, metadata_prefix="marc21",
                          started_at=finished, finished_at=finished)  # fmt: skip

    with app.extensions["federation.db"].session() as s:
        s.add_all([
            run("ytu", "completed", datetime(2026, 11, 20, 16, 30, tzinfo=UTC)),
            run("ytu", "completed", datetime(2026, 11, 19, 1, 0, tzinfo=UTC)),
            run("ytu", "failed", datetime(2026, 11, 21, 2, 0, tzinfo=UTC)),  # not a success
            run("ytlib", "failed", datetime(2026, 11, 21, 2, 0, tzinfo=UTC)),
        ])  # fmt: skip
    page = client.get("/?lang=en").get_data(as_text=True)
    items = re.findall(r'<li><span class="num"[^>]*>\d+</span>\s*(.*?)</li>', page, re.S)
    by_name = {item.split("<")[0].strip(): item for item in items}
    # The newest success, in Beijing time; a later failure does not count.
    assert "catalogue updated 2026-11-21 00:30" in by_name["Yantai University Library"]
    assert "Not harvested yet." in by_name["Yantai Library"]
    assert "Catalogue last updated 2026-11-21 00:30 (Asia/Shanghai)" in page
    assert page.count("Not harvested yet.") == len(alliance.members) - 1


def test_an_id_too_large_for_the_database_is_not_found_not_an_error(app):
    client = app.test_client()
    for too_large in ("6357253370", "1534071671432862755263066258014208"):  # > 32 and > 64 bits
        assert client.get(f"/api/v1/ill/requests/{too_large}").status_code == 404
