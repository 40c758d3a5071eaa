"""Scheduler entry points: what the jobs of `federation scheduler` call, by reference string.

Each job loads the settings and the alliance file afresh (so an edited endpoint address is
used at the next run), builds its own database connection, calls one service and logs
one line. A harvest failure is recorded on its run by the service; here a job only logs.

After each run, what it changed in the record store is re-clustered and written to the
search index (``index_harvested``), so readers find a harvested title without waiting for a
rebuild. A failure there is logged; the index queue keeps the clusters for the next pass.

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
After = Callable[[Database, dict[str, Any], Any], None]  # (db, settings, summary)
LOCK_WAIT = 3 * 3600.0  # seconds a job waits for another run of its member to finish
LOCK_POLL = 60.0  # seconds between two attempts to take the member's lock


def harvest_job(member_code: str) -> None:
    """Harvest one member incrementally (the body of job ``harvest:<member>``)."""
    from harvesters.services import harvest_member

    run_service("harvest", member_code, harvest_member, after=index_harvested)


def reconcile_job(member_code: str) -> None:
    """Reconcile one member's deletions with ListIdentifiers (job ``reconcile:<member>``)."""
    from harvesters.services import reconcile_member

    run_service("reconcile", member_code, reconcile_member, after=index_harvested)


def run_service(
    what: str,
    member_code: str,
    service: Service,
    *,
    lock_wait: float = LOCK_WAIT,
    sleep: Callable[[float], None] = time.sleep,
    after: After | None = None,
) -> None:
    """Load settings and alliance, call ``service(db, member, settings=...)``, log the outcome.

    ``after(db, settings, summary)`` runs once the service returned (the index update).
    """
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
        _log_summary(summary)
        if after is not None:
            after(db, settings, summary)
    except HarvestLocked as exc:
        log.warning("%s of %s skipped after waiting %.0f s: %s", what, member_code, lock_wait, exc)
    except UnknownMember as exc:
        # Removed from the alliance (or never imported) while its job still runs: nothing to do.
        log.warning("%s of %s skipped: %s", what, member_code, exc)
    finally:
        db.dispose()


def index_harvested(db: Database, settings: dict[str, Any], summary) -> None:
    """Re-cluster the records a run changed and write their clusters to the search index."""
    from search.backends import backend_from_settings
    from search.indexing import index_changes_since
    from search.interfaces import SearchBackendError

    if summary.started_at is None:  # the run never started: nothing changed
        return
    try:
        backend = backend_from_settings(settings)
        try:
            report = index_changes_since(db, backend, summary.started_at)
        finally:
            backend.close()
    except SearchBackendError as exc:
        # The re-clustering committed its queue first: `federation index update` (or the
        # next run) writes what is missing.
        log.error("index update after %s of %s failed: %s", summary.kind, summary.member_code, exc)
        return
    log.info(
        "index after %s of %s: %d cluster(s) written, %d removed",
        summary.kind, summary.member_code, report.upserted, report.deleted,
    )  # fmt: skip


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
