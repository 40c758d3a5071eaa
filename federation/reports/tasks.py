"""Scheduler entry point of the reports area: one service call per job."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from federation.reports.rollups import RefreshSummary

log = logging.getLogger("federation.reports")


def recent_months(now: datetime) -> list[str]:
    """Return last month and this month ("YYYY-MM"): late events still change last month."""
    last = (now.year - 1, 12) if now.month == 1 else (now.year, now.month - 1)
    return [f"{last[0]}-{last[1]:02d}", f"{now.year}-{now.month:02d}"]


def rollup_job() -> RefreshSummary:
    """Rebuild the report roll-up of last month and this month (scheduler job "reports:rollup")."""
    from federation.alliance import load_alliance
    from federation.db import Database
    from federation.reports.rollups import refresh_rollups
    from federation.settings import load_settings

    settings = load_settings()
    alliance = load_alliance(settings["ALLIANCE_FILE"])
    months = recent_months(datetime.now(ZoneInfo(alliance.time_zone)))
    db = Database(settings["DATABASE_URL"])
    try:
        with db.session() as session:
            summary = refresh_rollups(session, alliance, months)
    finally:
        db.dispose()
    log.info("report roll-up of %s: %d events, %d rows", months, summary.events, summary.rows)
    return summary
