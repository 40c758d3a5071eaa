"""A bounded schemathesis run against the OpenAPI document as a member system would call it:
with a valid API token, with a revoked one, and with made-up ones. No 500, no answer that
breaks the documented schema, and a wrong token is a documented 401, never data."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks

from federation.accounts import create_token, revoke_token
from federation.accounts.models import ApiToken
from tests.support.accounts import ensure_members

pytestmark = pytest.mark.integration
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
# Bounded: a fixed number of generated requests per operation and token kind.
BOUND = settings(
    max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


@pytest.fixture
def tokens(app):
    app.config["RATE_LIMITS"] = {"api": (100_000, 60)}
    ensure_members(app)
    with app.extensions["federation.db"].session() as s:
        valid = create_token(s, "ytu", "schemathesis", "read").secret
        revoked = create_token(s, "ldu", "old", "write")
        revoke_token(s, s.get(ApiToken, revoked.id))
    return valid, revoked.secret


def test_the_api_holds_its_schema_for_valid_revoked_and_made_up_tokens(app, tokens):
    valid, revoked = tokens
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    made_up = st.one_of(
        st.just(revoked),
        st.text(max_size=60).map(lambda t: "fed_" + t),
        st.text(max_size=60),
    )
    statuses: dict[str, set[int]] = {"valid": set(), "wrong": set()}
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(), bad=made_up)
        @BOUND
        def check(case, bad):
            good = case.call_and_validate(
                headers={"Authorization": f"Bearer {valid}"}, checks=CHECKS
            )
            statuses["valid"].add(good.status_code)
            header = f"Bearer {bad}".replace("\n", " ").replace("\r", " ")
            try:
                header.encode("latin-1")
            except UnicodeEncodeError:
                header = "Bearer fed_not-latin-1"
            wrong = case.call_and_validate(headers={"Authorization": header}, checks=CHECKS)
            statuses["wrong"].add(wrong.status_code)
            assert wrong.status_code == 401, wrong.text[:300]

        check()
    assert 401 not in statuses["valid"]
    assert statuses["wrong"] == {401}
