"""Build the ISO 18626 messages that tell a peer about one of the broker's requests.

Only what the other library needs travels: the item, the service, the status and dates. The
reader's name and card number never leave the borrowing library.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ill.iso18626.messages import (
    AgencyId,
    Bibliographic,
    Costs,
    Header,
    Identifier,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)

CLUSTER_ID_CODE = "FEDERATION-CLUSTER"  # bibliographicRecordId code of a union-catalogue title


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def requester_request_id(request: Any) -> str:
    """Return the id the borrowing system knows the request by (a peer's own, or ours)."""
    return request.idempotency_key or str(request.id)


def _header(request: Any, now: dt.datetime) -> Header:
    supplier = AgencyId(request.lender_code) if request.lender_code else None
    return Header(
        requesting_agency=AgencyId(request.borrower_code),
        requesting_request_id=requester_request_id(request),
        supplying_agency=supplier,
        supplying_request_id=str(request.id),
        timestamp=now,
    )


def bibliographic_of(request: Any) -> Bibliographic:
    """Describe the requested item: the union title, or the citation staff typed."""
    c = request.citation or {}
    items = tuple(Identifier(code.upper(), c[code]) for code in ("isbn", "issn") if c.get(code))
    records = (Identifier(CLUSTER_ID_CODE, request.cluster_id),) if request.cluster_id else ()
    component = bool(c.get("article_title"))
    return Bibliographic(
        title=(c.get("journal") if component else None) or c.get("title") or request.title,
        author=None if component else c.get("author") or None,
        title_of_component=c.get("article_title") or None,
        author_of_component=c.get("author") if component else None,
        volume=c.get("volume") or None,
        issue=c.get("issue") or None,
        pages_requested=c.get("pages") or None,
        item_ids=items,
        record_ids=records,
        publication_date=c.get("year") or None,
    )


def request_message(request: Any, now: dt.datetime) -> Request:
    """Build the ISO 18626 request a peer lender receives (never the reader's identity)."""
    need = request.needed_by
    return Request(
        header=Header(
            AgencyId(request.borrower_code),
            str(request.id),
            AgencyId(request.lender_code),
            timestamp=now,
        ),
        bibliographic=bibliographic_of(request),
        service_type=request.service_type,
        service_level=request.service_level,
        need_before=dt.datetime(need.year, need.month, need.day, tzinfo=dt.UTC) if need else None,
        note=request.note or None,
        max_cost=Costs(request.max_cost) if request.max_cost is not None else None,
        pickup_location=request.pickup_location or None,
    )


def supplier_message(
    request: Any, now: dt.datetime, reason: str, note: str = "", answer: str | None = None
) -> SupplyingAgencyMessage:
    """Build the message a peer borrower receives about its request's status."""
    shipped = request.status in ("Loaned", "CopyCompleted")
    unfilled = request.status == "Unfilled"
    return SupplyingAgencyMessage(
        header=_header(request, now),
        reason_for_message=reason,
        status=request.status,
        last_change=_utc(request.updated_at) or now,
        answer_yes_no=answer,
        note=note[:2000] or None,
        reason_unfilled="NotAvailableForILL" if unfilled else None,
        due_date=_utc(request.due_at)
        if request.status in ("Loaned", "Overdue", "Recalled")
        else None,
        date_sent=now if shipped and reason != "StatusRequestResponse" else None,
    )


def action_message(
    request: Any, action: str, note: str, now: dt.datetime
) -> RequestingAgencyMessage:
    """Build the message a peer lender receives when the borrower acts."""
    header = _header(request, now)
    header = Header(header.requesting_agency, str(request.id), header.supplying_agency, None, now)
    return RequestingAgencyMessage(header=header, action=action, note=note[:2000] or None)


def withdrawal_message(request: Any, lender: str, now: dt.datetime) -> RequestingAgencyMessage:
    """Build the Cancel a peer lender receives when the broker stops waiting for its answer."""
    header = Header(AgencyId(request.borrower_code), str(request.id), AgencyId(lender), None, now)
    note = "no answer within the response deadline; the request has gone to another library"
    return RequestingAgencyMessage(header=header, action="Cancel", note=note)
