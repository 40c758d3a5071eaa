"""ISO 18626 messages as plain frozen dataclasses: what the platform sends and understands.

Only the parts of the standard the broker uses are modelled; :mod:`ill.iso18626.xml` turns them
into XML in the schema's element order and back. Patron names and addresses are deliberately
absent: reader identities never leave the borrowing library.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

NAMESPACE = "http://illtransactions.org/2013/iso18626"
VERSION = "2021-2"
AGENCY_ID_TYPE = "FEDERATION"  # agency ids are the alliance's member codes

SERVICE_TYPES = ("Copy", "Loan", "CopyOrLoan")
STATUSES = (
    "RequestReceived",
    "ExpectToSupply",
    "WillSupply",
    "Loaned",
    "Overdue",
    "Recalled",
    "RetryPossible",
    "Unfilled",
    "HoldReturn",
    "ReleaseHoldReturn",
    "CopyCompleted",
    "LoanCompleted",
    "CompletedWithoutReturn",
    "Cancelled",
)
ACTIONS = (
    "StatusRequest",
    "Received",
    "Cancel",
    "Renew",
    "HoldReturn",
    "ShippedReturn",
    "ShippedForward",
    "Notification",
    "Lost",
)
REASONS_FOR_MESSAGE = (
    "RequestResponse",
    "StatusRequestResponse",
    "RenewResponse",
    "CancelResponse",
    "StatusChange",
    "Notification",
)
ERROR_TYPES = (
    "UnsupportedActionType",
    "UnsupportedReasonForMessageType",
    "UnrecognisedDataElement",
    "UnrecognisedDataValue",
    "BadlyFormedMessage",
)


def utcnow() -> dt.datetime:
    """Return the current time in UTC, to the second (as messages carry it)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass(frozen=True)
class AgencyId:
    """An ILL agency: a member of the alliance, or another system's library symbol."""

    value: str
    type: str = AGENCY_ID_TYPE


@dataclass(frozen=True)
class Header:
    """Who sends to whom about which request; the fields every message header shares."""

    requesting_agency: AgencyId
    requesting_request_id: str
    supplying_agency: AgencyId | None = None  # optional only on a request
    supplying_request_id: str | None = None
    timestamp: dt.datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class Identifier:
    """A bibliographic item or record identifier (ISBN, ISSN, OCLC, the union cluster id...)."""

    code: str
    value: str


@dataclass(frozen=True)
class Bibliographic:
    """What is asked for: a catalogue record or a citation (article, chapter)."""

    title: str | None = None
    author: str | None = None
    subtitle: str | None = None
    edition: str | None = None
    title_of_component: str | None = None  # article or chapter
    author_of_component: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages_requested: str | None = None
    item_ids: tuple[Identifier, ...] = ()  # bibliographicItemId: ISBN, ISSN
    record_ids: tuple[Identifier, ...] = ()  # bibliographicRecordId: e.g. the union cluster id
    supplier_record_id: str | None = None
    publisher: str | None = None  # publicationInfo
    publication_date: str | None = None
    place_of_publication: str | None = None


@dataclass(frozen=True)
class Costs:
    """An amount of money in an ISO 4217 currency."""

    amount: Decimal
    currency: str = "CNY"


@dataclass(frozen=True)
class Request:
    """A new ILL request from a requesting agency to a supplier."""

    header: Header
    bibliographic: Bibliographic
    service_type: str  # Copy | Loan | CopyOrLoan
    request_type: str = "New"
    service_level: str | None = None  # Rush, Express, Normal...
    need_before: dt.datetime | None = None
    note: str | None = None
    max_cost: Costs | None = None
    pickup_location: str | None = None  # requestingAgencyInfo/name: where the reader collects


@dataclass(frozen=True)
class SupplyingAgencyMessage:
    """The supplier's answer or news: a new status, with its reason."""

    header: Header
    reason_for_message: str
    status: str
    last_change: dt.datetime = field(default_factory=utcnow)
    answer_yes_no: str | None = None  # Y | N, to a Renew or Cancel
    note: str | None = None
    reason_unfilled: str | None = None
    reason_retry: str | None = None
    expected_delivery: dt.datetime | None = None
    due_date: dt.datetime | None = None
    date_sent: dt.datetime | None = None  # deliveryInfo: when the item or copy went out
    item_id: str | None = None
    delivery_method: str | None = None  # Mail, Courier, Email, URL...
    url: str | None = None  # where an electronic copy can be fetched


@dataclass(frozen=True)
class RequestingAgencyMessage:
    """The requester's action on a request: Received, ShippedReturn, Cancel, Renew..."""

    header: Header
    action: str
    note: str | None = None


@dataclass(frozen=True)
class ErrorData:
    """Why a message was refused: an ISO 18626 error type and a readable value."""

    type: str
    value: str = ""


CONFIRMATION_OF = {
    "request": "requestConfirmation",
    "supplyingAgencyMessage": "supplyingAgencyMessageConfirmation",
    "requestingAgencyMessage": "requestingAgencyMessageConfirmation",
}


@dataclass(frozen=True)
class Confirmation:
    """The answer to one message: OK, or ERROR with the reasons."""

    kind: str  # requestConfirmation | supplyingAgencyMessageConfirmation | ...
    status: str  # OK | ERROR
    timestamp_received: dt.datetime
    requesting_agency: AgencyId | None = None
    supplying_agency: AgencyId | None = None
    requesting_request_id: str | None = None
    errors: tuple[ErrorData, ...] = ()
    reason_for_message: str | None = None  # echoed on a supplyingAgencyMessageConfirmation
    action: str | None = None  # echoed on a requestingAgencyMessageConfirmation
    timestamp: dt.datetime = field(default_factory=utcnow)

    @property
    def ok(self) -> bool:
        return self.status == "OK"


Message = Request | SupplyingAgencyMessage | RequestingAgencyMessage | Confirmation
