"""Test helpers: make an account through the real services and sign in through the real form.

user = sign_in_as(client, app, Role.ILL_STAFF, "ytu")
client.post("/somewhere", data={"csrf_token": csrf(client), ...})
"""

from __future__ import annotations

import re
from itertools import count

from flask import Flask
from flask.testing import FlaskClient

from federation.accounts import create_user
from federation.accounts.models import User
from federation.models import Member
from federation.roles import MEMBER_SCOPED, Role

PASSWORD = "correct horse battery staple"
DEFAULT_MEMBER = {Role.READER: "ytlib", Role.ILL_STAFF: "ytu", Role.MEMBER_ADMIN: "ytu"}
_numbers = count(1)
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def ensure_members(app: Flask) -> None:
    """Import the app's alliance (members and regions) when the database has no members yet."""
    from federation.members import import_alliance

    with app.extensions["federation.db"].session() as s:
        if s.query(Member).first() is None:
            import_alliance(s, app.extensions["federation.alliance"])


def make_user(
    app: Flask,
    role: Role | str,
    member_code: str | None = None,
    username: str | None = None,
    password: str = PASSWORD,
) -> User:
    """Create an active account with the services (members imported first if needed)."""
    role = Role(role)
    if role in MEMBER_SCOPED:
        member_code = member_code or DEFAULT_MEMBER[role]
        ensure_members(app)
    else:
        member_code = None
    name = username or f"{role.value.replace('_', '-')}-{member_code or 'all'}-{next(_numbers)}"
    with app.extensions["federation.db"].session() as s:
        return create_user(s, name, password, role, member_code, display_name=name)


def csrf(client: FlaskClient) -> str:
    """Return the client's session CSRF token (opening the sign-in page first if it has none)."""
    with client.session_transaction() as session:
        token = session.get("csrf_token")
    if token:
        return token
    page = client.get("/sign-in").get_data(as_text=True)
    return _TOKEN.search(page).group(1)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD):
    """Post the sign-in form as a browser would (token taken from the page); return the reply."""
    page = client.get("/sign-in").get_data(as_text=True)
    token = _TOKEN.search(page).group(1)
    return client.post(
        "/sign-in", data={"csrf_token": token, "username": username, "password": password}
    )


def sign_in_as(
    client: FlaskClient, app: Flask, role: Role | str, member_code: str | None = None
) -> User:
    """Create a user of ``role`` (of ``member_code``) and sign ``client`` in as that user."""
    user = make_user(app, role, member_code)
    response = sign_in(client, user.username)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return user


def sign_out(client: FlaskClient):
    """Post the sign-out form; return the reply."""
    return client.post("/sign-out", data={"csrf_token": csrf(client)})
