"""The harvests page: each member's runs and records, times in Asia/Shanghai, admins only."""

from datetime import UTC, datetime, timedelta

import pytest
from lxml import html

from federation.alliance import load_alliance
from federation.members import import_alliance
from federation.models import HarvestRun, Member, Record
from federation.roles import Role
from tests.conftest import DEMO_ALLIANCE
from tests.support.accounts import sign_in_as

STARTED = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)  # 2026-03-02 01:30 in Asia/Shanghai


@pytest.fixture
def alliance(app):
    loaded = load_alliance(DEMO_ALLIANCE)
    with app.extensions["federation.db"].session() as s:
        import_alliance(s, loaded)
    return loaded


@pytest.fixture
def client(app, alliance):
    """A browser signed in as an alliance administrator."""
    signed_in = app.test_client()
    sign_in_as(signed_in, app, Role.ALLIANCE_ADMIN)
    return signed_in


def _run(member_code: str, started: datetime, **values) -> HarvestRun:
    defaults = {
        "kind": "incremental",
        "status": "completed",
        "metadata_prefix": "marc21",
        "finished_at": started + timedelta(seconds=65),
    }
    return HarvestRun(member_code=member_code, started_at=started, **{**defaults, **values})


def _add(app, *rows) -> None:
    with app.extensions["federation.db"].session() as s:
        s.add_all(rows)


def _record(member_code: str, n: int, status: str) -> Record:
    return Record(
        member_code=member_code,
        oai_identifier=f"oai:{member_code}:{status}:{n}",
        datestamp="2026-03-01",
        status=status,
        metadata_prefix="marc21",
    )


def _table(page: str, caption: str) -> list[list[str]]:
    """Return the body rows of the table with this caption, as lists of cell texts."""
    doc = html.fromstring(page)
    tables = [t for t in doc.iter("table") if t.findtext("caption") == caption]
    assert len(tables) == 1, f"no table captioned {caption!r}"
    return [
        [" ".join(cell.text_content().split()) for cell in row]
        for row in tables[0].iterfind("tbody/tr")
    ]


def test_runs_are_listed_with_counts_and_times_in_shanghai(app, client, alliance):
    _add(
        app,
        _run("ytu", STARTED, new=1200, updated=3, deleted=2, rejected=1, pages=4),
        _run(
            "ytu",
            STARTED + timedelta(days=1),
            kind="reconcile",
            status="failed",
            error="http://127.0.0.1:5101/oai answered with HTTP 503",
        ),
        _run("ldu", STARTED, kind="full", status="running", finished_at=None),
    )
    page = client.get("/admin/harvests?lang=en").get_data(as_text=True)
    ytu = _table(page, "Newest runs of Yantai University Library")
    assert ytu == [
        [
            "2026-03-03 01:30",
            "reconciliation",
            "failed",
            "0:01:05",
            "0",
            "0",
            "0",
            "0",
            "0",
            "http://127.0.0.1:5101/oai answered with HTTP 503",
        ],
        [
            "2026-03-02 01:30",
            "incremental",
            "completed",
            "0:01:05",
            "1,200",
            "3",
            "2",
            "1",
            "4",
            "",
        ],
    ]
    ldu = _table(page, "Newest runs of Ludong University Library")
    assert ldu[0][:4] == ["2026-03-02 01:30", "full", "running", "still running"]
    assert "Asia/Shanghai" in page


def test_record_totals_by_status_and_members_never_harvested(app, client, alliance):
    _add(
        app,
        *[_record("ytu", n, "active") for n in range(3)],
        _record("ytu", 0, "deleted"),
        *[_record("ytu", n, "rejected") for n in range(2)],
        _run("ytu", STARTED),
    )
    page = client.get("/admin/harvests?lang=en").get_data(as_text=True)
    rows = {row[0]: row[1:] for row in _table(page, "Records and last run, by member")}
    assert rows["Yantai University Library"] == ["completed 2026-03-02 01:30", "3", "1", "2"]
    assert rows["Ludong University Library"] == ["never harvested", "0", "0", "0"]
    assert set(rows) == {m.name_en for m in alliance.members}


def test_only_the_newest_runs_are_shown_newest_first(app, client, alliance):
    _add(app, *[_run("ytu", STARTED + timedelta(hours=h), pages=h) for h in range(12)])
    page = client.get("/admin/harvests?lang=en").get_data(as_text=True)
    rows = _table(page, "Newest runs of Yantai University Library")
    assert [row[8] for row in rows] == [str(h) for h in range(11, 1, -1)]


def test_a_former_member_with_runs_is_still_shown(app, client, alliance):
    with app.extensions["federation.db"].session() as s:
        retired = Member(
            code="old-lib",
            name_zh="旧图书馆",
            name_en="Old Library",
            type="public",
            region_code="zhifu",
            latitude=37.5,
            longitude=121.4,
            oai_base_url="http://127.0.0.1:5999/oai",
            oai_metadata_prefix="marc21",
            active=False,
        )
        s.add(retired)
    _add(app, _run("old-lib", STARTED))
    page = client.get("/admin/harvests?lang=en").get_data(as_text=True)
    assert _table(page, "Newest runs of Old Library")[0][0] == "2026-03-02 01:30"
    assert "No longer in the alliance file" in page


def test_the_page_is_in_chinese_by_default(app, client, alliance):
    _add(app, _run("ytu", STARTED, status="failed", error="x"))
    page = client.get("/admin/harvests", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    rows = _table(page, "烟台大学图书馆的最近运行")
    assert rows[0][:3] == ["2026-03-02 01:30", "增量", "失败"]


def test_an_error_from_a_member_server_is_shown_as_text(app, client, alliance):
    _add(app, _run("ytu", STARTED, status="failed", error="<script>alert(1)</script>"))
    page = client.get("/admin/harvests?lang=en").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_anonymous_visitors_are_asked_to_sign_in(app, alliance):
    response = app.test_client().get("/admin/harvests", headers={"Accept": "application/json"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("role", "member"),
    [
        (Role.READER, "ytlib"),
        (Role.ILL_STAFF, "ytu"),
        (Role.MEMBER_ADMIN, "ytu"),
        (Role.COORDINATOR, None),
    ],
)
def test_other_roles_are_refused(app, alliance, role, member):
    other = app.test_client()
    sign_in_as(other, app, role, member)
    response = other.get("/admin/harvests?lang=en")
    assert response.status_code == 403
    assert "Newest runs" not in response.get_data(as_text=True)
