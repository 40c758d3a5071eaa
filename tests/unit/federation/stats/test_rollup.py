"""Roll-ups equal a direct count of the event log, never double-count, and handle late events."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text

from federation.models import UsageEvent
from federation.stats.rollup import late_targets, lock_months, rollup
from federation.stats.services import Months, check_rollups, figures, late_events, monthly_trend
from federation.usage import ILL_FILLED, KINDS, SEARCH, record_usage

MEMBERS = ["ytu", "ldu", "ytlib", "zhifu-pl", "muping-pl", None]
SHANGHAI = timedelta(hours=8)


def seed_events(db, count: int, seed: int = 7) -> list[dict]:
    """Insert ``count`` random events over 2026 with one executemany; return what went in."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC) - SHANGHAI
    rows = []
    for _ in range(count):
        at = start + timedelta(minutes=rng.randrange(365 * 24 * 60))
        rows.append(
            {
                "kind": rng.choice(sorted(KINDS)),
                "member_code": rng.choice(MEMBERS),
                "partner_code": rng.choice(MEMBERS),
                "quantity": rng.choice([1, 1, 1, 3]),
                "value": rng.choice([None, 12.5]),
                "occurred_at": at,
                "recorded_at": at,
                "simulated": rng.random() < 0.2,
            }
        )
    with db.session() as session:
        session.execute(insert(UsageEvent), rows)
    return rows


def local_month(at: datetime) -> str:
    return (at + SHANGHAI).strftime("%Y-%m")


def rolled_up_totals(db) -> Counter:
    with db.session() as session:
        rows = session.execute(
            text(
                "SELECT month, kind, member_code, SUM(events), SUM(quantity) FROM usage_rollups "
                "GROUP BY month, kind, member_code"
            )
        ).all()
    return Counter({(m, k, c): (int(e), int(q)) for m, k, c, e, q in rows})


def direct_totals(rows: list[dict]) -> Counter:
    events, quantity = Counter(), Counter()
    for row in rows:
        key = (local_month(row["occurred_at"]), row["kind"], row["member_code"] or "")
        events[key] += 1
        quantity[key] += row["quantity"]
    return Counter({key: (events[key], quantity[key]) for key in events})


def test_rollup_equals_a_direct_count_of_the_event_log(db):
    rows = seed_events(db, 6000)
    with db.session() as session:
        result = rollup(session, batch=1000)  # several batches, merged by the upsert
    assert result.events == 6000 and result.late == 0
    assert rolled_up_totals(db) == direct_totals(rows)
    with db.session() as session:
        assert check_rollups(session) == []


def test_running_the_rollup_twice_never_double_counts(db):
    rows = seed_events(db, 1500)
    with db.session() as session:
        rollup(session)
    with db.session() as session:
        again = rollup(session)
    assert again.events == 0
    assert rolled_up_totals(db) == direct_totals(rows)


def test_new_events_are_added_incrementally(db):
    rows = seed_events(db, 1000, seed=1)
    with db.session() as session:
        rollup(session)
    rows += seed_events(db, 700, seed=2)
    with db.session() as session:
        assert rollup(session).events == 700
        assert check_rollups(session) == []
    assert rolled_up_totals(db) == direct_totals(rows)


def test_the_check_finds_a_tampered_rollup(db):
    seed_events(db, 300)
    with db.session() as session:
        rollup(session)
        session.execute(text("UPDATE usage_rollups SET events = events + 1 WHERE kind = 'search'"))
    with db.session() as session:
        problems = check_rollups(session)
    assert problems and all("search" in line for line in problems)


def test_months_follow_the_alliance_clock_not_utc(db):
    # 2026-06-30 20:00 UTC is already 1 July 04:00 in Shanghai.
    with db.session() as session:
        record_usage(
            session, SEARCH, member_code="ytu", occurred_at=datetime(2026, 6, 30, 20, tzinfo=UTC)
        )
    with db.session() as session:
        rollup(session)
        assert monthly_trend(session, "ytu", "searches") == [("2026-07", 1)]


def at(month: int, day: int = 10) -> datetime:
    return datetime(2026, month, day, 3, tzinfo=UTC)


def test_a_late_event_for_a_locked_month_is_counted_in_the_next_open_one(db):
    with db.session() as session:
        record_usage(
            session, ILL_FILLED, member_code="ytlib", partner_code="ytu", occurred_at=at(7)
        )
    with db.session() as session:
        rollup(session)
        lock_months(session, ["2026-07", "2026-08", "2026-09"], "2026-Q3")
    with db.session() as session:  # arrives after Q3 was locked
        record_usage(
            session,
            ILL_FILLED,
            member_code="ytlib",
            partner_code="ytu",
            occurred_at=at(8),
            ref="ill_request:42",
        )
    with db.session() as session:
        result = rollup(session)
        assert result.late == 1
        assert monthly_trend(session, "ytlib", "ill_borrowed") == [("2026-07", 1), ("2026-10", 1)]
        assert [(m, k, r) for _, m, k, r in late_events(session, "2026-10")] == [
            ("2026-08", "ill_filled", "ill_request:42")
        ]
        flagged = session.execute(
            text("SELECT month, events FROM usage_rollups WHERE late = :t"), {"t": True}
        ).all()
        assert [(m, int(n)) for m, n in flagged] == [("2026-10", 1)]
        assert check_rollups(session) == []


def test_late_months_skip_every_locked_month():
    assert late_targets({"2026-11", "2026-12", "2027-01"}) == {
        "2026-11": "2027-02",
        "2026-12": "2027-02",
        "2027-01": "2027-02",
    }


def test_figures_per_member_district_and_type(db):
    from federation.alliance import load_alliance
    from federation.members import import_alliance
    from tests.conftest import DEMO_ALLIANCE

    with db.session() as session:
        import_alliance(session, load_alliance(DEMO_ALLIANCE))
        for _ in range(3):
            record_usage(
                session, ILL_FILLED, member_code="ytlib", partner_code="ytu", occurred_at=at(5)
            )
        record_usage(
            session, ILL_FILLED, member_code="ldu", partner_code="ytlib", occurred_at=at(6)
        )
    with db.session() as session:
        rollup(session)
        by_member = figures(session, "member")
        by_type = figures(session, "type")
        by_month = figures(session, "month", Months("2026-06", "2026-06"))
    assert by_member["ytlib"]["ill_borrowed"] == 3 and by_member["ytlib"]["ill_lent"] == 1
    assert by_member["ytu"]["ill_lent"] == 3
    assert by_type["university"]["ill_lent"] == 3 and by_type["public"]["ill_borrowed"] == 3
    assert list(by_month) == ["2026-06"] and by_month["2026-06"]["ill_borrowed"] == 1


def test_an_unknown_dimension_is_refused(db):
    with db.session() as session, pytest.raises(ValueError, match="unknown dimension"):
        figures(session, "colour")


def test_an_event_committed_late_with_a_lower_id_is_not_skipped(db):
    """PostgreSQL hands out ids before commit: the roll-up waits for the slower writer."""
    import threading

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: ids are committed in order")
    slow = db.sessionmaker()
    record_usage(slow, SEARCH, member_code="ytu", occurred_at=at(7))
    slow.flush()  # id 1 taken, not committed
    with db.session() as fast:
        record_usage(fast, SEARCH, member_code="ytu", occurred_at=at(7))  # id 2, committed
    results = []

    def run():
        with db.session() as session:
            results.append(rollup(session))

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=1)
    assert worker.is_alive()  # waiting for the slow writer
    slow.commit()
    slow.close()
    worker.join(timeout=30)
    assert results and results[0].events == 2
    with db.session() as session:
        assert check_rollups(session) == []
