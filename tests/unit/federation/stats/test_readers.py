"""The demo's simulated year of reader searching: the same events the search and record pages
write, from every district with members, never naming a reader, and only real holders shown."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import select

from federation.alliance import load_alliance
from federation.members import import_alliance
from federation.models import UsageEvent
from federation.stats.readers import already_simulated, simulate_reader_year
from federation.usage import HOLDINGS_VIEW, RECORD_VIEW, SEARCH, SEARCH_ZERO
from tests.conftest import DEMO_ALLIANCE
from tests.support.ill import add_cluster

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
HOLDERS = {
    "c-1": {"ytu": ["available"], "ldu": ["on_loan"]},
    "c-2": {"zhifu-pl": ["available"]},
    "c-3": {"ytlib": ["available"], "ytu": ["available"], "muping-pl": ["available"]},
}


def _simulate(db, seed: int = 5):
    alliance = load_alliance(DEMO_ALLIANCE)
    with db.session() as session:
        import_alliance(session, alliance)
    for cluster_id, holders in HOLDERS.items():
        add_cluster(db, cluster_id, f"Title {cluster_id}", holders)
    searches = simulate_reader_year(db, alliance, seed=seed, now=NOW)
    with db.session() as session:
        events = session.scalars(select(UsageEvent)).all()
        session.expunge_all()
    return alliance, searches, events


def test_every_district_with_members_searches_over_the_past_year(db):
    alliance, searches, events = _simulate(db)
    kinds = Counter(e.kind for e in events)
    assert kinds[SEARCH] == searches > 0
    assert 0 < kinds[SEARCH_ZERO] < kinds[SEARCH] / 3
    assert kinds[RECORD_VIEW] > 0 and kinds[HOLDINGS_VIEW] >= kinds[RECORD_VIEW]
    assert {e.region_code for e in events if e.kind == SEARCH} == {
        m.region for m in alliance.members
    }
    assert all(e.simulated for e in events)
    assert all(NOW - dt.timedelta(days=366) < e.occurred_at.replace(tzinfo=dt.UTC) <= NOW
               for e in events)  # fmt: skip
    assert {e.clc_class for e in events if e.kind == SEARCH} <= set("ABCDEFGHIJKNOPQRSTUVXZ")


def test_events_name_libraries_and_districts_never_a_reader(db):
    alliance, _, events = _simulate(db)
    members = {m.code for m in alliance.members}
    for e in events:
        assert e.member_code is None or e.member_code in members
        assert e.ref is None or e.ref.startswith("facets:")
        assert e.partner_code is None


def test_a_record_view_shows_the_libraries_that_really_hold_the_title(db):
    _, _, events = _simulate(db)
    shown: dict[tuple, set] = {}
    for e in events:
        if e.kind == HOLDINGS_VIEW:
            shown.setdefault((e.cluster_id, e.occurred_at), set()).add(e.member_code)
    assert shown
    for (cluster_id, _), members in shown.items():
        assert members == set(HOLDERS[cluster_id])


def test_the_same_seed_gives_the_same_year_and_the_demo_runs_it_once(db):
    _, searches, events = _simulate(db, seed=11)
    with db.session() as session:
        assert already_simulated(session) == searches
    again = load_alliance(DEMO_ALLIANCE)
    with db.session() as session:
        session.execute(UsageEvent.__table__.delete())
        session.commit()
    assert simulate_reader_year(db, again, seed=11, now=NOW) == searches
    with db.session() as session:
        assert session.scalar(select(UsageEvent.id).limit(1)) is not None
        repeat = Counter(k for k in session.scalars(select(UsageEvent.kind)))
    assert repeat == Counter(e.kind for e in events)
