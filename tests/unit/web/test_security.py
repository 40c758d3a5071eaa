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
    assert bad.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_oai_pmh_may_be_asked_by_post_without_a_form_token(client):
    response = client.post("/oai", data={"verb": "Identify"})
    assert response.status_code == 200 and b"<Identify>" in response.data


def test_a_request_body_over_the_limit_is_refused_cleanly(client):
    response = client.post(
        "/sign-in", data={"x": "y" * (3 * 1024 * 1024)}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 413
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_form_with_too_many_fields_is_refused_cleanly(client):
    fields = {f"f{i}": "x" for i in range(150)}
    response = client.post(
        "/sign-in",
        data=fields,
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 413


def test_sign_in_is_rate_limited_per_client(settings_overrides, db):
    app = create_app({**settings_overrides})
    app.config["RATE_LIMITS"] = {"account": (3, 60)}
    client = app.test_client()
    codes = [client.get("/sign-in").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    app.extensions["federation.db"].dispose()


def test_api_calls_with_a_token_are_counted_per_token(settings_overrides, db):
    app = create_app({**settings_overrides})
    app.config["RATE_LIMITS"] = {"api": (2, 60)}
    ensure_members(app)
    with app.extensions["federation.db"].session() as s:
        one = create_token(s, "ytu", "one", "read").secret
        two = create_token(s, "ldu", "two", "read").secret
    client = app.test_client()

    def call(token):
        return client.get("/api/v1/members", headers={"Authorization": f"Bearer {token}"})

    assert [call(one).status_code for _ in range(3)] == [200, 200, 429]
    assert call(two).status_code == 200  # same address, another member system
    app.extensions["federation.db"].dispose()


def test_people_over_the_search_limit_get_a_page_not_json(settings_overrides, db):
    app = create_app({**settings_overrides})
    app.config["RATE_LIMITS"] = {"search": (1, 60)}
    client = app.test_client()
    client.get("/search?q=a", headers={"Accept": "text/html"})
    response = client.get("/search?q=a&lang=en", headers={"Accept": "text/html"})
    assert response.status_code == 429 and response.mimetype == "text/html"
    assert "Retry-After" in response.headers and "<h1>" in response.get_data(as_text=True)
    app.extensions["federation.db"].dispose()


def test_behind_a_proxy_each_client_is_counted_by_its_own_address(settings_overrides, db):
    app = create_app({**settings_overrides, "PROXY_HOPS": 1})
    app.config["RATE_LIMITS"] = {"account": (1, 60)}
    client = app.test_client()

    def visit(address):
        return client.get("/sign-in", headers={"X-Forwarded-For": address}).status_code

    assert [visit("198.51.100.1"), visit("198.51.100.1"), visit("198.51.100.2")] == [200, 429, 200]
    app.extensions["federation.db"].dispose()


def test_without_a_proxy_setting_forwarded_addresses_are_ignored(settings_overrides, db):
    app = create_app({**settings_overrides})
    app.config["RATE_LIMITS"] = {"account": (1, 60)}
    client = app.test_client()
    codes = [
        client.get("/sign-in", headers={"X-Forwarded-For": a}).status_code
        for a in ("198.51.100.1", "198.51.100.2")
    ]
    assert codes == [200, 429]  # a client cannot dodge the limit by inventing addresses
    app.extensions["federation.db"].dispose()


def test_a_nul_character_in_the_address_or_a_json_body_is_refused_with_a_message(app):
    client = app.test_client()
    answer = client.get("/api/v1/search?q=a%00b")
    assert answer.status_code == 400 and "NUL" in answer.get_data(as_text=True)
    answer = client.post("/api/v1/ill/requests", json={"note": "a\u0000b"})
    assert answer.status_code == 400


def test_a_client_at_its_limit_stays_refused_across_the_turn_of_a_minute():
    from web.ratelimit import _Allowances

    allowances = _Allowances()
    key = ("search", "198.51.100.7")
    # Three a minute: three at 59.9 s, then one at 60.1 s, where a fixed window would restart.
    assert [allowances.hit(key, 3, 60, 59.9)[0] for _ in range(3)] == [2, 1, 0]
    left, retry_at = allowances.hit(key, 3, 60, 60.1)
    assert left == -1 and retry_at == pytest.approx(79.9)
    assert allowances.hit(key, 3, 60, 80.0)[0] == 0  # one request's worth back after 20 s
    assert allowances.hit(("search", "198.51.100.8"), 3, 60, 60.1)[0] == 2
