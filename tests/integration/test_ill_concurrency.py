"""Many ILL workers at once on PostgreSQL: no transition lost, none doubled."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from ill import services
from ill import states as S
from ill.models import IllEvent, IllRequest
from tests.support import ill_fixtures
from tests.support.ill import load, place, staff

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)"
    ),
]
WORKERS = 32
# The ILL fixtures (they live in tests/unit/ill's conftest for the unit tests).
alliance, clock, ctx = ill_fixtures.alliance, ill_fixtures.clock, ill_fixtures.ctx
ill_db, cluster = ill_fixtures.ill_db, ill_fixtures.cluster


def _try(db, ctx, rid, version, status, commit=False):
    try:
        with db.session() as session:
            services.apply_supplier_status(session, staff("ldu"), rid, status, ctx=ctx,
                                           expected_version=version, commit=commit)  # fmt: skip
        return "ok"
    except services.Conflict:
        return "conflict"
    except services.IllegalTransition:
        return "illegal"


# commit=True: each call is its whole transaction, its COMMIT sent with its writes.
@pytest.mark.parametrize("commit", [False, True])
def test_32_workers_answering_one_request_at_once_one_wins(ill_db, ctx, cluster, commit):
    rid = place(ill_db, ctx, cluster_id=cluster)
    version = load(ill_db, rid).version
    statuses = [S.WILL_SUPPLY, S.UNFILLED, S.EXPECT_TO_SUPPLY, S.LOANED] * (WORKERS // 4)
    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(lambda s: _try(ill_db, ctx, rid, version, s, commit), statuses))
    assert results.count("ok") == 1 and results.count("conflict") == WORKERS - 1
    with ill_db.session() as session:
        supplier_events = session.scalar(
            select(func.count()).where(IllEvent.request_id == rid, IllEvent.side == "supplier")
        )
    assert supplier_events == 1


def _notify_until_done(db, ctx, rid, n, commit=False):
    for _attempt in range(200):
        try:
            with db.session() as session:
                services.apply_requester_action(session, staff("zhifu-pl"), rid, S.NOTIFICATION,
                                                f"note {n}", ctx=ctx, commit=commit)  # fmt: skip
            return
        except services.Conflict:
            continue
    raise AssertionError(f"note {n} never got through")


@pytest.mark.parametrize("commit", [False, True])
def test_32_workers_each_adding_a_note_lose_none_and_double_none(ill_db, ctx, cluster, commit):
    rid = place(ill_db, ctx, cluster_id=cluster)
    before = load(ill_db, rid).version
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(lambda n: _notify_until_done(ill_db, ctx, rid, n, commit), range(WORKERS)))
    with ill_db.session() as session:
        notes = session.scalars(
            select(IllEvent.message).where(
                IllEvent.request_id == rid, IllEvent.event == "Notification"
            )
        ).all()
        version = session.get(IllRequest, rid).version
    assert sorted(notes) == sorted(f"note {n}" for n in range(WORKERS))
    assert version == before + WORKERS
