"""POST /iso18626: who may send, what is refused, and that every answer is a valid confirmation."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from federation.accounts.tokens import create_token, list_tokens, revoke_token
from federation.roles import Actor, Role
from ill.iso18626.messages import (
    ACTIONS,
    REASONS_FOR_MESSAGE,
    STATUSES,
    AgencyId,
    Confirmation,
    Header,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from ill.iso18626.schema import MAX_MESSAGE_BYTES
from ill.iso18626.xml import from_xml, to_xml
from ill.models import IllRequest
from tests.support.accounts import sign_in_as
from tests.unit.ill.iso18626.messages import (
    REQUESTER,
    confirmations,
    copy_request,
    loan_request,
    requester_message,
    supplier_message,
)

SECRET = "ytu-shares-this-secret-0123456789"
AUTH = {"Authorization": f"Peer {SECRET}"}
XML = "application/xml"


@pytest.fixture
def app(settings_overrides, db):
    from federation.alliance import load_alliance
    from federation.members import import_alliance
    from tests.conftest import DEMO_ALLIANCE
    from web import create_app

    with db.session() as session:
        import_alliance(session, load_alliance(DEMO_ALLIANCE))
    application = create_app({**settings_overrides, "ILL_PEER_SECRETS": f"ytu={SECRET}"})
    application.config["TESTING"] = True
    yield application
    application.extensions["federation.db"].dispose()


def post(client, body: bytes, headers=None, content_type=XML):
    return client.post("/iso18626", data=body, headers=headers or AUTH, content_type=content_type)


def confirmation_of(response) -> Confirmation:
    """Read the answer as an ISO 18626 confirmation (validated against the XSD on the way)."""
    assert response.mimetype == XML
    answer = from_xml(response.data)
    assert isinstance(answer, Confirmation)
    return answer


def test_the_endpoint_declares_that_it_acts_on_ill_requests(app):
    view = app.view_functions["iso18626.receive_message"]
    assert view.permission == "ill_act"


def test_without_credentials_nothing_is_read(client):
    assert post(client, to_xml(loan_request()), headers={"X": "y"}).status_code == 401


def test_a_wrong_secret_is_refused(client):
    headers = {"Authorization": f"Peer {SECRET}x"}
    assert post(client, to_xml(loan_request()), headers=headers).status_code == 401


def test_a_signed_in_staff_session_acts_for_its_member(app, client):
    sign_in_as(client, app, "ill_staff", "ytu")
    response = post(client, to_xml(requester_message()), headers={"X": "y"})
    assert response.status_code == 200
    assert "no ILL request 'R-42' for ytu" in confirmation_of(response).errors[0].value


@pytest.mark.parametrize("role", ["coordinator", "alliance_admin", "reader"])
def test_signed_in_people_who_do_not_act_on_ill_requests_are_refused(app, client, role):
    sign_in_as(client, app, role, "ytu" if role == "reader" else None)
    assert post(client, to_xml(requester_message()), headers={"X": "y"}).status_code == 403


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data"]
)
def test_what_a_cross_site_form_can_send_is_not_read(app, client, content_type):
    sign_in_as(client, app, "ill_staff", "ytu")
    body = to_xml(requester_message())
    response = post(client, body, headers={"X": "y"}, content_type=content_type)
    assert response.status_code == 415


def test_a_wrong_content_type_is_415_with_what_to_send(client):
    response = post(client, to_xml(loan_request()), content_type="application/json")
    assert response.status_code == 415
    assert b"application/xml" in response.data


def test_a_body_too_large_is_413(client):
    body = to_xml(loan_request()).replace(b"<note>", b"<note>" + b"x" * MAX_MESSAGE_BYTES)
    assert post(client, body).status_code == 413


def test_get_is_not_allowed(client):
    assert client.get("/iso18626", headers=AUTH).status_code == 405


def test_not_xml_is_answered_with_an_error_confirmation(client):
    response = post(client, b"this is not xml")
    assert response.status_code == 400
    answer = confirmation_of(response)
    assert answer.kind == "requestConfirmation" and answer.status == "ERROR"
    assert answer.errors[0].type == "BadlyFormedMessage"
    assert "not well-formed" in answer.errors[0].value


def test_a_schema_fault_is_named_and_the_request_id_echoed(client):
    body = to_xml(supplier_message()).replace(b">Loaned<", b">Shipped<")
    response = post(client, body)
    assert response.status_code == 400
    answer = confirmation_of(response)
    assert answer.kind == "supplyingAgencyMessageConfirmation"
    assert answer.requesting_request_id == "R-42"
    assert answer.errors[0].type == "UnrecognisedDataValue"
    assert "Shipped" in answer.errors[0].value


def test_a_message_in_another_agencys_name_is_refused(client):
    forged = dataclasses.replace(
        requester_message(),
        header=dataclasses.replace(requester_message().header, requesting_agency=AgencyId("ldu")),
    )
    response = post(client, to_xml(forged))
    assert response.status_code == 403
    answer = confirmation_of(response)
    assert answer.status == "ERROR" and "'ldu' is not the authenticated agency 'ytu'" in (
        answer.errors[0].value
    )


def test_a_copy_request_for_a_citation_is_placed_for_the_sending_member(app, client):
    response = post(client, to_xml(copy_request()))
    assert response.status_code == 200
    assert confirmation_of(response).status == "OK"
    with app.extensions["federation.db"].session() as session:
        placed = session.scalars(select(IllRequest)).one()
    assert (placed.borrower_code, placed.idempotency_key) == ("ytu", "R-43")
    assert placed.service_type == "Copy"
    assert placed.citation["article_title"] == "Resource sharing in regional alliances"
    assert placed.citation["journal"] == "Journal of Library Science"
    assert placed.status == "RequestReceived" and placed.lender_code not in (None, "ytu")
    again = post(client, to_xml(copy_request()))  # a resend does not place it twice
    assert confirmation_of(again).status == "OK"
    with app.extensions["federation.db"].session() as session:
        assert session.scalar(select(func.count()).select_from(IllRequest)) == 1


def test_a_request_for_an_unknown_title_is_refused_with_the_reason(client):
    response = post(client, to_xml(loan_request()))  # cluster c-1234 is not in the catalogue
    answer = confirmation_of(response)
    assert response.status_code == 200 and answer.status == "ERROR"
    assert answer.errors[0].type == "UnrecognisedDataValue"
    assert "c-1234" in answer.errors[0].value


def test_a_member_not_yet_imported_gets_an_error_not_a_crash(settings_overrides, db):
    from web import create_app

    bare = create_app({**settings_overrides, "ILL_PEER_SECRETS": f"ytu={SECRET}"})
    response = post(bare.test_client(), to_xml(copy_request()))
    assert response.status_code == 200
    assert "federation members import" in confirmation_of(response).errors[0].value
    bare.extensions["federation.db"].dispose()


def test_a_confirmation_is_not_a_message_to_act_on(client):
    response = post(client, to_xml(confirmations()[0]))
    assert response.status_code == 400
    assert confirmation_of(response).errors[0].type == "UnsupportedActionType"


def token(app, member: str, scope: str = "write") -> dict[str, str]:
    """Issue an API token for a member's system, as its administrator would; return the header."""
    with app.extensions["federation.db"].session() as session:
        issued = create_token(session, member, "ISO 18626 gateway", scope)
    return {"Authorization": f"Bearer {issued.secret}"}


def test_an_api_token_of_the_agency_is_accepted_as_the_agency(app, client):
    response = post(client, to_xml(requester_message()), headers=token(app, "ytu"))
    assert response.status_code == 200
    assert "no ILL request 'R-42' for ytu" in confirmation_of(response).errors[0].value


def test_an_api_token_of_another_member_cannot_speak_for_the_agency(app, client):
    response = post(client, to_xml(requester_message()), headers=token(app, "ldu"))
    assert response.status_code == 403  # ldu's token, ytu's message
    answer = confirmation_of(response)
    assert "'ytu' is not the authenticated agency 'ldu'" in answer.errors[0].value


def test_a_read_only_token_cannot_send_messages(app, client):
    response = post(client, to_xml(requester_message()), headers=token(app, "ytu", "read"))
    assert response.status_code == 403


def test_an_unknown_token_is_401(client):
    response = post(client, to_xml(requester_message()), headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_a_revoked_token_is_401(app, client):
    headers = token(app, "ytu")
    with app.extensions["federation.db"].session() as session:
        revoke_token(session, list_tokens(session, "ytu")[0])
    assert post(client, to_xml(requester_message()), headers=headers).status_code == 401


# ----------------------------------------------------------------------------- fuzzing

VALID = [to_xml(m) for m in (loan_request(), supplier_message(), requester_message())]


def _mutate(data: st.DataObject) -> bytes:
    body = bytearray(data.draw(st.sampled_from(VALID)))
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        at = data.draw(st.integers(0, len(body) - 1))
        if kind == "flip":
            body[at] = data.draw(st.integers(0, 255))
        elif kind == "cut":
            del body[at:]
        elif kind == "insert":
            body[at:at] = data.draw(
                st.sampled_from(
                    [b"<x>", b"&amp;", b"\x00", b"]]>", b"</", b"&e;", b"\xe4\xb8", b'"', b"<!--"]
                )
            )
        else:
            del body[at : at + data.draw(st.integers(1, 40))]
        if not body:
            break
    return bytes(body)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_fuzzed_messages_get_an_error_confirmation_never_a_crash(client, data):
    body = _mutate(data) if data.draw(st.booleans()) else data.draw(st.binary(max_size=300))
    response = post(client, body)
    assert response.status_code in (200, 400, 403)
    answer = confirmation_of(response)  # always a schema-valid confirmation
    if response.status_code != 200 or answer.status == "ERROR":
        assert answer.errors and answer.errors[0].value


def test_a_valid_message_from_the_agency_gets_its_own_confirmation(client):
    response = post(client, to_xml(requester_message()))
    assert response.status_code == 200
    answer = confirmation_of(response)
    assert answer.kind == "requestingAgencyMessageConfirmation"
    assert (answer.requesting_agency, answer.requesting_request_id) == (REQUESTER, "R-42")
    assert answer.action == "Received"


# ------------------------------------------------- structure-aware fuzzing of the handlers


@pytest.fixture
def ytu_lends(app):
    """A loan zhifu-pl asked of ytu (ytu alone holds it): the fuzzer answers as ytu."""
    from ill import services
    from tests.support.ill import add_cluster

    db = app.extensions["federation.db"]
    add_cluster(db, "c-fuzz", "数据库系统概论", {"ytu": ["在架"]})
    ctx = app.extensions["ill.context"]
    ctx.clock = lambda: dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)  # a Tuesday, open
    with db.session() as session:
        request = services.create_request(
            session, Actor(Role.ILL_STAFF, "zhifu-pl"), ctx=ctx, cluster_id="c-fuzz"
        )
    assert request.lender_code == "ytu"
    return request.id


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_valid_status_or_action_is_answered_never_crashes(app, client, ytu_lends, data):
    rid = data.draw(st.sampled_from([str(ytu_lends), "0", "999999999999999999999", "R-42", "x"]))
    if data.draw(st.booleans()):
        message = SupplyingAgencyMessage(
            header=Header(AgencyId("zhifu-pl"), rid, AgencyId("ytu")),
            reason_for_message=data.draw(st.sampled_from(REASONS_FOR_MESSAGE)),
            status=data.draw(st.sampled_from(STATUSES)),
            note=data.draw(st.none() | st.text(max_size=30)),
        )
    else:
        message = RequestingAgencyMessage(
            header=Header(AgencyId("ytu"), rid, AgencyId("ldu")),
            action=data.draw(st.sampled_from(ACTIONS)),
        )
    response = post(client, to_xml(message))
    assert response.status_code == 200
    answer = confirmation_of(response)
    assert answer.ok or answer.errors[0].value
    with app.extensions["federation.db"].session() as session:
        status = session.get(IllRequest, ytu_lends).status
    assert status in STATUSES  # whatever was accepted, the request is in a real state


def test_a_peers_patron_details_are_not_kept_anywhere(app, client):
    patron = (
        b"<patronInfo><patronId>P-778899</patronId><surname>Zhangsan</surname>"
        b"<givenName>Xiaoming</givenName></patronInfo></request>"
    )
    body = to_xml(copy_request()).replace(b"</request>", patron)
    response = post(client, body)
    assert response.status_code == 200 and confirmation_of(response).status == "OK"
    db = app.extensions["federation.db"]
    from federation.db import Base

    with db.session() as session:
        stored = " ".join(
            str(row)
            for table in Base.metadata.sorted_tables
            for row in session.execute(table.select())
        )
    assert "Resource sharing in regional alliances" in stored  # the request is there...
    for secret in ("P-778899", "Zhangsan", "Xiaoming"):  # ...the reader is not
        assert secret not in stored
