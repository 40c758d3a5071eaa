"""The staff ILL screens and a reader's own requests, used through the real sign-in."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from federation.models import AuditEvent
from federation.roles import Role
from ill.models import IllRequest
from tests.support.accounts import csrf, ensure_members, sign_in_as
from tests.support.ill import add_cluster


@pytest.fixture
def title(app):
    ensure_members(app)
    return add_cluster(app.extensions["federation.db"], "c-page", "红楼梦<script>",
                       {"ldu": ["available"], "ytlib": ["available"]})  # fmt: skip


def _client_as(app, role, member):
    client = app.test_client()
    sign_in_as(client, app, role, member)
    return client


def _place(client, **extra):
    form = {"csrf_token": csrf(client), "cluster_id": "c-page", "patron_name": "韩梅梅",
            "patron_card": "Z-777", "form_key": "f1", **extra}  # fmt: skip
    return client.post("/ill/new", data=form)


def _version(page: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page).group(1)


def test_staff_place_a_request_and_see_why_this_lender(app, title):
    zhifu = _client_as(app, Role.ILL_STAFF, "zhifu-pl")
    placed = _place(zhifu)
    assert placed.status_code == 303
    page = zhifu.get(placed.headers["Location"]).get_data(as_text=True)
    assert "红楼梦&lt;script&gt;" in page and "红楼梦<script>" not in page  # escaped
    assert "same district" in page  # the reason behind the distance term is shown
    assert "韩梅梅" not in page and "Z-777" not in page  # the reader only on demand
    assert _place(zhifu).headers["Location"] == placed.headers["Location"]  # one form, one request


def test_only_the_borrower_can_show_the_reader_and_each_showing_is_audited(app, title):
    zhifu = _client_as(app, Role.ILL_STAFF, "zhifu-pl")
    url = _place(zhifu).headers["Location"]
    shown = zhifu.post(f"{url}/patron", data={"csrf_token": csrf(zhifu)})
    assert shown.status_code == 200 and "韩梅梅" in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store"
    with app.extensions["federation.db"].session() as session:
        lender = session.scalars(select(IllRequest)).one().lender_code
        assert [a.action for a in session.scalars(select(AuditEvent))].count("read") == 1
    lender_client = _client_as(app, Role.ILL_STAFF, lender)
    page = lender_client.get(url).get_data(as_text=True)
    assert "韩梅梅" not in page and "Show the reader" not in page
    assert (
        lender_client.post(f"{url}/patron", data={"csrf_token": csrf(lender_client)}).status_code
        == 404
    )


def test_another_members_staff_get_404_on_every_page_and_form(app, title):
    zhifu = _client_as(app, Role.ILL_STAFF, "zhifu-pl")
    url = _place(zhifu).headers["Location"]
    outsider = _client_as(app, Role.ILL_STAFF, "muping-pl")
    token = csrf(outsider)
    assert outsider.get(url).status_code == 404
    assert outsider.get(f"{url}/slip").status_code == 404
    for path, form in (("patron", {}), ("status", {"status": "WillSupply"}),
                       ("action", {"action": "Cancel"})):  # fmt: skip
        assert outsider.post(f"{url}/{path}", data={"csrf_token": token, **form}).status_code == 404
    assert "红楼梦" not in outsider.get("/ill/outgoing").get_data(as_text=True)
    assert "红楼梦" not in outsider.get("/ill/incoming").get_data(as_text=True)


def test_the_lender_answers_in_one_click_and_a_stale_page_gets_a_conflict(app, title):
    zhifu = _client_as(app, Role.ILL_STAFF, "zhifu-pl")
    url = _place(zhifu).headers["Location"]
    with app.extensions["federation.db"].session() as session:
        lender = session.scalars(select(IllRequest)).one().lender_code
    ldu = _client_as(app, Role.ILL_STAFF, lender)
    incoming = ldu.get("/ill/incoming").get_data(as_text=True)
    assert "红楼梦" in incoming
    version = _version(ldu.get(url).get_data(as_text=True))
    token = csrf(ldu)
    done = ldu.post(
        f"{url}/status", data={"csrf_token": token, "status": "WillSupply", "version": version}
    )
    assert done.status_code == 303
    stale = ldu.post(
        f"{url}/status", data={"csrf_token": token, "status": "Unfilled", "version": version}
    )
    assert stale.status_code == 409 and "changed by someone else" in stale.get_data(as_text=True)
    picklist = ldu.get("/ill/picklist").get_data(as_text=True)
    assert "main" in picklist and "available" in picklist  # shelf and availability of its copy
    slip = ldu.get(f"{url}/slip").get_data(as_text=True)
    assert "芝罘区图书馆" in slip and "韩梅梅" not in slip


def test_a_reader_asks_follows_and_exports_their_own_requests(app, title):
    reader = _client_as(app, Role.READER, "zhifu-pl")
    asked = reader.post("/ill/ask", data={"csrf_token": csrf(reader), "cluster_id": "c-page"})
    assert asked.status_code == 303
    mine = reader.get("/ill/mine").get_data(as_text=True)
    assert "红楼梦" in mine
    export = reader.get("/ill/mine/export.csv")
    assert export.mimetype == "text/csv" and "红楼梦" in export.get_data(as_text=True)
    other = _client_as(app, Role.READER, "zhifu-pl")
    assert "红楼梦" not in other.get("/ill/mine/export.csv").get_data(as_text=True)
    assert other.get(asked.headers["Location"]).status_code == 404
    assert reader.get("/ill/outgoing").status_code == 403  # not staff
    staff = _client_as(app, Role.ILL_STAFF, "zhifu-pl")
    queue = staff.get("/ill/outgoing?status=Submitted").get_data(as_text=True)
    assert "红楼梦" in queue


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ALLIANCE_ADMIN])
def test_roles_without_ill_work_are_refused(app, title, role):
    client = _client_as(app, role, None)
    assert client.get("/ill/outgoing").status_code == 403
    assert client.get("/ill/mine").status_code == 403


def test_the_ask_and_new_forms_come_filled_in_from_a_record_link(app, title):
    reader = _client_as(app, Role.READER, "zhifu-pl")
    form = reader.get("/ill/ask?cluster_id=c-page").get_data(as_text=True)
    assert 'value="c-page"' in form
    staff = _client_as(app, Role.ILL_STAFF, "zhifu-pl")
    assert 'value="c-page"' in staff.get("/ill/new?cluster_id=c-page").get_data(as_text=True)


def test_a_reader_cancels_their_own_request_until_it_is_shipped(app, title):
    reader = _client_as(app, Role.READER, "zhifu-pl")
    url = reader.post(
        "/ill/ask", data={"csrf_token": csrf(reader), "cluster_id": "c-page"}
    ).headers["Location"]
    page = reader.get(url).get_data(as_text=True)
    assert f'action="{url}/cancel"' in page and "取消此申请" in page  # the reader's language
    other = _client_as(app, Role.READER, "zhifu-pl")
    form = {"csrf_token": csrf(other), "version": _version(page)}
    assert other.post(f"{url}/cancel", data=form).status_code == 404  # not theirs
    stale = reader.post(f"{url}/cancel", data={"csrf_token": csrf(reader), "version": "99"})
    assert stale.status_code == 409 and "changed by someone else" in stale.get_data(as_text=True)
    done = reader.post(
        f"{url}/cancel", data={"csrf_token": csrf(reader), "version": _version(page)}
    )
    assert done.status_code == 303
    after = reader.get(url).get_data(as_text=True)
    assert "/cancel" not in after
    again = reader.post(f"{url}/cancel", data={"csrf_token": csrf(reader)})
    assert again.status_code == 409 and "Cancel" in again.get_data(as_text=True)
    staff = _client_as(app, Role.ILL_STAFF, "zhifu-pl")
    assert "红楼梦" in staff.get("/ill/outgoing?status=Cancelled").get_data(as_text=True)
    assert "The reader cancelled ILL request" in staff.get("/ill/notifications").get_data(
        as_text=True
    )
    with app.extensions["federation.db"].session() as session:
        assert session.scalars(select(IllRequest)).one().status == "Cancelled"


def test_a_reader_cannot_cancel_once_the_lender_has_shipped(app, title):
    reader = _client_as(app, Role.READER, "zhifu-pl")
    url = reader.post(
        "/ill/ask", data={"csrf_token": csrf(reader), "cluster_id": "c-page"}
    ).headers["Location"]
    staff = _client_as(app, Role.ILL_STAFF, "zhifu-pl")
    staff_url = url.replace("/ill/mine/", "/ill/requests/")
    approve = {"csrf_token": csrf(staff), "action": "Approve"}
    assert staff.post(f"{staff_url}/action", data=approve).status_code == 303
    with app.extensions["federation.db"].session() as session:
        lender = session.scalars(select(IllRequest)).one().lender_code
    lender_client = _client_as(app, Role.ILL_STAFF, lender)
    token = csrf(lender_client)
    for status in ("WillSupply", "Loaned"):
        sent = lender_client.post(
            f"{staff_url}/status", data={"csrf_token": token, "status": status}
        )
        assert sent.status_code == 303
    assert "/cancel" not in reader.get(url).get_data(as_text=True)
    refused = reader.post(f"{url}/cancel", data={"csrf_token": csrf(reader)})
    assert refused.status_code == 409
    with app.extensions["federation.db"].session() as session:
        assert session.scalars(select(IllRequest)).one().status == "Loaned"


def test_the_reader_sees_the_title_they_ask_for_not_a_record_id(app, title):
    backend = app.extensions["federation.search"]
    backend.index_documents([{"cluster_id": "c-page", "title": "红楼梦<script>", "holdings": []}])
    backend.commit()
    reader = _client_as(app, Role.READER, "zhifu-pl")
    form = reader.get("/ill/ask?cluster_id=c-page").get_data(as_text=True)
    assert "<strong>红楼梦&lt;script&gt;</strong>" in form
    assert 'type="hidden" name="cluster_id" value="c-page"' in form
    unknown = reader.get("/ill/ask?cluster_id=c-none").get_data(as_text=True)
    assert 'id="cluster_id" name="cluster_id" value="c-none"' in unknown  # typed, as before
