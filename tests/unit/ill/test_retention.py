"""Reader data: erased a set number of days after closing, and never in clear in the database."""

from __future__ import annotations

import sqlite3

from sqlalchemy import select
from sqlalchemy.engine import make_url

from federation.models import AuditEvent
from ill import services
from ill import states as S
from ill.tasks import run_retention
from tests.support.ill import act, answer, load, place, staff

NAME, CARD = "欧阳娜娜", "YT-2026-0042"


def _finished(db, ctx, cluster) -> int:
    rid = place(db, ctx, cluster_id=cluster, patron_name=NAME, patron_card=CARD)
    answer(db, ctx, rid, S.LOANED)
    act(db, ctx, rid, S.RECEIVED)
    act(db, ctx, rid, S.SHIPPED_RETURN)
    answer(db, ctx, rid, S.LOAN_COMPLETED)
    return rid


def test_reader_data_is_erased_after_the_retention_period(ill_db, ctx, clock, cluster):
    rid = _finished(ill_db, ctx, cluster)
    open_rid = place(ill_db, ctx, cluster_id=cluster, patron_name=NAME, patron_card=CARD)
    clock.advance(days=89)
    assert run_retention(ill_db, ctx) == 0
    with ill_db.session() as session:
        assert services.open_patron(session, staff("zhifu-pl"), rid, ctx=ctx)["name"] == NAME
    clock.advance(days=1, minutes=1)
    assert run_retention(ill_db, ctx) == 1
    with ill_db.session() as session:
        opened = services.open_patron(session, staff("zhifu-pl"), rid, ctx=ctx)
        erased = session.scalars(select(AuditEvent).where(AuditEvent.action == "erase")).one()
    assert opened == {"name": None, "card": None, "anonymised": True}
    assert erased.subject == f"ill_request:{rid}" and NAME not in erased.detail
    req = load(ill_db, rid)  # the request and its timeline stay
    assert req.status == S.LOAN_COMPLETED and len(req.events) >= 5 and req.patron_digest is None
    assert load(ill_db, open_rid).patron_name is not None  # still open: kept


def test_a_raw_dump_of_the_database_shows_no_reader_name_or_card(ill_db, ctx, cluster):
    _finished(ill_db, ctx, cluster)
    place(ill_db, ctx, cluster_id=cluster, patron_name=NAME, patron_card=CARD)
    with ill_db.session() as session:
        services.open_patron(session, staff("zhifu-pl"), 1, ctx=ctx)  # audited, not copied
    url = make_url(ill_db.url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as conn:
            dump = "\n".join(conn.iterdump())
    else:
        from tests.support.pgdump import pg_dump

        dump = pg_dump(ill_db.url)
    assert "ill_requests" in dump  # the dump does hold the requests...
    assert NAME not in dump and CARD not in dump  # ...but not the reader in clear
