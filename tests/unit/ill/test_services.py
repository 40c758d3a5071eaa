"""Requests through their life: placing, routing, answering, shipping, returning."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from federation.models import AuditEvent, UsageEvent
from federation.roles import Actor, Role
from ill import services
from ill import states as S
from ill.lenders import refresh_stats
from ill.models import IllEvent, IllLenderStats, IllRequest
from tests.support.ill import act, answer, load, place, staff


def supplier(db, ctx, rid, status, who=None, **kw):
    return answer(db, ctx, rid, status, who, **kw)


def requester(db, ctx, rid, action, who="zhifu-pl", **kw):
    return act(db, ctx, rid, action, who, **kw)


def test_a_loan_goes_to_the_best_lender_and_through_its_whole_life(ill_db, ctx, cluster):
    rid = place(ill_db, ctx, cluster_id=cluster)
    with ill_db.session() as session:
        req = session.get(IllRequest, rid)
        first = req.lender_code
        assert req.status == S.REQUEST_RECEIVED
        # ldu is in the borrower's district with a copy on the shelf; ytlib is nearer still
        # but its only copy is out; the two other universities are in another district.
        ranked = [e.member_code for e in req.rota if e.rank]
        assert first == "ldu" and ranked[:2] == ["ldu", "ytlib"]
        assert set(ranked[2:]) == {"ytu", "sdtbu"}
    assert supplier(ill_db, ctx, rid, S.WILL_SUPPLY) == S.WILL_SUPPLY
    assert supplier(ill_db, ctx, rid, S.LOANED) == S.LOANED
    requester(ill_db, ctx, rid, S.RECEIVED)
    requester(ill_db, ctx, rid, S.SHIPPED_RETURN)
    assert supplier(ill_db, ctx, rid, S.LOAN_COMPLETED) == S.LOAN_COMPLETED
    with ill_db.session() as session:
        events = session.scalars(select(IllEvent.event).where(IllEvent.request_id == rid)).all()
        kinds = session.scalars(select(UsageEvent.kind)).all()
    assert events == [
        "Created",
        "Routed",
        "WillSupply",
        "Loaned",
        "Received",
        "ShippedReturn",
        "LoanCompleted",
    ]
    assert sorted(kinds) == ["ill_completed", "ill_filled", "ill_requested"]
    with ill_db.session() as session:
        refresh_stats(session)
        ldu, borrower = session.get(IllLenderStats, "ldu"), session.get(IllLenderStats, "zhifu-pl")
        assert (ldu.asked, ldu.filled, borrower.borrowed, borrower.filled) == (1, 1, 1, 0)


def test_reader_data_is_sealed_and_only_the_borrower_opens_it(ill_db, ctx, cluster):
    rid = place(ill_db, ctx, cluster_id=cluster)
    with ill_db.session() as session:
        req = session.get(IllRequest, rid)
        assert "王小明" not in req.patron_name and "20260001" not in req.patron_card
        lender = req.lender_code
        opened = services.open_patron(session, staff("zhifu-pl"), rid, ctx=ctx)
        assert opened["name"] == "王小明" and opened["card"] == "20260001"
        with pytest.raises(services.NotFound):
            services.open_patron(session, staff(lender), rid, ctx=ctx)
        with pytest.raises(services.NotFound):
            services.get_request(session, staff("muping-pl"), rid, ctx=ctx)
        audits = session.scalars(select(AuditEvent.action)).all()
    assert audits.count("read") == 1


def test_a_citation_copy_goes_to_copy_lenders_and_completes_on_delivery(ill_db, ctx):
    citation = {"title": "中华医学杂志", "article_title": "肺结节随访", "pages": "12-18"}
    rid = place(ill_db, ctx, service_type="Copy", citation=citation)
    req = load(ill_db, rid)
    assert req.title == "肺结节随访"
    ranked = {e.member_code for e in req.rota if e.rank}
    filtered = {e.member_code: e.filter_reason for e in req.rota if not e.rank}
    assert "bzmc-yt" in ranked  # the medical university lends copies only
    assert filtered["fushan-pl"].startswith("does not lend for a Copy request")
    assert answer(ill_db, ctx, rid, S.COPY_COMPLETED) == S.COPY_COMPLETED
    with pytest.raises(services.IllegalTransition):
        answer(ill_db, ctx, rid, S.LOANED)
    with ill_db.session() as session:
        kinds = sorted(session.scalars(select(UsageEvent.kind)))
    assert kinds == ["copy_delivered", "ill_completed", "ill_filled", "ill_requested"]


def test_a_reader_request_waits_for_the_home_library(ill_db, ctx, cluster):
    reader = Actor(Role.READER, "zhifu-pl", user_id=77)
    with ill_db.session() as session:
        rid = services.create_request(session, reader, ctx=ctx, cluster_id=cluster).id
    req = load(ill_db, rid)
    assert (req.status, req.mediated, req.lender_code) == (S.SUBMITTED, True, None)
    with ill_db.session() as session:
        assert services.get_request(session, reader, rid).id == rid
        other_reader = Actor(Role.READER, "zhifu-pl", user_id=78)
        with pytest.raises(services.NotFound):
            services.get_request(session, other_reader, rid)
        with pytest.raises(services.Forbidden):
            services.apply_requester_action(session, reader, rid, S.APPROVE, ctx=ctx)
    assert act(ill_db, ctx, rid, S.APPROVE).lender_code == "ldu"


def test_staff_can_refuse_a_reader_request(ill_db, ctx, cluster):
    with ill_db.session() as session:
        reader = Actor(Role.READER, "zhifu-pl", user_id=77)
        rid = services.create_request(session, reader, ctx=ctx, cluster_id=cluster).id
    req = act(ill_db, ctx, rid, S.REFUSE, message="available at our branch")
    assert req.status == S.REFUSED and req.closed_at is not None


def test_a_title_the_borrower_holds_is_offered_locally_first(ill_db, ctx, cluster):
    rid = place(ill_db, ctx, borrower="ldu", cluster_id=cluster)
    req = load(ill_db, rid)
    assert (req.status, req.local_holding, req.lender_code) == (S.LOCAL_OFFERED, True, None)
    assert act(ill_db, ctx, rid, S.SUPPLY_LOCALLY, who="ldu").status == S.LOCAL_SUPPLIED
    rid = place(ill_db, ctx, borrower="ldu", cluster_id=cluster)
    assert act(ill_db, ctx, rid, S.ROUTE_ANYWAY, who="ldu").lender_code == "ytlib"


def test_the_same_reader_asking_twice_is_flagged(ill_db, ctx, cluster):
    first = place(ill_db, ctx, cluster_id=cluster, patron_card="CARD-9")
    second = place(ill_db, ctx, cluster_id=cluster, patron_card=" CARD-9 ")
    other = place(ill_db, ctx, cluster_id=cluster, patron_card="CARD-10")
    assert load(ill_db, second).duplicate_of == first
    assert load(ill_db, other).duplicate_of is None
    assert "same reader already has open request" in load(ill_db, second).events[0].message


def test_an_idempotency_key_places_the_request_once(ill_db, ctx, cluster):
    a = place(ill_db, ctx, cluster_id=cluster, idempotency_key="k-1")
    b = place(ill_db, ctx, cluster_id=cluster, idempotency_key="k-1")
    c = place(ill_db, ctx, cluster_id=cluster, idempotency_key="k-2")
    assert a == b != c
    with ill_db.session() as session:
        assert len(session.scalars(select(IllRequest)).all()) == 2


def test_bad_fields_get_one_line_that_names_the_field(ill_db, ctx, cluster):
    with ill_db.session() as session:
        with pytest.raises(services.InvalidRequest, match="^service_type: use one of"):
            services.create_request(
                session, staff("ytu"), ctx=ctx, cluster_id=cluster, service_type="Lend"
            )
        with pytest.raises(services.InvalidRequest, match="either cluster_id .* or a citation"):
            services.create_request(session, staff("ytu"), ctx=ctx)
        with pytest.raises(services.InvalidRequest, match="no title 'c-nope'"):
            services.create_request(session, staff("ytu"), ctx=ctx, cluster_id="c-nope")
        assert session.scalars(select(IllRequest)).all() == []


def test_two_staff_acting_on_the_same_version_one_gets_a_conflict(ill_db, ctx, cluster):
    rid = place(ill_db, ctx, cluster_id=cluster)
    version = load(ill_db, rid).version
    answer(ill_db, ctx, rid, S.WILL_SUPPLY, expected_version=version)
    with pytest.raises(services.Conflict, match="changed by someone else"):
        answer(ill_db, ctx, rid, S.UNFILLED, expected_version=version)
    assert load(ill_db, rid).status == S.WILL_SUPPLY


def test_another_members_staff_can_neither_see_nor_act(ill_db, ctx, cluster):
    rid = place(ill_db, ctx, cluster_id=cluster)
    outsider = staff("muping-pl")
    with ill_db.session() as session:
        for call in (
            lambda: services.get_request(session, outsider, rid),
            lambda: services.open_patron(session, outsider, rid, ctx=ctx),
            lambda: services.apply_supplier_status(session, outsider, rid, S.WILL_SUPPLY, ctx=ctx),
            lambda: services.apply_requester_action(session, outsider, rid, S.CANCEL, ctx=ctx),
        ):
            with pytest.raises(services.NotFound):
                call()
        # The lender sees the request, but may not act for the borrower.
        with pytest.raises(services.Forbidden):
            services.apply_requester_action(session, staff("ldu"), rid, S.CANCEL, ctx=ctx)
        # A lender not yet asked does not see it.
        with pytest.raises(services.NotFound):
            services.get_request(session, staff("ytu"), rid)


def test_notices_are_mailed_after_the_commit_and_not_after_a_rollback(ill_db, ctx, cluster):
    place(ill_db, ctx, cluster_id=cluster)
    sent = [to for to, _subject, _body in ctx.mailer.sent]
    assert sent == ["lisi@example.org"]  # ldu's liaison: it was asked to supply
    with pytest.raises(RuntimeError), ill_db.session() as session:
        services.create_request(session, staff("zhifu-pl"), ctx=ctx, cluster_id=cluster)
        raise RuntimeError("the transaction fails after the request was routed")
    assert len(ctx.mailer.sent) == 1
