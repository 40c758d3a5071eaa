"""Account and token pages: what each administrator sees and may change, secrets shown once."""

import re

import pytest
from sqlalchemy import select, text

from federation.accounts.models import ApiToken, User
from federation.roles import Role
from tests.support.accounts import PASSWORD, csrf, make_user, sign_in, sign_in_as, sign_out


@pytest.fixture
def ytu_admin(app, client):
    return sign_in_as(client, app, Role.MEMBER_ADMIN, "ytu")


def _post(client, path, **data):
    return client.post(path + "?lang=en", data={"csrf_token": csrf(client), **data})


def _users(app):
    with app.extensions["federation.db"].session() as s:
        return {u.username: u for u in s.scalars(select(User))}


def test_a_member_admin_sees_only_its_own_members_accounts(app, client, ytu_admin):
    make_user(app, Role.ILL_STAFF, "ytu", username="ytu.staff")
    make_user(app, Role.ILL_STAFF, "ldu", username="ldu.staff")
    make_user(app, Role.COORDINATOR, username="coordinator.zhao")
    page = client.get("/admin/accounts?lang=en").get_data(as_text=True)
    assert "ytu.staff" in page
    assert "ldu.staff" not in page and "coordinator.zhao" not in page


def test_a_member_admin_creates_staff_of_its_own_member_only(app, client, ytu_admin):
    ok = _post(
        client,
        "/admin/accounts",
        username="new.staff",
        password=PASSWORD,
        role="ill_staff",
        member_code="ytu",
    )
    assert "Account new.staff created." in ok.get_data(as_text=True)
    other = _post(
        client,
        "/admin/accounts",
        username="spy",
        password=PASSWORD,
        role="ill_staff",
        member_code="ldu",
    )
    assert other.status_code == 400 and "your own library" in other.get_data(as_text=True)
    boss = _post(
        client, "/admin/accounts", username="boss", password=PASSWORD, role="alliance_admin"
    )
    assert boss.status_code == 400
    users = _users(app)
    assert users["new.staff"].member_code == "ytu"
    assert "spy" not in users and "boss" not in users
    sign_out(client)
    assert sign_in(client, "new.staff").status_code == 302


def test_another_members_account_ids_answer_404(app, client, ytu_admin):
    stranger = make_user(app, Role.ILL_STAFF, "ldu", username="ldu.staff")
    for action in ("reset-password", "disable", "enable"):
        assert _post(client, f"/admin/accounts/{stranger.id}/{action}").status_code == 404
    assert _users(app)["ldu.staff"].active
    assert sign_in(app.test_client(), "ldu.staff").status_code == 302


def test_reset_password_shows_a_one_time_password_that_works_once(app, client, ytu_admin):
    staff = make_user(app, Role.ILL_STAFF, "ytu", username="ytu.staff")
    page = _post(client, f"/admin/accounts/{staff.id}/reset-password").get_data(as_text=True)
    temporary = re.search(r'<p class="secret" id="secret">([^<]+)</p>', page).group(1)
    other = app.test_client()
    assert sign_in(other, "ytu.staff").status_code == 401
    assert sign_in(other, "ytu.staff", temporary).headers["Location"].endswith("/account")
    again = client.get("/admin/accounts?lang=en").get_data(as_text=True)
    assert temporary not in again


def test_disable_then_enable(app, client, ytu_admin):
    staff = make_user(app, Role.ILL_STAFF, "ytu", username="ytu.staff")
    _post(client, f"/admin/accounts/{staff.id}/disable")
    assert sign_in(app.test_client(), "ytu.staff").status_code == 401
    _post(client, f"/admin/accounts/{staff.id}/enable")
    assert sign_in(app.test_client(), "ytu.staff").status_code == 302


def test_an_alliance_admin_manages_every_account_and_role(app, client):
    sign_in_as(client, app, Role.ALLIANCE_ADMIN)
    make_user(app, Role.ILL_STAFF, "ldu", username="ldu.staff")
    page = client.get("/admin/accounts?lang=en").get_data(as_text=True)
    assert "ldu.staff" in page
    response = _post(
        client,
        "/admin/accounts",
        username="gov.zhao",
        password=PASSWORD,
        role="coordinator",
        member_code="ytu",
    )
    assert "created" in response.get_data(as_text=True)
    assert _users(app)["gov.zhao"].member_code is None  # coordinators belong to no member


def test_a_readers_card_number_is_stored_encrypted(app, client, ytu_admin, db):
    _post(
        client,
        "/admin/accounts",
        username="r2026",
        password=PASSWORD,
        role="reader",
        member_code="ytu",
        card_number="YT20260001",
    )
    with db.engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM users")) for v in row)
        audit = conn.execute(text("SELECT action, subject FROM audit_events")).all()
    assert "r2026" in dump and "YT20260001" not in dump
    assert audit and audit[0][0] == "change"


def test_a_token_is_shown_once_and_works_until_revoked(app, client, ytu_admin):
    page = _post(
        client, "/admin/tokens", name="Interlibrary system", member_code="ytu", scope="read"
    ).get_data(as_text=True)
    secret = re.search(r'<p class="secret" id="secret">([^<]+)</p>', page).group(1)
    listing = client.get("/admin/tokens?lang=en").get_data(as_text=True)
    assert secret not in listing and "Interlibrary system" in listing and "never" in listing
    api = app.test_client()
    assert (
        api.get("/api/v1/members", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )
    assert "never" not in client.get("/admin/tokens?lang=en").get_data(as_text=True)
    with app.extensions["federation.db"].session() as s:
        token_id = s.scalar(select(ApiToken.id))
    _post(client, f"/admin/tokens/{token_id}/revoke")
    assert (
        api.get("/api/v1/members", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )


def test_a_member_admin_cannot_make_or_revoke_another_members_tokens(app, client, ytu_admin):
    refused = _post(client, "/admin/tokens", name="x", member_code="ldu", scope="write")
    assert refused.status_code == 400
    other = app.test_client()
    sign_in_as(other, app, Role.MEMBER_ADMIN, "ldu")
    _post(other, "/admin/tokens", name="LDU system", member_code="ldu", scope="write")
    with app.extensions["federation.db"].session() as s:
        token = s.scalar(select(ApiToken))
    assert token.member_code == "ldu"
    assert "LDU system" not in client.get("/admin/tokens?lang=en").get_data(as_text=True)
    assert _post(client, f"/admin/tokens/{token.id}/revoke").status_code == 404


def test_staff_and_readers_cannot_open_the_pages(app, client):
    sign_in_as(client, app, Role.ILL_STAFF, "ytu")
    assert client.get("/admin/accounts").status_code == 403
    assert client.get("/admin/tokens").status_code == 403


def test_changes_to_a_readers_account_are_in_the_audit_log(app, client, ytu_admin, db):
    reader = make_user(app, Role.READER, "ytu", username="r2027")
    staff = make_user(app, Role.ILL_STAFF, "ytu", username="ytu.staff")
    _post(client, f"/admin/accounts/{reader.id}/reset-password")
    _post(client, f"/admin/accounts/{reader.id}/disable")
    _post(client, f"/admin/accounts/{staff.id}/disable")
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT actor, subject, detail FROM audit_events")).all()
    assert [(r.subject, r.detail) for r in rows] == [
        (f"user:{reader.id}", "password reset by an administrator"),
        (f"user:{reader.id}", "account disabled"),
    ]
    assert all(r.actor.startswith("ytu: ") for r in rows)
