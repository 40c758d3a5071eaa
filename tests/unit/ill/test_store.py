"""How a change is written: guarded by the version it read, in one go, visible to the caller."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from federation.models import UsageEvent
from ill import services
from ill import states as S
from ill.lenders import refresh_stats
from ill.models import IllEvent, IllLenderStats, IllNotification, IllRequest, IllTimer
from tests.support.ill import answer, load, place, staff


def _count(db, model, *where) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _overtaken(ill_db, ctx, rid: int, raced: list):
    """Return ``ctx`` with a clock that lets another member of staff win the race.

    The first time the slower change asks the time (it has read the request by then),
    another member of staff answers WillSupply in another transaction and commits.
    """

    def racing_clock():
        if not raced:
            raced.append(answer(ill_db, ctx, rid, S.WILL_SUPPLY))
        return ctx.clock()

    return dataclasses.replace(ctx, clock=racing_clock)


def test_a_change_overtaken_after_its_read_is_a_conflict_and_writes_nothing(ill_db, ctx, cluster):
    rid = place(ill_db, ctx, cluster_id=cluster)
    lender = load(ill_db, rid).lender_code
    before = {m: _count(ill_db, m) for m in (IllEvent, IllNotification, IllTimer, UsageEvent)}
    raced: list = []
    slower = _overtaken(ill_db, ctx, rid, raced)
    lost = f"request {rid} was changed by someone else at the same moment"
    with pytest.raises(services.Conflict, match=lost), ill_db.session() as session:
        services.apply_supplier_status(session, staff(lender), rid, S.UNFILLED, ctx=slower)
    req = load(ill_db, rid)
    assert raced == [S.WILL_SUPPLY] and (req.status, req.lender_code) == (S.WILL_SUPPLY, lender)
    assert [e.event for e in req.events if e.side == "supplier"] == [S.WILL_SUPPLY]
    assert [e.outcome for e in req.rota if e.member_code == lender] == ["asked"]
    # Only the winner's event and notice were written; the loser's timers and usage are gone.
    after = {m: _count(ill_db, m) for m in before}
    assert after[IllEvent] == before[IllEvent] + 1
    assert after[IllNotification] == before[IllNotification] + 1
    assert after[IllTimer] == before[IllTimer] - 1  # the response deadline went with the answer
    assert after[UsageEvent] == before[UsageEvent]


def test_a_caller_that_goes_on_after_a_conflict_commits_nothing_of_it(ill_db, ctx, cluster):
    rid = place(ill_db, ctx, cluster_id=cluster)
    lender = load(ill_db, rid).lender_code
    events = _count(ill_db, IllEvent)
    slower = _overtaken(ill_db, ctx, rid, [])
    # The session commits at the end, Conflict or not.
    with ill_db.session() as session, pytest.raises(services.Conflict):
        services.apply_supplier_status(session, staff(lender), rid, S.UNFILLED, ctx=slower)
    assert _count(ill_db, IllEvent) == events + 1  # the winner's WillSupply only
    assert load(ill_db, rid).status == S.WILL_SUPPLY


def test_the_request_a_caller_holds_shows_the_change(ill_db, ctx, cluster):
    with ill_db.session() as session:
        req = services.create_request(session, staff("zhifu-pl"), ctx=ctx, cluster_id=cluster)
        assert (req.status, req.version) == (S.REQUEST_RECEIVED, 2)
        assert [e.event for e in req.events] == ["Created", "Routed"]
        same = services.get_request(session, staff(req.lender_code), req.id)
        changed = services.apply_supplier_status(
            session, staff(req.lender_code), req.id, S.WILL_SUPPLY, ctx=ctx
        )
        assert changed is req and same is req
        assert (req.status, req.version) == (S.WILL_SUPPLY, 3)
        assert [e.event for e in req.events] == ["Created", "Routed", S.WILL_SUPPLY]
        asked = next(e for e in req.rota if e.member_code == req.lender_code)
        assert asked.answered_at is not None
    with ill_db.session() as session:
        assert session.get(IllRequest, req.id).version == 3


def test_the_request_handed_back_is_a_clean_persistent_object_of_the_session(ill_db, ctx, cluster):
    rid = place(ill_db, ctx, cluster_id=cluster)
    lender = load(ill_db, rid).lender_code
    with ill_db.session() as session:
        req = services.apply_supplier_status(session, staff(lender), rid, S.WILL_SUPPLY, ctx=ctx)
        state = inspect(req)
        assert state.persistent and req in session and not session.dirty
        assert state.key == session.identity_key(IllRequest, (rid,))
        assert session.get(IllRequest, rid) is req  # the identity map holds it: no second copy
        assert not state.unloaded - {"rota", "events", "timers", "notifications"}
        assert (req.status, req.version) == (S.WILL_SUPPLY, 3)
        assert [e.event for e in req.events][-1] == S.WILL_SUPPLY  # loads lazily
        req.note = "changed through the ORM"  # a caller's own change is flushed, version-checked
        session.flush()
        assert req.version == 4
    with ill_db.session() as session:
        row = session.get(IllRequest, rid)
        assert (row.note, row.version) == ("changed through the ORM", 4)


def test_a_lender_suspended_by_the_alliance_is_skipped_after_the_recount(ill_db, ctx, cluster):
    first = load(ill_db, place(ill_db, ctx, cluster_id=cluster)).lender_code
    with ill_db.session() as session:
        session.add(IllLenderStats(member_code=first, suspended=True))
    with ill_db.session() as session:
        refresh_stats(session)  # the ill:stats job; it keeps the suspension
    req = load(ill_db, place(ill_db, ctx, cluster_id=cluster, patron_card="20260002"))
    assert req.lender_code != first
    reasons = {e.member_code: e.filter_reason for e in req.rota}
    assert reasons[first] == "suspended from lending by the alliance"


def test_without_a_cache_the_statistics_are_read_for_every_rota(ill_db, ctx, cluster):
    ctx.stats_ttl = 0
    first = load(ill_db, place(ill_db, ctx, cluster_id=cluster)).lender_code
    with ill_db.session() as session:  # written by another process: no recount here
        session.add(IllLenderStats(member_code=first, suspended=True))
    req = load(ill_db, place(ill_db, ctx, cluster_id=cluster, patron_card="20260002"))
    assert req.lender_code != first


# -- a service call that is the whole transaction (commit=True) ---------------------------------


def test_a_whole_transaction_change_overtaken_after_its_read_is_a_conflict_and_writes_nothing(
    ill_db, ctx, cluster
):
    # On PostgreSQL the COMMIT travels with the writes: the guarded UPDATE must fail inside
    # the server, or the loser's event, notice and usage rows would be committed with it.
    rid = place(ill_db, ctx, cluster_id=cluster)
    lender = load(ill_db, rid).lender_code
    before = {m: _count(ill_db, m) for m in (IllEvent, IllNotification, IllTimer, UsageEvent)}
    slower = _overtaken(ill_db, ctx, rid, [])
    lost = f"request {rid} was changed by someone else at the same moment; reload it"
    with pytest.raises(services.Conflict, match=lost), ill_db.session() as session:
        services.apply_supplier_status(
            session, staff(lender), rid, S.UNFILLED, ctx=slower, commit=True
        )
    req = load(ill_db, rid)
    assert (req.status, req.version) == (S.WILL_SUPPLY, 3)
    assert [e.event for e in req.events if e.side == "supplier"] == [S.WILL_SUPPLY]
    after = {m: _count(ill_db, m) for m in before}
    assert after[IllEvent] == before[IllEvent] + 1  # the winner's WillSupply only
    assert after[IllNotification] == before[IllNotification] + 1
    assert after[UsageEvent] == before[UsageEvent]  # no "unfilled" counted for the loser


def test_a_whole_transaction_change_is_committed_when_the_call_returns(ill_db, ctx, cluster):
    rid = place(ill_db, ctx, cluster_id=cluster)
    lender = load(ill_db, rid).lender_code
    with pytest.raises(RuntimeError), ill_db.session() as session:
        req = services.apply_supplier_status(
            session, staff(lender), rid, S.WILL_SUPPLY, ctx=ctx, commit=True
        )
        assert (req.status, req.version) == (S.WILL_SUPPLY, 3)
        raise RuntimeError("the caller fails afterwards: its session rolls back")
    assert (load(ill_db, rid).status, load(ill_db, rid).version) == (S.WILL_SUPPLY, 3)
    with ill_db.session() as session:
        created = services.create_request(
            session, staff("zhifu-pl"), ctx=ctx, cluster_id=cluster, commit=True
        )
        session.rollback()  # nothing left to roll back
    placed = load(ill_db, created.id)
    assert (placed.status, placed.version) == (S.REQUEST_RECEIVED, 2)
    assert [e.event for e in placed.events] == ["Created", "Routed"]


def test_whole_transaction_lifecycles_end_as_the_step_by_step_ones_do(ill_db, ctx, cluster):
    def lifecycle(commit: bool) -> list[tuple]:
        with ill_db.session() as session:
            req = services.create_request(session, staff("zhifu-pl"), ctx=ctx,
                                          cluster_id=cluster, commit=commit)  # fmt: skip
            rid, lender = req.id, req.lender_code
        for who, step in ((lender, S.WILL_SUPPLY), (lender, S.LOANED)):
            with ill_db.session() as session:
                services.apply_supplier_status(session, staff(who), rid, step, ctx=ctx,
                                               commit=commit)  # fmt: skip
        for step in (S.RECEIVED, S.SHIPPED_RETURN):
            with ill_db.session() as session:
                services.apply_requester_action(session, staff("zhifu-pl"), rid, step, ctx=ctx,
                                                commit=commit)  # fmt: skip
        with ill_db.session() as session:
            services.apply_supplier_status(session, staff(lender), rid, S.LOAN_COMPLETED,
                                           ctx=ctx, commit=commit)  # fmt: skip
        req = load(ill_db, rid)
        with ill_db.session() as session:
            timers = _count(ill_db, IllTimer, IllTimer.request_id == rid)
            usage = session.scalars(
                select(UsageEvent.kind).where(UsageEvent.ref == f"ill_request:{rid}")
            ).all()
        return [(req.status, req.version, req.closed_at is not None, timers, sorted(usage)),
                [(e.side, e.event, e.from_status, e.to_status) for e in req.events],
                [e.outcome for e in req.rota]]  # fmt: skip

    assert lifecycle(commit=True) == lifecycle(commit=False)


def test_the_brokers_statements_survive_psycopg_dropping_every_prepared_statement(
    ill_db, ctx, cluster
):
    # psycopg answers a rollback with DEALLOCATE ALL once it prepared statements of its own;
    # the broker's statements, prepared on the same connection, must then be prepared again.
    if ill_db.engine.dialect.name != "postgresql":
        pytest.skip("prepared statements: PostgreSQL only")
    rid = place(ill_db, ctx, cluster_id=cluster)
    lender = load(ill_db, rid).lender_code
    with ill_db.engine.connect() as connection:
        session = Session(bind=connection)
        for _ in range(6):  # psycopg prepares a statement at its sixth run
            session.scalar(select(IllRequest.status).where(IllRequest.id == rid))
        services.get_request(session, staff(lender), rid)
        services.apply_supplier_status(session, staff(lender), rid, S.WILL_SUPPLY, ctx=ctx)
        session.rollback()  # psycopg: ROLLBACK, then DEALLOCATE ALL
        prepared = connection.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements")
        assert prepared.scalar() == 0
        connection.rollback()  # the count's own transaction
        req = services.apply_supplier_status(session, staff(lender), rid, S.WILL_SUPPLY, ctx=ctx)
        assert (req.status, req.version) == (S.WILL_SUPPLY, 3)
        session.commit()
        session.close()
    assert load(ill_db, rid).status == S.WILL_SUPPLY
