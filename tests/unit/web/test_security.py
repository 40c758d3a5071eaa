"""Defences every response gets: headers, CSRF, refused undeclared views, bearer tokens, limits."""

import pytest
from flask import Blueprint

from federation.accounts import create_token
from federation.policy import Permission
from federation.roles import Role
from tests.support.accounts import csrf, ensure_members, sign_in_as
from web import create_app
from web.identity import public, requires
from web.security import UndeclaredViewError, check_declared


def test_every_page_carries_the_security_headers(client):
    for path in ("/", "/sign-in", "/api/v1/members", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"


def test_pages_for_a_signed_in_person_are_not_cached(app, client):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    sign_in_as(client, app, Role.COORDINATOR)
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_no_page_relies_on_inline_script(client):
    for path in ("/", "/sign-in", "/search?q=x", "/api/v1/docs"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page and "onclick=" not in page and " style=" not in page


def test_a_view_without_a_declared_permission_stops_the_app_from_starting(app):
    bp = Blueprint("forgotten", __name__)

    @bp.get("/forgotten")
    def forgotten():
        return "secret"

    app.register_blueprint(bp)
    with pytest.raises(UndeclaredViewError, match="forgotten.forgotten"):
        check_declared(app)


def test_a_view_added_later_without_a_permission_is_refused(app):
    @app.get("/late")
    def late():
        return "should never be seen"

    response = app.test_client().get("/late")
    assert response.status_code == 403
    assert "should never be seen" not in response.get_data(as_text=True)


def test_state_changing_requests_need_the_session_token(app):
    @app.post("/poke")
    @public
    def poke():
        return "poked"

    client = app.test_client()
    assert client.post("/poke").status_code == 400
    assert client.post("/poke", data={"csrf_token": "forged"}).status_code == 400
    assert client.post("/poke", data={"csrf_token": csrf(client)}).get_data(as_text=True) == "poked"
    other = app.test_client()
    assert other.post("/poke", data={"csrf_token": csrf(client)}).status_code == 400
    assert client.post("/poke", headers={"X-CSRF-Token": csrf(client)}).status_code == 200


def test_api_calls_with_a_bearer_token_need_no_csrf_token_and_act_for_their_member(app):
    @app.post("/api/v1/echo")
    @requires(Permission.ILL_ACT)
    def echo():
        from web.identity import current_actor

        return current_actor().member_code

    ensure_members(app)
    with app.extensions["federation.db"].session() as s:
        write = create_token(s, "ytu", "ILS", "write").secret
        read = create_token(s, "ytu", "catalogue", "read").secret
    client = app.test_client()
    ok = client.post("/api/v1/echo", headers={"Authorization": f"Bearer {write}"})
    assert ok.get_data(as_text=True) == "ytu"
    assert (
        client.post("/api/v1/echo", headers={"Authorization": f"Bearer {read}"}).status_code == 403
    )
    bad = client.post("/api/v1/echo", headers={"Authorization": "Bearer fed_0000_nope"})
    assert bad.status_code == 401
    assert bad.get_json()["error"]["message"] == "The API token is unknown or revoked."


def test_oai_pmh_may_be_asked_by_post_without_a_form_token(client):
    response = client.post("/oai", data={"verb": "Identify"})
    assert response.status_code == 200 and b"<Identify>" in response.data


def test_a_request_body_over_the_limit_is_refused_cleanly(client):
    response = client.post(
        "/sign-in", data={"x": "y" * (3 * 1024 * 1024)}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 413
    assert "Traceback" not in response.get_data(as_text=True)


def test_sign_in_is_rate_limited_per_client(settings_overrides, db):
    app = create_app({**settings_overrides})
    app.config["RATE_LIMITS"] = {"account": (3, 60)}
    client = app.test_client()
    codes = [client.get("/sign-in").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    app.extensions["federation.db"].dispose()
