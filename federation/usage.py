"""Usage events: what the platform counts, recorded without any reader identifier.

Every area records through :func:`record_usage`; statistics, cost sharing and the service-gap
reports read the table. Kinds are fixed here so a typo cannot invent a new statistic.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from federation.models import UsageEvent, utcnow

SEARCH = "search"  # member_code: the reader's home library (if known); clc_class of the query
SEARCH_ZERO = "search_zero"  # a search that found nothing
RECORD_VIEW = "record_view"  # cluster_id viewed
HOLDINGS_VIEW = "holdings_view"  # member_code: holding library shown
ILL_REQUESTED = "ill_requested"  # member_code: borrower; partner_code: first lender (if any)
ILL_FILLED = "ill_filled"  # member_code: borrower; partner_code: lender; value: hours to supply
ILL_UNFILLED = "ill_unfilled"  # member_code: borrower; partner_code: lender that said no/timed out
ILL_CANCELLED = "ill_cancelled"  # member_code: borrower
COPY_DELIVERED = "copy_delivered"  # member_code: borrower; partner_code: lender
ILL_COMPLETED = "ill_completed"  # member_code: borrower; partner_code: lender; value: turnaround h
RECORDS_CONTRIBUTED = "records_contributed"  # member_code: harvested member; quantity: records

KINDS = frozenset(
    {
        SEARCH,
        SEARCH_ZERO,
        RECORD_VIEW,
        HOLDINGS_VIEW,
        ILL_REQUESTED,
        ILL_FILLED,
        ILL_UNFILLED,
        ILL_CANCELLED,
        COPY_DELIVERED,
        ILL_COMPLETED,
        RECORDS_CONTRIBUTED,
    }
)


def usage_row(
    kind: str,
    *,
    member_code: str | None = None,
    partner_code: str | None = None,
    region_code: str | None = None,
    cluster_id: str | None = None,
    clc_class: str | None = None,
    quantity: int = 1,
    value: float | None = None,
    ref: str | None = None,
    occurred_at: datetime | None = None,
    simulated: bool = False,
) -> dict[str, Any]:
    """Return one usage event as column values (for writers that insert rows in bulk;
    :func:`record_usage` adds it through the session). Refuses a kind not in :data:`KINDS`."""
    if kind not in KINDS:
        raise ValueError(f"unknown usage event kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    now = utcnow()
    return {
        "kind": kind,
        "member_code": member_code,
        "partner_code": partner_code,
        "region_code": region_code,
        "cluster_id": cluster_id,
        "clc_class": (clc_class or None) and clc_class[:8],
        "quantity": quantity,
        "value": value,
        "ref": ref,
        "occurred_at": occurred_at or now,
        "recorded_at": now,
        "simulated": simulated,
    }


def record_usage(session: Session, kind: str, **fields: Any) -> UsageEvent:
    """Add one usage event to ``session`` (the caller commits with its own work); the fields
    are :func:`usage_row`'s."""
    event = UsageEvent(**usage_row(kind, **fields))
    session.add(event)
    return event
