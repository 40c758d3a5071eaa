"""Scheduler entry points of the ILL broker (jobs ``ill:timers``, ``ill:stats``, ``ill:retention``).

Each job loads the settings and the alliance afresh, builds its own database connection and
ILL context, calls one service and logs one line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from federation.alliance import AllianceFileError, load_alliance
from federation.db import Database
from federation.settings import ConfigError, load_settings
from ill.context import IllContext, context_from_settings

log = logging.getLogger(__name__)


def timers_job() -> None:
    """Fire the ILL timers that are due (every minute)."""
    from ill.timers import run_due_timers

    _run("timers", lambda db, ctx: run_due_timers(db, ctx) + _resend_to_peers(db, ctx))


def stats_job() -> None:
    """Recount the lenders' statistics the rota ranks by (every five minutes)."""
    _run("stats", run_stats)


def run_stats(db: Database, ctx: IllContext) -> int:
    """Recount every member's lending statistics from the rota entries."""
    from ill.lenders import refresh_stats

    with db.session() as session:
        return refresh_stats(session)


def retention_job() -> None:
    """Erase reader data past its retention period (daily)."""
    _run("retention", run_retention)


def run_retention(db: Database, ctx: IllContext) -> int:
    """Erase reader data of requests closed longer ago than the retention period."""
    from ill.retention import anonymise_closed

    with db.session() as session:
        return anonymise_closed(session, ctx.now(), ctx.retention_days)


def _run(what: str, body: Callable[[Database, IllContext], Any]) -> None:
    try:
        settings = load_settings()
        alliance = load_alliance(settings["ALLIANCE_FILE"])
    except (ConfigError, AllianceFileError) as exc:
        log.error("ILL %s job not run: %s", what, exc)
        return
    db = Database(settings["DATABASE_URL"])
    try:
        ctx = context_from_settings(settings, alliance)
        _tell_peers(ctx, settings, db)
        done = body(db, ctx)
        log.info("ILL %s job: %s request(s) handled", what, done)
    finally:
        db.dispose()


def _resend_to_peers(db: Database, ctx: IllContext) -> int:
    """Send ISO 18626 peers again what they could not be reached for (when its wait is over)."""
    from ill.iso18626.resend import resend_undelivered

    return resend_undelivered(db, ctx)


def _tell_peers(ctx: IllContext, settings: dict, db: Database) -> None:
    """Send members that run their own ISO 18626 system what the timers did (e.g. re-routing)."""
    from ill.iso18626.outbox import attach

    try:
        attach(ctx, settings, database=db)
    except ConfigError as exc:  # the timers must still fire; the peers miss the news
        log.error("ILL timers will not tell ISO 18626 peers: %s", exc)
