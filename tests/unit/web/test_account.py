"""Signing in and out through the real forms, sessions ended by resets, own password changes."""

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from federation.accounts import disable_user, find_user, reset_password
from federation.roles import Role
from tests.support.accounts import PASSWORD, csrf, make_user, sign_in, sign_in_as, sign_out


def _db(app):
    return app.extensions["federation.db"]


def test_sign_in_then_the_page_names_the_user_and_sign_out_forgets_it(app, client):
    user = make_user(app, Role.ILL_STAFF, "ytu", username="wang.li")
    response = sign_in(client, "Wang.Li")  # user names are not case-sensitive
    assert response.status_code == 302
    page = client.get("/account?lang=en").get_data(as_text=True)
    assert "wang.li" in page and "ILL staff" in page and "ytu" in page
    assert user.username in client.get("/?lang=en").get_data(as_text=True)
    sign_out(client)
    assert client.get("/account").status_code == 401
    assert "Sign in" in client.get("/?lang=en").get_data(as_text=True)


def test_wrong_password_and_unknown_user_get_the_same_message(app, client):
    make_user(app, Role.COORDINATOR, username="zhao")
    wrong = sign_in(client, "zhao", "not the password")
    unknown = sign_in(client, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    message = "The user name or password is wrong"
    assert message in client.post("/sign-in?lang=en", data={"csrf_token": csrf(client)}).get_data(
        as_text=True
    )
    assert client.get("/account").status_code == 401


def test_sign_in_form_without_its_token_is_refused(app, client):
    make_user(app, Role.COORDINATOR, username="zhao")
    response = client.post("/sign-in?lang=en", data={"username": "zhao", "password": PASSWORD})
    assert response.status_code == 400
    assert "reload the page" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 401


def test_session_cookie_is_httponly_and_samesite(app, client):
    make_user(app, Role.COORDINATOR, username="zhao")
    response = sign_in(client, "zhao")
    cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie")
    assert cookie.startswith("federation_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    assert timedelta(hours=7) < expires - datetime.now(UTC) <= timedelta(hours=8)


def test_cookie_is_secure_off_loopback(app):
    make_user(app, Role.COORDINATOR, username="zhao")
    client = app.test_client()
    page = client.get("/sign-in", base_url="https://library.example.org").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/sign-in",
        base_url="https://library.example.org",
        data={"csrf_token": token, "username": "zhao", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_disabling_an_account_ends_its_session(app, client):
    user = sign_in_as(client, app, Role.MEMBER_ADMIN, "ytu")
    assert client.get("/account").status_code == 200
    with _db(app).session() as s:
        disable_user(s, find_user(s, user.username))
    assert client.get("/account").status_code == 401
    assert sign_in(client, user.username).status_code == 401


def test_reset_password_forces_a_new_one_before_anything_else(app, client):
    user = sign_in_as(client, app, Role.ILL_STAFF, "ytu")
    with _db(app).session() as s:
        temporary = reset_password(s, find_user(s, user.username))
    assert client.get("/account").status_code == 401  # the old session ended
    assert sign_in(client, user.username).status_code == 401  # the old password is gone
    response = sign_in(client, user.username, temporary)
    assert response.headers["Location"].endswith("/account")
    assert client.get("/search?q=x").headers["Location"].endswith("/account")
    changed = client.post(
        "/account/password?lang=en",
        data={
            "csrf_token": csrf(client),
            "current_password": temporary,
            "new_password": "a much better secret",
            "confirm_password": "a much better secret",
        },
    )
    assert "Your password has been changed." in changed.get_data(as_text=True)
    assert client.get("/search?q=x").status_code == 200
    sign_out(client)
    assert sign_in(client, user.username, "a much better secret").status_code == 302


def test_change_password_rejects_a_short_one_and_keeps_the_old(app, client):
    user = sign_in_as(client, app, Role.READER, "ytlib")
    response = client.post(
        "/account/password?lang=en",
        data={
            "csrf_token": csrf(client),
            "current_password": PASSWORD,
            "new_password": "short",
            "confirm_password": "short",
        },
    )
    assert response.status_code == 400
    assert "at least 10 characters" in response.get_data(as_text=True)
    sign_out(client)
    assert sign_in(client, user.username).status_code == 302


def test_next_goes_back_to_the_page_but_never_off_site(app, client):
    make_user(app, Role.COORDINATOR, username="zhao")
    page = client.get("/sign-in").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    data = {"csrf_token": token, "username": "zhao", "password": PASSWORD}
    inside = client.post("/sign-in", data={**data, "next": "/search?q=a"})
    assert inside.headers["Location"] == "/search?q=a"
    sign_out(client)
    token = csrf(client)
    away = client.post("/sign-in", data={**data, "csrf_token": token, "next": "//evil.example"})
    assert away.headers["Location"] == "/"


def test_password_rules_are_told_in_chinese_too(app, client):
    sign_in_as(client, app, Role.READER, "ytlib")
    response = client.post(
        "/account/password?lang=zh_CN",
        data={
            "csrf_token": csrf(client),
            "current_password": PASSWORD,
            "new_password": "short",
            "confirm_password": "short",
        },
    )
    assert "密码至少需要 10 个字符" in response.get_data(as_text=True)
