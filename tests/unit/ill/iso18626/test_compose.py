"""What the broker tells a peer about a request, and how a peer's request becomes one of ours."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from ill.iso18626.bridge import _fields_of
from ill.iso18626.compose import (
    CLUSTER_ID_CODE,
    request_message,
    supplier_message,
    withdrawal_message,
)
from ill.iso18626.xml import from_xml, to_xml

NOW = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)


def a_request(**changes) -> SimpleNamespace:
    """An ILL request row as the broker keeps it (the attributes the composer reads)."""
    fields = dict(
        id=17,
        borrower_code="zhifu-pl",
        lender_code="ldu",
        cluster_id=None,
        citation={
            "title": "Library Journal",
            "article_title": "Resource sharing in Yantai",
            "author": "Wang Li",
            "volume": "12",
            "issue": "3",
            "pages": "45-60",
            "year": "2025",
            "issn": "1001-8867",
            "journal": "Library Journal",
        },
        title="Resource sharing in Yantai",
        service_type="Copy",
        service_level="Rush",
        needed_by=dt.date(2026, 3, 20),
        max_cost=Decimal("12.50"),
        pickup_location="芝罘区图书馆 front desk",
        note="chapter needed for a class",
        idempotency_key=None,
        status="RequestReceived",
        updated_at=NOW,
        due_at=None,
        patron_name="gAAAA-sealed-name",
        patron_card="gAAAA-sealed-card",
    )
    return SimpleNamespace(**{**fields, **changes})


def test_a_citation_travels_to_a_peer_and_back_into_the_same_request_fields():
    sent = from_xml(to_xml(request_message(a_request(), NOW)))
    fields = _fields_of(sent)
    assert fields["citation"]["article_title"] == "Resource sharing in Yantai"
    assert fields["citation"]["journal"] == "Library Journal"
    assert fields["citation"]["title"] == "Library Journal"
    for key in ("author", "volume", "issue", "pages", "year", "issn"):
        assert fields["citation"][key] == a_request().citation[key], key
    assert (fields["service_type"], fields["service_level"]) == ("Copy", "Rush")
    assert fields["needed_by"] == "2026-03-20" and fields["max_cost"] == "12.50"
    assert fields["pickup_location"] == "芝罘区图书馆 front desk"


def test_a_union_catalogue_title_is_sent_by_its_cluster_id():
    sent = request_message(a_request(cluster_id="c-88", citation={}), NOW)
    assert sent.bibliographic.record_ids[0].code == CLUSTER_ID_CODE
    assert _fields_of(sent)["cluster_id"] == "c-88"
    assert "citation" not in _fields_of(sent)


def test_the_sealed_reader_data_is_never_put_in_a_message():
    for message in (
        request_message(a_request(), NOW),
        supplier_message(a_request(status="Loaned", due_at=NOW), NOW, "StatusChange"),
        withdrawal_message(a_request(), "ldu", NOW),
    ):
        assert b"gAAAA" not in to_xml(message)


def test_a_loan_reports_its_due_date_and_when_it_was_sent():
    due = NOW + dt.timedelta(days=30)
    message = supplier_message(a_request(status="Loaned", due_at=due), NOW, "StatusChange")
    assert (message.due_date, message.date_sent) == (due, NOW)


def test_a_peer_borrowers_own_request_id_is_used_in_what_it_is_told():
    message = supplier_message(a_request(idempotency_key="LDU-9"), NOW, "RequestResponse")
    assert message.header.requesting_request_id == "LDU-9"
    assert message.header.supplying_request_id == "17"
