"""Usage events from the reader pages: what is counted, for whom, and that the buffer writes it."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from federation.models import UsageEvent
from tests.unit.web.test_search_pages import catalogue  # noqa: F401  (fixture)
from web.usage import UsageBuffer

PAGES = pytest.mark.usefixtures("catalogue")


def _events(db, kind: str | None = None) -> list[UsageEvent]:
    with db.session() as s:
        query = select(UsageEvent).order_by(UsageEvent.id)
        if kind:
            query = query.where(UsageEvent.kind == kind)
        rows = list(s.scalars(query))
        s.expunge_all()
    return rows


def _flush(app) -> None:
    app.extensions["federation.usage"].flush()


@PAGES
def test_a_search_is_counted_for_the_readers_home_library_and_district(app, client, db):
    client.get("/search?q=river&home=ytlib")
    assert _events(db) == [], "events wait in memory until a threshold or a flush"
    _flush(app)
    [event] = _events(db)
    assert (event.kind, event.member_code, event.region_code) == ("search", "ytlib", "zhifu")
    assert event.value == 2  # titles found
    assert event.cluster_id is None and event.partner_code is None


@PAGES
def test_a_district_home_counts_for_the_district_only(app, client, db):
    client.get("/search?q=river&home=district:laishan")
    _flush(app)
    [event] = _events(db)
    assert (event.member_code, event.region_code) == (None, "laishan")


@PAGES
def test_zero_results_are_counted_twice_over_and_facets_and_class_are_kept(
    app,
    client,
    db,
):
    client.get("/search?q=nothingmatchesthis&f=class:G&f=language:eng")
    _flush(app)
    events = _events(db)
    assert [e.kind for e in events] == ["search", "search_zero"]
    assert {e.clc_class for e in events} == {"G"}
    assert {e.ref for e in events} == {"facets:class,language"}
    assert {e.member_code for e in events} == {None}


@PAGES
def test_paging_and_bad_requests_are_not_new_searches(app, client, db):
    client.get("/search?q=bulk")
    client.get("/search?q=bulk&page=2")
    client.get("/search?q=bulk&year_from=abc")
    _flush(app)
    assert [e.kind for e in _events(db)] == ["search"]


@PAGES
def test_record_page_counts_the_view_and_each_library_whose_holdings_are_shown(
    app,
    client,
    db,
):
    client.get("/record/c-river?home=ytu")
    _flush(app)
    events = _events(db)
    assert [(e.kind, e.member_code, e.cluster_id) for e in events] == [
        ("record_view", "ytu", "c-river"),
        ("holdings_view", "penglai-pl", "c-river"),
        ("holdings_view", "ytu", "c-river"),
    ]


def test_buffer_writes_a_batch_when_full(db):
    buffer = UsageBuffer(db, max_events=3, max_age_s=3600)
    buffer.add("search", member_code="ytu")
    buffer.add("search")
    assert _events(db) == [] and buffer.pending() == 2
    buffer.add("search_zero")
    assert [e.kind for e in _events(db)] == ["search", "search", "search_zero"]
    assert buffer.pending() == 0
    buffer.close()


def test_buffer_writes_old_events_without_further_traffic(db):
    buffer = UsageBuffer(db, max_events=1000, max_age_s=0.2)
    buffer.add("record_view", cluster_id="c1")
    deadline = time.monotonic() + 10
    while not _events(db) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [e.cluster_id for e in _events(db)] == ["c1"]
    buffer.close()


def test_close_writes_what_is_left(db):
    buffer = UsageBuffer(db, max_events=1000, max_age_s=3600)
    buffer.add("holdings_view", member_code="ytlib")
    buffer.close()
    assert [e.member_code for e in _events(db)] == ["ytlib"]


def test_unknown_kinds_are_refused_at_once(db):
    buffer = UsageBuffer(db)
    with pytest.raises(ValueError, match="unknown usage event kind"):
        buffer.add("serach")
    assert buffer.pending() == 0
