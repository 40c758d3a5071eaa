"""Reader-data retention: erase the reader's name, card and link a set number of days after a
request is closed. The request, its timeline and its statistics stay; only the reader goes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from federation.privacy import audit
from federation.roles import SYSTEM
from ill.models import IllRequest

BATCH = 500


def anonymise_closed(session: Session, now: dt.datetime, retention_days: int) -> int:
    """Erase reader data of requests closed more than ``retention_days`` before ``now``."""
    cutoff = now - dt.timedelta(days=retention_days)
    has_reader = or_(
        IllRequest.patron_name.is_not(None),
        IllRequest.patron_card.is_not(None),
        IllRequest.patron_digest.is_not(None),
        IllRequest.reader_user_id.is_not(None),
    )
    erased = 0
    while True:
        batch = session.scalars(
            select(IllRequest)
            .where(IllRequest.closed_at <= cutoff, has_reader)
            .order_by(IllRequest.id)
            .limit(BATCH)
        ).all()
        for request in batch:
            request.patron_name = request.patron_card = request.patron_digest = None
            request.reader_user_id = None
            request.anonymised_at = now
            audit(session, SYSTEM, "erase", f"ill_request:{request.id}",
                  f"reader data erased {retention_days} days after closing")  # fmt: skip
        session.flush()
        erased += len(batch)
        if len(batch) < BATCH:
            return erased
