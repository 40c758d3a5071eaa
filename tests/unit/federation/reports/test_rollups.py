"""The roll-up table: built from raw events, read back with the same numbers, reader-free."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from federation.alliance import load_alliance
from federation.models import ReportRollup, UsageEvent
from federation.reports import build_report, load_facts, refresh_rollups
from tests.conftest import DEMO_ALLIANCE

from .seed import seed

MONTHS = ["2026-02", "2026-03"]


@pytest.fixture
def alliance():
    return load_alliance(DEMO_ALLIANCE)


@pytest.fixture
def seeded(db, alliance):
    with db.session() as session:
        seed(session, DEMO_ALLIANCE)
    return db


def report_json(db, alliance):
    with db.session() as session:
        return build_report(load_facts(session, alliance, MONTHS), "2026-03").as_json()


def test_a_report_from_roll_ups_equals_the_report_from_raw_events(seeded, alliance):
    raw = report_json(seeded, alliance)
    with seeded.session() as session:
        summary = refresh_rollups(session, alliance, MONTHS)
    # the seed's requests, fills, cancellations and searches of February and March (Yantai
    # time); a lender's "no" (ill_unfilled) is not read
    assert summary.events == 12
    assert report_json(seeded, alliance) == raw


def test_once_rolled_up_the_report_no_longer_reads_raw_events(seeded, alliance):
    with seeded.session() as session:
        refresh_rollups(session, alliance, MONTHS)
        session.execute(delete(UsageEvent))
    tables = report_json(seeded, alliance)["tables"]
    ill = {r["district"]: r for r in next(t for t in tables if t["id"] == "ill")["rows"]}
    assert ill["muping"]["fill_rate"] == 0.5


def test_refreshing_again_replaces_the_months_rows(seeded, alliance):
    with seeded.session() as session:
        first = refresh_rollups(session, alliance, MONTHS).rows
        second = refresh_rollups(session, alliance, MONTHS).rows
        stored = session.scalar(select(func.count()).select_from(ReportRollup))
    assert first == second == stored


def test_roll_ups_hold_no_title_or_request_identifier(seeded, alliance):
    with seeded.session() as session:
        refresh_rollups(session, alliance, MONTHS)
        rows = session.scalars(select(ReportRollup)).all()
    values = {str(getattr(r, c)) for r in rows for c in ("district", "library_type", "clc")}
    assert not {"c1", "c2", "c3", "muping-pl", "ytu"} & values


def test_search_counts_come_from_the_statistics_roll_up(seeded, alliance):
    from federation.usage import SEARCH, SEARCH_ZERO

    with seeded.session() as session:
        refresh_rollups(session, alliance, MONTHS)  # brings usage_rollups up to date too
        session.execute(delete(UsageEvent).where(UsageEvent.kind.in_((SEARCH, SEARCH_ZERO))))
    with seeded.session() as session:
        refresh_rollups(session, alliance, MONTHS)  # raw searches are gone: only stats has them
    tables = report_json(seeded, alliance)["tables"]
    unmet = {r["district"]: r for r in next(t for t in tables if t["id"] == "unmet")["rows"]}
    assert unmet["qixia"]["zero_result_searches"] == 1
    assert unmet["muping"]["zero_result_share"] == 0.5
