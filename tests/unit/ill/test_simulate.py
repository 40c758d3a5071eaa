"""The demo's simulated year of ILL traffic: seeded, varied, and labelled simulated."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from federation.models import UsageEvent
from ill.models import IllRequest
from ill.simulate import already_simulated, simulate_year
from tests.support.ill import add_cluster

END = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)


def _titles(db):
    add_cluster(db, "c-s1", "围城", {"ytu": ["available"], "ldu": ["available"], "ytlib": ["借出"]})
    add_cluster(db, "c-s2", "活着", {"sdtbu": ["available"], "zhifu-pl": ["在架"]})
    add_cluster(db, "c-s3", "平凡的世界", {"ytlib": ["在架"], "penglai-pl": ["在架"]})


def _outcome(db):
    with db.session() as session:
        return [(r.borrower_code, r.cluster_id, r.status, r.lender_code)
                for r in session.scalars(select(IllRequest).order_by(IllRequest.id))]  # fmt: skip


def test_a_simulated_year_is_seeded_varied_and_labelled(ill_db, ctx, settings_overrides):
    _titles(ill_db)
    assert simulate_year(ill_db, ctx, requests=60, seed=7, now=END) == 60
    first = _outcome(ill_db)
    statuses = {status for _b, _c, status, _l in first}
    assert {"LoanCompleted", "Unfilled"} <= statuses or len(statuses) >= 3
    with ill_db.session() as session:
        assert already_simulated(session) == 60
        events = session.scalars(select(UsageEvent)).all()
        created = [r.created_at for r in session.scalars(select(IllRequest))]
    assert events and all(e.simulated for e in events)
    span = max(created) - min(created)
    assert span > dt.timedelta(days=200)  # spread over the year
    # The same seed on a fresh database gives the same year.
    from federation.db import Database
    from tests.conftest import _reset_postgres

    del _reset_postgres
    other = Database(settings_overrides["DATABASE_URL"].replace("test.sqlite3", "again.sqlite3"))
    if other.url == ill_db.url:
        return  # PostgreSQL: one database per test; the repeat is checked on SQLite
    other.upgrade()
    from federation.members import import_alliance

    with other.session() as session:
        import_alliance(session, ctx.alliance)
    _titles(other)
    simulate_year(other, ctx, requests=60, seed=7, now=END)
    assert _outcome(other) == first
    other.dispose()
