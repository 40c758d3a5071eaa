"""Every route × every role (and anonymous, and API tokens): allowed or refused as the policy says.

The routes come from ``app.url_map``, so new ones are checked without editing this file; a view
that declares no permission fails. Routes with one member's objects in the URL are tried with
an object of the actor's own member and of another member (see tests/support/matrix.py).
"""

from __future__ import annotations

import pytest

from federation.accounts import create_token
from federation.policy import Permission, allowed
from federation.roles import Actor, Role
from tests.support.accounts import csrf, ensure_members, sign_in_as
from tests.support.matrix import MEMBER_OBJECTS, OTHER, OWN, SAMPLE_VALUES
from web.security import BUILTIN_PUBLIC, undeclared_endpoints

P = Permission
# The declarations that matter most, pinned: changing one must be a decision, not an accident.
PINNED = {
    "home.index": P.PUBLIC,
    "search.results": P.PUBLIC,
    "search.record": P.PUBLIC,
    "search.record_source": P.STAFF_VIEWS,
    "api.search": P.PUBLIC,
    "oai.endpoint": P.PUBLIC,
    "sru.search_retrieve": P.PUBLIC,
    "admin.harvests": P.ALLIANCE_ADMIN,
    "account.sign_in": P.PUBLIC,
    "account.profile": P.SIGNED_IN,
    "account.change_password": P.SIGNED_IN,
    "accounts_admin.accounts": P.MANAGE_ACCOUNTS,
    "accounts_admin.create_account": P.MANAGE_ACCOUNTS,
    "accounts_admin.reset_account_password": P.MANAGE_ACCOUNTS,
    "accounts_admin.disable_account": P.MANAGE_ACCOUNTS,
    "accounts_admin.tokens": P.MANAGE_ACCOUNTS,
    "accounts_admin.create_api_token": P.MANAGE_ACCOUNTS,
    "accounts_admin.revoke_api_token": P.MANAGE_ACCOUNTS,
}
# Answers 401 to a wrong password by design: the matrix only checks its declaration.
ANSWERS_401_TO_BAD_INPUT = {"account.sign_in"}
# Ends the session: tried last.
LAST = {"account.sign_out"}
ROLES = {
    "reader": (Role.READER, OWN),
    "ill_staff": (Role.ILL_STAFF, OWN),
    "member_admin": (Role.MEMBER_ADMIN, OWN),
    "coordinator": (Role.COORDINATOR, None),
    "alliance_admin": (Role.ALLIANCE_ADMIN, None),
}


def _actors(app) -> dict[str, tuple[object, Actor | None, dict]]:
    """Return actor key -> (client, the Actor it should act as, extra headers)."""
    out = {"anonymous": (app.test_client(), None, {})}
    for key, (role, member) in ROLES.items():
        client = app.test_client()
        sign_in_as(client, app, role, member)
        out[key] = (client, Actor(role, member), {})
    for scope in ("read", "write"):
        with app.extensions["federation.db"].session() as s:
            secret = create_token(s, OWN, f"matrix {scope}", scope).secret
        actor = Actor(Role.ILL_STAFF, OWN, read_only=scope == "read")
        out[f"token_{scope}"] = (app.test_client(), actor, {"Authorization": f"Bearer {secret}"})
    return out


def _cases(app):
    """Yield (endpoint, method, url, object owner or None) for every route."""
    objects = {}
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint in LAST, r.rule))
    for rule in rules:
        if rule.endpoint in BUILTIN_PUBLIC:
            continue
        params = set(rule.arguments)
        object_params = params & set(MEMBER_OBJECTS)
        unknown = params - object_params - set(SAMPLE_VALUES)
        assert not unknown, (
            f"{rule.rule}: add sample values for {unknown} to tests/support/matrix.py"
        )
        owners = (OWN, OTHER) if object_params else (None,)
        for owner in owners:
            values = {p: SAMPLE_VALUES[p] for p in params - object_params}
            for p in object_params:
                if (p, owner) not in objects:
                    objects[p, owner] = MEMBER_OBJECTS[p].make(app, owner)
                values[p] = objects[p, owner]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                with app.test_request_context():
                    url = app.url_for(rule.endpoint, **values)
                yield rule.endpoint, method, url, owner, object_params


def _expected(key, actor, permission, owner, object_params) -> str:
    """Return "allow", "401", "403" or "404"."""
    if not allowed(actor, permission):
        return "401" if actor is None else "403"
    for p in object_params:
        rule = MEMBER_OBJECTS[p]
        if key not in (rule.own if owner == OWN else rule.other):
            return "404"
    return "allow"


def _observed(status: int, object_params: set) -> str:
    # Without an object of a member in the URL, 404 only means the sample id does not exist.
    refusals = (401, 403, 404) if object_params else (401, 403)
    return str(status) if status in refusals else "allow"


@pytest.fixture
def matrix_app(app):
    app.config["RATE_LIMITS"] = {k: (100_000, 60) for k in ("api", "sru", "oai", "account")}
    ensure_members(app)
    return app


def test_every_view_declares_a_permission(matrix_app):
    assert undeclared_endpoints(matrix_app) == []


def test_pinned_declarations(matrix_app):
    declared = {e: getattr(v, "permission", None) for e, v in matrix_app.view_functions.items()}
    assert {e: declared.get(e) for e in PINNED} == PINNED


def test_every_route_with_every_role(matrix_app):
    app = matrix_app
    actors = _actors(app)
    failures = []
    checked = 0
    for endpoint, method, url, owner, object_params in _cases(app):
        permission = app.view_functions[endpoint].permission
        for key, (client, actor, headers) in actors.items():
            want = _expected(key, actor, permission, owner, object_params)
            if endpoint in ANSWERS_401_TO_BAD_INPUT and want == "allow":
                continue
            if method == "GET":
                response = client.get(url, headers=headers)
            else:
                data = {} if headers else {"csrf_token": csrf(client)}
                response = client.open(url, method=method, data=data, headers=headers)
            got = _observed(response.status_code, object_params)
            checked += 1
            if got != want:
                failures.append(
                    f"{method} {url} as {key}: expected {want}, got {response.status_code}"
                )
    assert checked > 100
    assert failures == [], "\n".join(failures)
