"""Roll usage events up into monthly counts: incremental, idempotent, set-based SQL.

The roll-up reads only events above its high-water mark (usage_events.id), sums them with one
GROUP BY per batch and adds the sums to ``usage_rollups`` with an upsert; the mark moves in the
same transaction, so running it twice never counts an event twice. An event whose month is
locked (its settlement period is final) is counted in the next open month and flagged ``late``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from federation.models import utcnow

log = logging.getLogger("federation.stats")

STATE = "usage_events"
BATCH = 2_000_000
KEY = "month, kind, member_code, partner_code, region_code, clc, simulated, late"


@dataclass(frozen=True)
class RollupResult:
    """What one roll-up run read: the id range, how many events and how many came late."""

    from_id: int
    to_id: int
    events: int
    late: int


def utc_offset_minutes(time_zone: str) -> int:
    """Return the zone's current UTC offset in minutes (months follow the alliance's clock)."""
    # Fixed offset: Asia/Shanghai and most alliance zones have no daylight saving time.
    offset = dt.datetime.now(ZoneInfo(time_zone)).utcoffset() or dt.timedelta(0)
    return int(offset.total_seconds() // 60)


def month_expression(dialect: str, offset_minutes: int, column: str = "occurred_at") -> str:
    """Return SQL that turns a UTC timestamp column into 'YYYY-MM' on the alliance's clock."""
    minutes = int(offset_minutes)  # an int from our own settings, never user text
    if dialect != "sqlite":
        return f"to_char({month_key(dialect, minutes, column)}, 'YYYY-MM')"
    return month_key(dialect, minutes, column)


def month_key(dialect: str, offset_minutes: int, column: str = "occurred_at") -> str:
    """Return the cheapest SQL that groups a UTC timestamp by the alliance's month."""
    minutes = int(offset_minutes)
    if dialect != "sqlite":
        # date_trunc on a plain timestamp groups faster than formatting every row as text.
        return (
            f"date_trunc('month', ({column} AT TIME ZONE 'UTC') + make_interval(mins => {minutes}))"
        )
    shifted = f"strftime('%Y-%m', {column}, '{minutes:+d} minutes')"
    # SQLite stores 'YYYY-MM-DD HH:MM:SS': only the hours next to a month's end change month,
    # so the costly date arithmetic runs for those rows alone.
    if minutes > 0:
        edge = f"{(24 * 60 - minutes) // 60:02d}:{(24 * 60 - minutes) % 60:02d}"
        near = f"substr({column}, 9, 2) >= '28' AND substr({column}, 12, 5) >= '{edge}'"
    elif minutes < 0:
        edge = f"{-minutes // 60:02d}:{-minutes % 60:02d}"
        near = f"substr({column}, 9, 2) = '01' AND substr({column}, 12, 5) < '{edge}'"
    else:
        return f"substr({column}, 1, 7)"
    return f"CASE WHEN {near} THEN {shifted} ELSE substr({column}, 1, 7) END"


def next_month(month: str) -> str:
    """Return the month after 'YYYY-MM'."""
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


def late_targets(locked: set[str]) -> dict[str, str]:
    """Map every locked month to the first open month after it."""
    targets = {}
    for month in locked:
        target = next_month(month)
        while target in locked:
            target = next_month(target)
        targets[month] = target
    return targets


def _quote(month: str) -> str:
    if len(month) != 7 or not (month[:4] + month[5:]).isdigit() or month[4] != "-":
        raise ValueError(f"not a month: {month!r}")
    return f"'{month}'"


def _counted_sql(targets: dict[str, str]) -> tuple[str, str]:
    """Return SQL for (counted month, late flag) of a row whose month is column ``m``."""
    if not targets:
        return "m", "false"
    cases = " ".join(f"WHEN {_quote(k)} THEN {_quote(v)}" for k, v in sorted(targets.items()))
    listed = ", ".join(_quote(k) for k in sorted(targets))
    return f"CASE m {cases} ELSE m END", f"(m IN ({listed}))"


def _claim_state(session: Session) -> int:
    """Take the roll-up's lock (a write on its state row) and return the high-water mark."""
    session.execute(
        text(
            "INSERT INTO stats_rollup_state (name, last_event_id, updated_at) "
            "VALUES (:name, 0, :now) ON CONFLICT (name) DO NOTHING"
        ),
        {"name": STATE, "now": utcnow()},
    )
    # Writing first serialises concurrent roll-ups on SQLite and PostgreSQL alike.
    session.execute(
        text("UPDATE stats_rollup_state SET updated_at = :now WHERE name = :name"),
        {"name": STATE, "now": utcnow()},
    )
    return session.execute(
        text("SELECT last_event_id FROM stats_rollup_state WHERE name = :name"), {"name": STATE}
    ).scalar_one()


def _source(dialect: str, offset: int, counted: str, late: str) -> str:
    """Return SQL for the batch's sums: grouped on the raw columns first, formatted after."""
    key = month_key(dialect, offset)
    month = "to_char(mk, 'YYYY-MM')" if dialect != "sqlite" else "mk"
    # Grouping the raw columns first keeps per-row work to one month key; the COALESCEs and
    # the late-month CASE then run on a few thousand sums instead of millions of events.
    inner = (
        f"SELECT {key} AS mk, kind, member_code, partner_code, region_code, "  # noqa: S608
        "SUBSTR(clc_class, 1, 1) AS c1, simulated, COUNT(*) AS n, SUM(quantity) AS q, "
        "SUM(value) AS vs, COUNT(value) AS vn FROM usage_events "
        "WHERE id > :lo AND id <= :hi GROUP BY 1, 2, 3, 4, 5, 6, 7"
    )
    formatted = (
        f"SELECT {month} AS m, kind, COALESCE(member_code, '') AS member_code, "  # noqa: S608
        "COALESCE(partner_code, '') AS partner_code, COALESCE(region_code, '') AS region_code, "
        f"UPPER(COALESCE(c1, '')) AS clc, simulated, n, q, vs, vn FROM ({inner}) AS agg"
    )
    return (
        f"SELECT {counted} AS month, kind, member_code, partner_code, region_code, clc, "  # noqa: S608
        f"simulated, {late} AS late, n, q, vs, vn FROM ({formatted}) AS fm"
    )


def _add_batch(session: Session, offset: int, targets: dict[str, str], lo: int, hi: int) -> None:
    dialect = session.get_bind().dialect.name
    counted, late = _counted_sql(targets)
    if targets:
        session.execute(
            text(
                "INSERT INTO stats_late_events (event_id, occurred_month, counted_month) "  # noqa: S608
                f"SELECT id, m, {counted} FROM (SELECT id, "
                f"{month_expression(dialect, offset)} AS m FROM usage_events "
                f"WHERE id > :lo AND id <= :hi) AS ev WHERE {late}"
            ),
            {"lo": lo, "hi": hi},
        )
    session.execute(
        text(
            f"INSERT INTO usage_rollups ({KEY}, events, quantity, value_sum, value_count) "  # noqa: S608
            f"SELECT {KEY}, SUM(n), SUM(q), COALESCE(SUM(vs), 0), SUM(vn) "
            f"FROM ({_source(dialect, offset, counted, late)}) AS src WHERE true GROUP BY {KEY} "
            f"ON CONFLICT ({KEY}) DO UPDATE SET "
            "events = usage_rollups.events + excluded.events, "
            "quantity = usage_rollups.quantity + excluded.quantity, "
            "value_sum = usage_rollups.value_sum + excluded.value_sum, "
            "value_count = usage_rollups.value_count + excluded.value_count"
        ),
        {"lo": lo, "hi": hi},
    )


def rollup(session: Session, *, offset_minutes: int = 480, batch: int = BATCH) -> RollupResult:
    """Add every event recorded since the last run to the monthly roll-ups (caller commits)."""
    lo = _claim_state(session)
    hi = _safe_max_id(session)
    if hi <= lo:
        return RollupResult(lo, lo, 0, 0)
    locked = set(session.execute(text("SELECT month FROM stats_locked_months")).scalars())
    targets = late_targets(locked)
    if session.get_bind().dialect.name == "postgresql":
        # Room to hash the month's groups in memory instead of spilling sorts to disk.
        session.execute(text("SET LOCAL work_mem = '256MB'"))
    late_before = _late_count(session)
    for start in range(lo, hi, batch):
        _add_batch(session, offset_minutes, targets, start, min(start + batch, hi))
    session.execute(
        text("UPDATE stats_rollup_state SET last_event_id = :hi WHERE name = :name"),
        {"hi": hi, "name": STATE},
    )
    events = session.execute(
        text("SELECT COUNT(*) FROM usage_events WHERE id > :lo AND id <= :hi"), {"lo": lo, "hi": hi}
    ).scalar_one()
    return RollupResult(lo, hi, events, _late_count(session) - late_before)


def _safe_max_id(session: Session) -> int:
    """Return the highest event id below which every event is committed.

    On PostgreSQL ids are handed out before commit, so a slow transaction may commit id 7 after
    id 8 is visible; reading max(id) then would skip 7 for ever. A SHARE lock, taken and released
    on a connection of its own, waits for every transaction still inserting events.
    """
    bind = session.get_bind()
    if bind.dialect.name != "postgresql" or not isinstance(bind, Engine):
        return session.execute(text("SELECT MAX(id) FROM usage_events")).scalar() or 0
    try:
        with bind.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '30s'"))
            conn.execute(text("LOCK TABLE usage_events IN SHARE MODE"))
            return conn.execute(text("SELECT MAX(id) FROM usage_events")).scalar() or 0
    except OperationalError:
        log.warning("usage_events stayed locked for 30 s; rolling up to the visible maximum id")
        return session.execute(text("SELECT MAX(id) FROM usage_events")).scalar() or 0


def _late_count(session: Session) -> int:
    return session.execute(text("SELECT COUNT(*) FROM stats_late_events")).scalar_one()


def high_water_mark(session: Session) -> int:
    """Return the id of the last usage event the roll-ups have counted."""
    found = session.execute(
        text("SELECT last_event_id FROM stats_rollup_state WHERE name = :name"), {"name": STATE}
    ).scalar()
    return found or 0


def lock_months(session: Session, months: list[str], period: str) -> None:
    """Mark months final: later events for them are counted in the next open month."""
    existing = set(session.execute(text("SELECT month FROM stats_locked_months")).scalars())
    for month in months:
        if month not in existing:
            session.execute(
                text(
                    "INSERT INTO stats_locked_months (month, period, locked_at) "
                    "VALUES (:m, :p, :now)"
                ),
                {"m": _quote(month).strip("'"), "p": period, "now": utcnow()},
            )
