"""The broker moving on by itself: deadlines in business hours, closures, the end of the rota,
cancellation mid-rota, renewals, overdue and recall, holds, loss. The clock is the test's."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from federation.models import UsageEvent
from ill import states as S
from ill.lenders import refresh_stats
from ill.models import IllLenderStats, IllNotification, IllTimer
from ill.states import IllegalTransition
from ill.timers import run_due_timers
from tests.support.ill import act, add_cluster, answer, load, place

BEIJING = dt.timezone(dt.timedelta(hours=8))


def local(request_time: dt.datetime) -> dt.datetime:
    return request_time.replace(tzinfo=dt.UTC).astimezone(BEIJING)


def test_no_answer_within_business_hours_moves_to_the_next_lender(ill_db, ctx, clock, cluster):
    rid = place(ill_db, ctx, cluster_id=cluster)  # Tuesday 10:00; ldu answers Mon-Fri, 7 h a day
    req = load(ill_db, rid)
    assert req.lender_code == "ldu"
    # 24 business hours: Tue 5 h, Wed 7, Thu 7, Fri 3.5 + 1.5 -> Friday 15:30, not Wednesday.
    asked = next(e for e in req.rota if e.member_code == "ldu")
    assert local(asked.deadline_at) == dt.datetime(2026, 3, 13, 15, 30, tzinfo=BEIJING)
    clock.set_local(2026, 3, 13, 15, 29)
    assert run_due_timers(ill_db, ctx) == 0 and load(ill_db, rid).lender_code == "ldu"
    clock.set_local(2026, 3, 13, 15, 31)
    assert run_due_timers(ill_db, ctx) == 1
    req = load(ill_db, rid)
    assert (req.lender_code, req.status) == ("ytlib", S.REQUEST_RECEIVED)
    assert [e.event for e in req.events][-2:] == ["Timeout", "Routed"]
    with ill_db.session() as session:
        refresh_stats(session)
        assert session.get(IllLenderStats, "ldu").timeouts == 1
        kinds = session.scalars(select(UsageEvent.kind).where(UsageEvent.partner_code == "ldu"))
        assert "ill_unfilled" in list(kinds)


def test_a_request_sent_after_closing_counts_from_the_next_opening(ill_db, ctx, clock, cluster):
    clock.set_local(2026, 3, 13, 18, 0)  # Friday evening: ldu is closed until Monday 08:00
    rid = place(ill_db, ctx, cluster_id=cluster, service_level="Rush")
    asked = next(e for e in load(ill_db, rid).rota if e.member_code == "ldu")
    # Rush: 4 business hours -> Monday 08:00-11:30 and 14:00-14:30.
    assert local(asked.deadline_at) == dt.datetime(2026, 3, 16, 14, 30, tzinfo=BEIJING)
    clock.set_local(2026, 3, 16, 14, 0)  # a whole weekend later, still in time
    assert run_due_timers(ill_db, ctx) == 0


def test_closure_days_do_not_count_and_can_rule_a_lender_out(ill_db, ctx, clock):
    # ldu closes for the winter vacation from 17 January to 26 February 2026.
    add_cluster(ill_db, "c-winter", "冬季", {"ldu": ["available"], "ytlib": ["available"]})
    clock.set_local(2026, 1, 16, 17, 0)  # Friday, the last afternoon before the closure
    rid = place(ill_db, ctx, cluster_id="c-winter", borrower="muping-pl")
    ldu = next(e for e in load(ill_db, rid).rota if e.member_code == "ldu")
    assert local(ldu.deadline_at).date() > dt.date(2026, 2, 26)
    # Needed before the vacation ends: ldu is filtered out, with the reason.
    rid = place(ill_db, ctx, cluster_id="c-winter", borrower="muping-pl", needed_by="2026-02-01")
    ldu = next(e for e in load(ill_db, rid).rota if e.member_code == "ldu")
    assert ldu.rank is None and "needed-by date 2026-02-01" in ldu.filter_reason
    assert load(ill_db, rid).lender_code == "ytlib"


def test_end_of_the_rota_leaves_the_request_unfilled_with_every_reason(ill_db, ctx, cluster):
    rid = place(ill_db, ctx, cluster_id=cluster)
    for _ in range(4):
        answer(ill_db, ctx, rid, S.UNFILLED, message="missing on shelf")
    req = load(ill_db, rid)
    assert req.status == S.UNFILLED and req.closed_at is not None and req.lender_code is None
    final = req.events[-1]
    assert final.event == "EndOfRota"
    for code in ("ldu", "ytlib", "ytu", "sdtbu"):
        assert f"{code}: unfilled - Unfilled: missing on shelf" in final.message
    with ill_db.session() as session:
        notes = session.scalars(
            select(IllNotification.kind).where(IllNotification.member_code == "zhifu-pl")
        ).all()
    assert "unfilled" in notes


def test_retry_possible_also_moves_on(ill_db, ctx, cluster):
    rid = place(ill_db, ctx, cluster_id=cluster)
    answer(ill_db, ctx, rid, S.RETRY_POSSIBLE, message="only a damaged copy")
    assert load(ill_db, rid).lender_code == "ytlib"


def test_cancel_mid_rota_stops_the_broker(ill_db, ctx, clock, cluster):
    rid = place(ill_db, ctx, cluster_id=cluster)
    clock.set_local(2026, 3, 14, 9, 0)
    run_due_timers(ill_db, ctx)  # ldu timed out: ytlib asked
    req = act(ill_db, ctx, rid, S.CANCEL, message="reader bought it")
    assert req.status == S.CANCELLED and req.closed_at is not None
    clock.advance(days=30)
    assert run_due_timers(ill_db, ctx) == 0
    req = load(ill_db, rid)
    assert {e.member_code: e.outcome for e in req.rota if e.rank} == {
        "ldu": "timeout",
        "ytlib": "cancelled",
        "ytu": "waiting",
        "sdtbu": "waiting",
    }
    with ill_db.session() as session:
        assert session.scalars(select(IllTimer)).all() == []
        assert session.scalars(
            select(IllNotification).where(
                IllNotification.member_code == "ytlib", IllNotification.kind == "Cancel"
            )
        ).one()


def _on_loan(db, ctx, cluster):
    rid = place(db, ctx, cluster_id=cluster)
    answer(db, ctx, rid, S.WILL_SUPPLY)
    answer(db, ctx, rid, S.LOANED)
    act(db, ctx, rid, S.RECEIVED)
    return rid


def test_renewal_extends_the_due_date_once(ill_db, ctx, clock, cluster):
    rid = _on_loan(ill_db, ctx, cluster)
    due = load(ill_db, rid).due_at  # ldu lends for 30 days
    assert due.replace(tzinfo=dt.UTC) == clock.now + dt.timedelta(days=30)
    req = act(ill_db, ctx, rid, S.RENEW)
    assert req.due_at == due.replace(tzinfo=dt.UTC) + dt.timedelta(days=30) and req.renewals == 1
    with pytest.raises(IllegalTransition, match="1 of 1 renewal"):
        act(ill_db, ctx, rid, S.RENEW)


def test_overdue_then_recall_then_return(ill_db, ctx, clock, cluster):
    rid = _on_loan(ill_db, ctx, cluster)
    clock.advance(days=30, minutes=1)
    assert run_due_timers(ill_db, ctx) == 1 and load(ill_db, rid).status == S.OVERDUE
    clock.advance(days=14)
    assert run_due_timers(ill_db, ctx) == 1 and load(ill_db, rid).status == S.RECALLED
    with pytest.raises(IllegalTransition, match="allowed now: Lost, Notification, ShippedReturn"):
        act(ill_db, ctx, rid, S.RENEW)
    act(ill_db, ctx, rid, S.SHIPPED_RETURN)
    assert answer(ill_db, ctx, rid, S.LOAN_COMPLETED) == S.LOAN_COMPLETED


def test_renewing_an_overdue_loan_puts_it_back_on_loan(ill_db, ctx, clock, cluster):
    rid = _on_loan(ill_db, ctx, cluster)
    clock.advance(days=31)
    run_due_timers(ill_db, ctx)
    assert act(ill_db, ctx, rid, S.RENEW).status == S.LOANED
    clock.advance(days=14)  # the recall timer went with the renewal
    assert run_due_timers(ill_db, ctx) == 0 and load(ill_db, rid).status == S.LOANED


def test_item_shipped_back_is_not_made_overdue_by_the_clock(ill_db, ctx, clock, cluster):
    rid = _on_loan(ill_db, ctx, cluster)
    act(ill_db, ctx, rid, S.SHIPPED_RETURN)
    clock.advance(days=60)
    assert run_due_timers(ill_db, ctx) == 0 and load(ill_db, rid).status == S.LOANED


def test_lost_item_is_completed_without_return(ill_db, ctx, cluster):
    rid = _on_loan(ill_db, ctx, cluster)
    assert act(ill_db, ctx, rid, S.LOST).requester_state == S.LOST
    with pytest.raises(IllegalTransition):
        act(ill_db, ctx, rid, S.SHIPPED_RETURN)
    assert answer(ill_db, ctx, rid, S.COMPLETED_WITHOUT_RETURN) == S.COMPLETED_WITHOUT_RETURN
    assert load(ill_db, rid).closed_at is not None


def test_hold_return_stops_the_return_until_released(ill_db, ctx, cluster):
    rid = _on_loan(ill_db, ctx, cluster)
    answer(ill_db, ctx, rid, S.HOLD_RETURN, message="closed for stocktaking")
    with pytest.raises(IllegalTransition, match="while the request is HoldReturn"):
        act(ill_db, ctx, rid, S.SHIPPED_RETURN)
    answer(ill_db, ctx, rid, S.RELEASE_HOLD_RETURN)
    act(ill_db, ctx, rid, S.SHIPPED_RETURN)
    assert answer(ill_db, ctx, rid, S.LOAN_COMPLETED) == S.LOAN_COMPLETED


def test_illegal_statuses_are_refused_with_what_is_allowed(ill_db, ctx, cluster):
    rid = place(ill_db, ctx, cluster_id=cluster)
    with pytest.raises(IllegalTransition) as refused:
        answer(ill_db, ctx, rid, S.LOAN_COMPLETED)
    assert str(refused.value) == (
        "a lender cannot answer LoanCompleted to a Loan request that is RequestReceived; "
        "allowed now: ExpectToSupply, Loaned, RetryPossible, Unfilled, WillSupply"
    )
    with pytest.raises(IllegalTransition, match="not an ISO 18626 supplier status"):
        answer(ill_db, ctx, rid, "Shipped")
    with pytest.raises(IllegalTransition, match="Received is not allowed"):
        act(ill_db, ctx, rid, S.RECEIVED)
    assert load(ill_db, rid).status == S.REQUEST_RECEIVED  # nothing changed


def test_timers_survive_a_restart(ill_db, ctx, clock, cluster, settings_overrides):
    from federation.db import Database

    rid = place(ill_db, ctx, cluster_id=cluster)
    ill_db.dispose()  # the scheduler process stops; its timers are rows in the database
    clock.set_local(2026, 3, 16, 9, 0)
    again = Database(settings_overrides["DATABASE_URL"])
    try:
        assert run_due_timers(again, ctx) == 1
    finally:
        again.dispose()
    assert load(ill_db, rid).lender_code == "ytlib"


def test_expect_to_supply_notes_and_status_requests_are_kept_on_the_timeline(ill_db, ctx, cluster):
    rid = place(ill_db, ctx, cluster_id=cluster, service_type="CopyOrLoan")
    answer(ill_db, ctx, rid, S.EXPECT_TO_SUPPLY, message="copy at the bindery until Friday")
    act(ill_db, ctx, rid, S.NOTIFICATION, message="the reader can wait")
    act(ill_db, ctx, rid, S.STATUS_REQUEST)
    answer(ill_db, ctx, rid, S.COPY_COMPLETED)  # CopyOrLoan: the lender chose a copy
    req = load(ill_db, rid)
    assert [(e.event, e.message) for e in req.events][2:] == [
        ("ExpectToSupply", "copy at the bindery until Friday"),
        ("Notification", "the reader can wait"),
        ("StatusRequest", ""),
        ("CopyCompleted", ""),
    ]
    assert req.status == S.COPY_COMPLETED and req.closed_at is not None
    with ill_db.session() as session:
        note = session.scalars(
            select(IllNotification).where(IllNotification.kind == "Notification")
        ).one()
    assert note.member_code == "ldu" and "the reader can wait" in note.text
