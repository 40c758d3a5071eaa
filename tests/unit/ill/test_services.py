"""Requests through their life: placing, routing, answering, shipping, returning."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from federation.models import AuditEvent, UsageEvent
from ill import services
from ill import states as S
from ill.models import IllEvent, IllRequest
from tests.unit.ill.conftest import staff


def place(db, ctx, cluster, **fields):
    with db.session() as session:
        fields.setdefault("patron_name", "王小明")
        fields.setdefault("patron_card", "20260001")
        req = services.create_request(
            session, staff("zhifu-pl"), ctx=ctx, cluster_id=cluster, **fields
        )
        return req.id


def supplier(db, ctx, rid, status, who=None, **kw):
    with db.session() as session:
        req = session.get(IllRequest, rid)
        actor = staff(who or req.lender_code)
        return services.apply_supplier_status(session, actor, rid, status, ctx=ctx, **kw).status


def requester(db, ctx, rid, action, who="zhifu-pl", **kw):
    with db.session() as session:
        return services.apply_requester_action(session, staff(who), rid, action, ctx=ctx, **kw)


def test_a_loan_goes_to_the_best_lender_and_through_its_whole_life(ill_db, ctx, cluster):
    rid = place(ill_db, ctx, cluster)
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
    assert events == ["Created", "Routed", "WillSupply", "Loaned", "Received", "ShippedReturn",
                      "LoanCompleted"]
    assert sorted(kinds) == ["ill_completed", "ill_filled", "ill_requested"]


def test_reader_data_is_sealed_and_only_the_borrower_opens_it(ill_db, ctx, cluster):
    rid = place(ill_db, ctx, cluster)
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
