"""Scheduler entry points: what the jobs of `federation scheduler` call, by reference string.

Each job loads the settings and the alliance file afresh (so an edited endpoint address is
used at the next run), builds its own database connection, calls one service and logs
one line. A harvest failure is recorded on its run by the service; here a job only logs.

When another run of the member holds its lock (the weekly reconciliation firing while the
nightly harvest runs, or a harvest started by hand), the job waits for it, up to LOCK_WAIT
seconds, instead of skipping a week.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from federation.alliance import AllianceFileError, Member, load_alliance
from federation.db import Database
from federation.settings import ConfigError, load_settings
from harvesters.errors import HarvestLocked, UnknownMember

log = logging.getLogger(__name__)

Service = Callable[..., object]  # (db, member, *, settings) -> RunSummary
LOCK_WAIT = 3 * 3600.0  # seconds a job waits for another run of its member to finish
LOCK_POLL = 60.0  # seconds between two attempts to take the member's lock


def harvest_job(member_code: str) -> None:
    """Harvest one member incrementally (the body of job ``harvest:<member>``)."""
    from harvesters.services import harvest_member

    run_service("harvest", member_code, harvest_member)


def reconcile_job(member_code: str) -> None:
    """Reconcile one member's deletions with ListIdentifiers (job ``reconcile:<member>``)."""
    from harvesters.services import reconcile_member

    run_service("reconcile", member_code, reconcile_member)


def run_service(
    what: str,
    member_code: str,
    service: Service,
    *,
    lock_wait: float = LOCK_WAIT,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Load settings and alliance, call ``service(db, member, settings=...)``, log the outcome."""
    loaded = _load(what, member_code)
    if loaded is None:
        return
    settings, member = loaded
    db = Database(settings["DATABASE_URL"])
    try:
        summary = _when_unlocked(
            lambda: service(db, member, settings=settings),
            f"{what} of {member_code}",
            lock_wait,
            sleep,
        )
    except HarvestLocked as exc:
        log.warning("%s of %s skipped after waiting %.0f s: %s", what, member_code, lock_wait, exc)
        return
    except UnknownMember as exc:
        # Removed from the alliance (or never imported) while its job still runs: nothing to do.
        log.warning("%s of %s skipped: %s", what, member_code, exc)
        return
    finally:
        db.dispose()
    _log_summary(summary)


def _load(what: str, member_code: str) -> tuple[dict[str, Any], Member] | None:
    """Return the settings and the member, or log why the job cannot run and return None."""
    try:
        settings = load_settings()
        alliance = load_alliance(settings["ALLIANCE_FILE"])
    except (ConfigError, AllianceFileError) as exc:
        log.error("%s of %s not started: %s", what, member_code, exc)
        return None
    try:
        return settings, alliance.member(member_code)
    except KeyError:
        log.warning(
            "%s of %s skipped: the member is no longer in %s (restart the scheduler to drop "
            "its jobs)",
            what,
            member_code,
            settings["ALLIANCE_FILE"],
        )
        return None


def _when_unlocked(call: Callable[[], object], label: str, lock_wait: float, sleep) -> object:
    """Call until it does not raise HarvestLocked, waiting LOCK_POLL between tries."""
    waited = 0.0
    while True:
        try:
            return call()
        except HarvestLocked:
            if waited >= lock_wait:
                raise
            log.info("%s waits: another run of the member holds its lock", label)
            pause = min(LOCK_POLL, lock_wait - waited)
            sleep(pause)
            waited += pause


def _log_summary(summary) -> None:
    from harvesters.services import format_summary

    level = logging.INFO if summary.ok else logging.WARNING
    log.log(level, "%s", format_summary(summary))
