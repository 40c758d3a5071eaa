"""What the role × route matrix test needs to know about routes that show one member's objects.

A route whose URL carries an object id (``<int:user_id>``, ``<int:token_id>``, an ILL request
id...) registers here how to make such an object for a given member, and which actors may reach
it when it belongs to their own member ("own", member ytu) and to another member ("other", ldu).
Every other route is covered automatically from its declared permission.

Actors: anonymous, reader, ill_staff, member_admin (all of ytu), coordinator, alliance_admin,
token_read and token_write (API tokens of ytu).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

OWN, OTHER = "ytu", "ldu"


@dataclass(frozen=True)
class MemberObject:
    """How to make one member's object for a URL parameter, and who may reach it."""

    make: Callable[[Flask, str], object]  # (app, member_code) -> the URL value
    own: frozenset[str]  # actors allowed on an object of their own member (ytu)
    other: frozenset[str]  # actors allowed on an object of another member (ldu)


def _make_user(app: Flask, member_code: str) -> int:
    from tests.support.accounts import make_user

    return make_user(app, "ill_staff", member_code).id


def _make_token(app: Flask, member_code: str) -> int:
    from federation.accounts import create_token

    with app.extensions["federation.db"].session() as s:
        return create_token(s, member_code, "matrix", "read").id


def _make_ill_request(app: Flask, member_code: str) -> int:
    """An ILL request of ``member_code`` held by itself as lender, so every ILL route (the
    borrower's and the lender's) is reachable by its staff; the services' finer rules (only the
    lender answers, ...) are tested in tests/unit/web/test_ill_pages.py and test_ill_api.py."""
    from ill.models import IllRequest

    with app.extensions["federation.db"].session() as s:
        request = IllRequest(
            borrower_code=member_code, lender_code=member_code, title="matrix",
            service_type="Loan", status="RequestReceived", citation={}, version=1,
        )  # fmt: skip
        s.add(request)
        s.flush()
        return request.id


MANAGERS = frozenset({"member_admin", "alliance_admin"})
ILL_STAFF = frozenset({"ill_staff", "member_admin", "token_read", "token_write"})
MEMBER_OBJECTS: dict[str, MemberObject] = {
    "user_id": MemberObject(_make_user, MANAGERS, frozenset({"alliance_admin"})),
    "token_id": MemberObject(_make_token, MANAGERS, frozenset({"alliance_admin"})),
    # Readers reach only requests they asked for themselves (tests/unit/web/test_ill_pages.py).
    "request_id": MemberObject(_make_ill_request, ILL_STAFF, frozenset()),
}

# Plain values for the other URL parameters (the objects need not exist: 404 is an answer).
SAMPLE_VALUES: dict[str, str] = {"cluster_id": "c-none", "code": "en"}
