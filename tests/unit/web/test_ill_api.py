"""The ILL REST API as a member's own system uses it: API tokens, idempotency, versions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from federation.accounts.tokens import create_token
from federation.models import AuditEvent
from tests.support.accounts import ensure_members
from tests.support.ill import add_cluster


@pytest.fixture
def api(app):
    """Members, a title held by ldu and ytlib, and a token maker."""
    ensure_members(app)
    db = app.extensions["federation.db"]
    add_cluster(db, "c-api", "Rust 编程", {"ldu": ["available"], "ytlib": ["available"]})
    client = app.test_client()

    def token(member: str, scope: str = "write") -> dict:
        with db.session() as session:
            issued = create_token(session, member, f"{member}-ils", scope)
        return {"Authorization": f"Bearer {issued.secret}"}

    client.token = token
    return client


def _place(api, borrower_headers, key="k-1", **body):
    body = {"cluster_id": "c-api", "patron_name": "李雷", "patron_card": "C-1", **body}
    return api.post("/api/v1/ill/requests", json=body,
                    headers={**borrower_headers, "Idempotency-Key": key})  # fmt: skip


def test_placing_twice_with_one_key_makes_one_request(api):
    zhifu = api.token("zhifu-pl")
    first = _place(api, zhifu)
    again = _place(api, zhifu)
    assert first.status_code == 201 and again.status_code == 200
    assert first.get_json()["id"] == again.get_json()["id"]
    body = first.get_json()
    assert body["status"] == "RequestReceived" and body["lender"] in ("ldu", "ytlib")
    assert first.headers["ETag"] == f'"{body["version"]}"'
    assert "李雷" not in first.get_data(as_text=True)  # the reader is not in the answer
    assert {t for e in body["rota"] if e["rank"] for t in e["terms"]} >= {
        "availability",
        "distance",
        "load",
        "turnaround",
        "fairness",
        "fee",
    }
    listed = api.get("/api/v1/ill/requests?side=outgoing", headers=zhifu).get_json()
    assert listed["total"] == 1 and listed["counts"] == {"RequestReceived": 1}


def test_a_stale_version_gets_409_and_the_current_one_goes_through(api):
    body = _place(api, api.token("zhifu-pl")).get_json()
    lender = api.token(body["lender"])
    url = f"/api/v1/ill/requests/{body['id']}/status"
    ok = api.post(
        url, json={"status": "WillSupply"}, headers={**lender, "If-Match": f'"{body["version"]}"'}
    )
    assert ok.status_code == 200 and ok.get_json()["status"] == "WillSupply"
    stale = api.post(
        url, json={"status": "Unfilled"}, headers={**lender, "If-Match": f'"{body["version"]}"'}
    )
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "conflict"
    assert "changed by someone else" in stale.get_json()["error"]["message"]


def test_a_step_not_allowed_now_says_what_is(api):
    body = _place(api, api.token("zhifu-pl")).get_json()
    lender = api.token(body["lender"])
    answer = api.post(f"/api/v1/ill/requests/{body['id']}/status",
                      json={"status": "LoanCompleted"}, headers=lender)  # fmt: skip
    error = answer.get_json()["error"]
    assert answer.status_code == 409 and error["code"] == "illegal_transition"
    assert (
        "allowed now: ExpectToSupply, Loaned, RetryPossible, Unfilled, WillSupply"
        in error["message"]
    )


def test_bad_input_gets_one_line_and_changes_nothing(api):
    zhifu = api.token("zhifu-pl")
    cases = [
        (dict(json={"cluster_id": "c-api", "service_type": "Borrow"}), "service_type: use one of"),
        (dict(data="not json", content_type="text/plain"), "send a JSON object"),
        (
            dict(json={"cluster_id": "c-api", "needed_by": "next week"}),
            "needed_by: Not a valid date",
        ),
        (dict(json=[1, 2]), "send a JSON object"),
    ]
    for kwargs, message in cases:
        answer = api.post("/api/v1/ill/requests", headers=zhifu, **kwargs)
        assert answer.status_code == 400, answer.get_data(as_text=True)
        assert answer.get_json()["error"]["message"].startswith(message)
    assert api.get("/api/v1/ill/requests", headers=zhifu).get_json()["total"] == 0


def test_other_members_get_404_everywhere_and_only_the_borrower_opens_the_reader(api, app):
    body = _place(api, api.token("zhifu-pl")).get_json()
    rid, lender = body["id"], api.token(body["lender"])
    outsider = api.token("muping-pl")
    base = f"/api/v1/ill/requests/{rid}"
    assert api.get(base, headers=outsider).status_code == 404
    assert api.get(f"{base}/patron", headers=outsider).status_code == 404
    assert api.get(f"{base}/patron", headers=lender).status_code == 404
    assert (
        api.post(f"{base}/status", json={"status": "WillSupply"}, headers=outsider).status_code
        == 404
    )
    assert (
        api.post(f"{base}/actions", json={"action": "Cancel"}, headers=outsider).status_code == 404
    )
    assert api.post(f"{base}/actions", json={"action": "Cancel"}, headers=lender).status_code == 403
    assert api.get(base, headers=lender).get_json()["rota"] == []  # the lender sees no rota
    reader = api.get(f"{base}/patron", headers=api.token("zhifu-pl"))
    assert reader.get_json() == {"name": "李雷", "card": "C-1", "anonymised": False}
    assert reader.headers["Cache-Control"] == "no-store"
    with app.extensions["federation.db"].session() as session:
        reads = session.scalars(select(AuditEvent).where(AuditEvent.action == "read")).all()
    assert [(a.member_code, a.subject) for a in reads] == [("zhifu-pl", f"ill_request:{rid}")]


def test_a_read_only_token_cannot_change_anything(api):
    answer = _place(api, api.token("zhifu-pl", "read"))
    assert answer.status_code == 403
