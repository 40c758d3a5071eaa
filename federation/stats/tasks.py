"""Scheduler entry point of the statistics area: one service call per job."""

from __future__ import annotations

import logging

from federation.stats.rollup import RollupResult

log = logging.getLogger("federation.stats")


def rollup_job() -> RollupResult:
    """Roll up the usage events recorded since the last run (scheduler job "stats:rollup")."""
    from federation.alliance import load_alliance
    from federation.db import Database
    from federation.settings import load_settings
    from federation.stats.rollup import rollup, utc_offset_minutes

    settings = load_settings()
    offset = utc_offset_minutes(load_alliance(settings["ALLIANCE_FILE"]).time_zone)
    db = Database(settings["DATABASE_URL"])
    try:
        with db.session() as session:
            result = rollup(session, offset_minutes=offset)
    finally:
        db.dispose()
    log.info("rolled up %d usage events (%d late)", result.events, result.late)
    return result
