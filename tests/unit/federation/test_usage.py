from pathlib import Path

import pytest
from sqlalchemy import select

from federation.db import Database
from federation.models import UsageEvent
from federation.usage import ILL_FILLED, record_usage


def test_usage_events_are_stored_with_their_dimensions(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'u.sqlite3'}")
    db.upgrade()
    with db.session() as session:
        record_usage(session, ILL_FILLED, member_code="ytlib", partner_code="ytu", value=30.5)
        session.commit()
        event = session.scalars(select(UsageEvent)).one()
    assert (event.kind, event.member_code, event.partner_code, event.value) == (
        "ill_filled", "ytlib", "ytu", 30.5)
    assert event.quantity == 1 and not event.simulated


def test_an_unknown_kind_is_refused(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'u.sqlite3'}")
    db.upgrade()
    with db.session() as session, pytest.raises(ValueError, match="unknown usage event kind"):
        record_usage(session, "serach")
