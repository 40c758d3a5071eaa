"""Reader feedback: the form linked from every page, what is stored, and the coordinators' list."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from federation.alliance import load_alliance
from federation.members import import_alliance
from federation.models import ReaderFeedback
from federation.roles import Actor, Role
from tests.conftest import DEMO_ALLIANCE
from web.identity import set_actor_loader
from web.views.feedback import parse_period

BEIJING = ZoneInfo("Asia/Shanghai")
HOSTILE = '<script>alert(1)</script> " onmouseover="x'


@pytest.fixture
def members(db):
    with db.session() as s:
        import_alliance(s, load_alliance(DEMO_ALLIANCE))


TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def post(client, data: dict, path: str = "/feedback"):
    """Send the form as a browser would: the CSRF token comes from the form page."""
    token = TOKEN.search(client.get("/feedback").get_data(as_text=True)).group(1)
    return client.post(path, data={"csrf_token": token, **data})


def _rows(db) -> list[ReaderFeedback]:
    with db.session() as s:
        rows = list(s.scalars(select(ReaderFeedback).order_by(ReaderFeedback.id)))
        s.expunge_all()
    return rows


def _act_as(app, role: Role | None, member: str | None = None) -> None:
    set_actor_loader(app, lambda: Actor(role, member) if role else None)


@pytest.mark.parametrize("path", ["/", "/search?q=river", "/feedback"])
def test_every_page_links_to_the_form_with_the_page_it_came_from(client, members, path):
    body = client.get(path + ("&" if "?" in path else "?") + "lang=en").get_data(as_text=True)
    link = unescape(re.search(r'href="([^"]*)"[^>]*>Feedback<', body).group(1))
    assert link.startswith("/feedback?page=")
    form = client.get(link).get_data(as_text=True)
    fields = set(re.findall(r'name="([^"]+)"', form.split('class="feedback-form"')[1]))
    assert fields - {"csrf_token"} == {"page", "category", "message", "member"}, (
        "no name, no e-mail"
    )


def test_feedback_is_stored_with_library_and_district_but_nothing_about_the_reader(
    client, db, members
):
    response = post(
        client,
        {"category": "service", "message": "  More opening hours please  ",
         "member": "ytlib", "page": "/search?q=river"},
        "/feedback?lang=en",
    )  # fmt: skip
    assert response.status_code == 200
    assert "Thank you" in response.get_data(as_text=True)
    [row] = _rows(db)
    assert (row.category, row.message, row.member_code, row.region_code) == (
        "service", "More opening hours please", "ytlib", "zhifu",
    )  # fmt: skip
    assert (row.page, row.locale) == ("/search?q=river", "en")


def test_the_library_is_optional(client, db, members):
    assert post(client, {"category": "search", "message": "ok"}).status_code == 200
    assert [(r.member_code, r.region_code) for r in _rows(db)] == [(None, None)]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"message": "no category"}, "Choose what your feedback is about."),
        ({"category": "praise", "message": "x"}, "Choose what your feedback is about."),
        ({"category": "search", "message": "   "}, "Write a message of 1 to 2000 characters."),
        ({"category": "search", "message": "x" * 2001}, "Write a message of 1 to 2000"),
        ({"category": "search", "message": "x", "member": "nosuch"}, "Choose a library from"),
    ],
)
def test_mistakes_are_explained_and_nothing_is_lost_or_stored(client, db, members, data, says):
    response = post(client, data, "/feedback?lang=en")
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert says in body
    assert "Traceback" not in body
    if data.get("message", "").strip():
        assert data["message"] in unescape(body), "the reader's text is kept in the form"
    assert _rows(db) == []


@pytest.mark.parametrize("page", ["//evil.example/", "/\\evil.example/", "https://evil.example/",
                                  "javascript:alert(1)", "/search?q=a\x01b"])  # fmt: skip
def test_page_outside_the_site_is_not_kept(client, db, members, page):
    post(client, {"category": "other", "message": "x", "page": page})
    assert [r.page for r in _rows(db)] == [""]


def test_control_characters_are_dropped_not_a_server_error(client, db, members):
    response = post(client, {"category": "other", "message": "bad\x01 byte\x1b[31m\nsecond line"})
    assert response.status_code == 200
    assert [r.message for r in _rows(db)] == ["bad byte[31m\nsecond line"]


def test_a_nul_character_is_refused_with_a_message_and_nothing_is_stored(client, db, members):
    response = post(client, {"category": "other", "message": "bad\x00 byte"})
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
    assert _rows(db) == []


def _add(db, when: datetime, member: str | None, message: str) -> None:
    with db.session() as s:
        s.add(ReaderFeedback(created_at=when, member_code=member, category="service",
                             message=message))  # fmt: skip


@pytest.fixture
def feedback(db, members):
    _add(db, datetime(2026, 10, 31, 17, 30, tzinfo=UTC), "ytu", "late October")  # Nov 1 Beijing
    _add(db, datetime(2026, 10, 5, tzinfo=UTC), "ytlib", "early October")
    _add(db, datetime(2026, 7, 1, tzinfo=UTC), None, "July")
    _add(db, datetime(2025, 12, 1, tzinfo=UTC), "ytu", HOSTILE)


@pytest.mark.parametrize(
    ("role", "status"),
    [(None, 401), (Role.READER, 403), (Role.ILL_STAFF, 403), (Role.MEMBER_ADMIN, 403),
     (Role.COORDINATOR, 200), (Role.ALLIANCE_ADMIN, 200)],
)  # fmt: skip
def test_only_coordinators_and_alliance_admins_read_feedback(app, client, feedback, role, status):
    _act_as(app, role, "ytu" if role in (Role.READER, Role.ILL_STAFF, Role.MEMBER_ADMIN) else None)
    response = client.get("/feedback/list")
    assert response.status_code == status
    assert ("late October" in response.get_data(as_text=True)) == (status == 200)


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("", ["late October", "early October", "July", "<script>"]),
        ("period=2026-11", ["late October"]),  # in the alliance's time zone it was November
        ("period=2026-10", ["early October"]),
        ("period=2026-Q4", ["late October", "early October"]),
        ("period=2026", ["late October", "early October", "July"]),
        ("member=ytu", ["late October", "<script>"]),
        ("period=2026&member=ytu", ["late October"]),
    ],
)
def test_list_filters_by_period_and_library(app, client, feedback, query, shown):
    _act_as(app, Role.COORDINATOR)
    body = client.get("/feedback/list?lang=en&" + query).get_data(as_text=True)
    messages = [unescape(m) for m in re.findall(r'<td class="message">(.*?)</td>', body, re.S)]
    assert [m[:8] if m.startswith("<") else m for m in messages] == shown
    assert f"{len(shown)} message" in body


def test_hostile_feedback_is_shown_as_text(app, client, feedback):
    _act_as(app, Role.COORDINATOR)
    body = client.get("/feedback/list").get_data(as_text=True)
    assert "<script>alert(1)" not in body and 'onmouseover="x' not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


@pytest.mark.parametrize("query", ["period=November", "period=2026-13", "member=nosuch"])
def test_bad_filters_get_a_message(app, client, feedback, query):
    _act_as(app, Role.COORDINATOR)
    response = client.get("/feedback/list?lang=en&" + query)
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)


def test_periods_are_whole_months_quarters_and_years_in_the_alliances_time_zone():
    q4 = parse_period("2026-Q4", BEIJING)
    assert (q4.start, q4.end) == (
        datetime(2026, 9, 30, 16, tzinfo=UTC), datetime(2026, 12, 31, 16, tzinfo=UTC),
    )  # fmt: skip
    dec = parse_period("2026-12", BEIJING)
    assert dec.end == datetime(2026, 12, 31, 16, tzinfo=UTC)
    assert parse_period("2026", BEIJING).start == datetime(2025, 12, 31, 16, tzinfo=UTC)
    assert parse_period("26-1", BEIJING) is None


def test_feedback_rows_count_matches_what_was_sent(client, db, members):
    for n in range(3):
        post(client, {"category": "record", "message": f"note {n}"})
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ReaderFeedback)) == 3


def test_a_post_without_the_forms_token_is_refused_and_stores_nothing(client, db, members):
    response = client.post("/feedback", data={"category": "search", "message": "forged"})
    assert response.status_code in (400, 403)
    assert _rows(db) == []


def test_signed_in_coordinators_find_the_list_in_the_header(app, client, feedback):
    from tests.support.accounts import sign_in_as

    sign_in_as(client, app, Role.COORDINATOR)
    page = client.get("/?lang=en").get_data(as_text=True)
    header = page.split("</header>")[0]
    assert 'href="/feedback/list"' in header
    assert "late October" in client.get("/feedback/list").get_data(as_text=True)


def test_staff_without_the_right_see_no_such_link(app, client, feedback):
    from tests.support.accounts import sign_in_as

    sign_in_as(client, app, Role.ILL_STAFF, "ytu")
    assert "/feedback/list" not in client.get("/").get_data(as_text=True).split("</header>")[0]


def test_one_address_cannot_flood_the_feedback(app, client, db, members):
    app.config["RATE_LIMITS"] = {"feedback": (3, 600)}
    answers = [
        post(client, {"category": "other", "message": f"m{n}"}).status_code for n in range(5)
    ]
    assert answers == [200, 200, 200, 429, 429]
    assert len(_rows(db)) == 3
    assert client.get("/feedback").status_code == 200, "the form itself stays open"
