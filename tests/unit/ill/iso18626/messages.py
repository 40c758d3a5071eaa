"""Sample ISO 18626 messages of every kind, shared by the wire tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ill.iso18626.messages import (
    AgencyId,
    Bibliographic,
    Confirmation,
    Costs,
    ErrorData,
    Header,
    Identifier,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)

T0 = dt.datetime(2026, 11, 21, 8, 30, tzinfo=dt.UTC)
REQUESTER, SUPPLIER = AgencyId("ytu"), AgencyId("ext-univ")


def header(supplier_request_id: str | None = "S-7") -> Header:
    return Header(REQUESTER, "R-42", SUPPLIER, supplier_request_id, timestamp=T0)


def loan_request() -> Request:
    return Request(
        header=Header(REQUESTER, "R-42", SUPPLIER, timestamp=T0),
        bibliographic=Bibliographic(
            title="三体",
            author="刘慈欣",
            edition="第1版",
            item_ids=(Identifier("ISBN", "9787536692930"),),
            record_ids=(Identifier("FEDERATION-CLUSTER", "c-1234"),),
            publisher="重庆出版社",
            publication_date="2008",
            place_of_publication="重庆",
        ),
        service_type="Loan",
        service_level="Normal",
        need_before=T0 + dt.timedelta(days=14),
        note="for a thesis <chapter 3> & notes",
        max_cost=Costs(Decimal("25.00")),
        pickup_location="Main library, ILL desk",
    )


def copy_request() -> Request:
    return Request(
        header=Header(REQUESTER, "R-43", None, timestamp=T0),
        bibliographic=Bibliographic(
            title="Journal of Library Science",
            title_of_component="Resource sharing in regional alliances",
            author_of_component="Wang Li",
            volume="12",
            issue="3",
            pages_requested="45-60",
            item_ids=(Identifier("ISSN", "1001-8867"),),
        ),
        service_type="Copy",
    )


def supplier_message() -> SupplyingAgencyMessage:
    return SupplyingAgencyMessage(
        header=header(),
        reason_for_message="StatusChange",
        status="Loaned",
        last_change=T0,
        note="shipped by courier",
        due_date=T0 + dt.timedelta(days=30),
        date_sent=T0,
        item_id="B0012345",
        delivery_method="Courier",
    )


def unfilled_message() -> SupplyingAgencyMessage:
    return SupplyingAgencyMessage(
        header=header(None),
        reason_for_message="RequestResponse",
        status="Unfilled",
        last_change=T0,
        reason_unfilled="NotOnShelf",
    )


def requester_message() -> RequestingAgencyMessage:
    return RequestingAgencyMessage(header=header(), action="Received", note="arrived safely")


def confirmations() -> list[Confirmation]:
    common = dict(
        timestamp_received=T0,
        requesting_agency=REQUESTER,
        supplying_agency=SUPPLIER,
        requesting_request_id="R-42",
        timestamp=T0,
    )
    error = (ErrorData("UnrecognisedDataValue", "no request R-42 from ytu"),)
    return [
        Confirmation("requestConfirmation", "OK", **common),
        Confirmation("requestConfirmation", "ERROR", errors=error, **common),
        Confirmation(
            "supplyingAgencyMessageConfirmation", "OK", reason_for_message="StatusChange", **common
        ),
        Confirmation(
            "requestingAgencyMessageConfirmation", "ERROR", action="Lost", errors=error, **common
        ),
    ]


def every_message() -> list:
    """Return one or more messages of every kind the standard defines."""
    return [
        loan_request(),
        copy_request(),
        supplier_message(),
        unfilled_message(),
        requester_message(),
        *confirmations(),
    ]
