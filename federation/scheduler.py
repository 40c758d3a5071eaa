"""Scheduler wiring: one APScheduler job per member and kind, kept in the platform's database.

``federation scheduler`` runs this in its own process, never inside web workers. Jobs live in
an SQLAlchemy job store (table ``scheduler_jobs``): a restart keeps each job's next run time
and runs a missed one late (coalesced to one run) if it is at most MISFIRE_GRACE_SECONDS late.
Job ids are ``harvest:<member>`` and ``reconcile:<member>``; job bodies are reference strings
(``harvesters.tasks:harvest_job``, so federation/ never imports harvesters/), each calling one
service. ``max_instances=1`` keeps a job from overlapping itself; the harvest engine's member
lock keeps runs of one member apart across processes; scheduler_lock allows one scheduler.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from federation.alliance import Alliance, schedule_trigger
from federation.db import Database
from federation.locks import process_lock

JOB_STORE_TABLE = "scheduler_jobs"
HARVEST_JOB = "harvesters.tasks:harvest_job"
RECONCILE_JOB = "harvesters.tasks:reconcile_job"
MANAGED_PREFIXES = ("harvest:", "reconcile:")
# Weekly, early Sunday morning in the alliance's time zone, after the nightly harvests.
DEFAULT_RECONCILE_SCHEDULE = "0 5 * * sun"
# A run held up by a restart or by busy workers still happens if it is this late at most;
# later than that it waits for its next time (an incremental harvest then catches up).
MISFIRE_GRACE_SECONDS = 6 * 3600
DEFAULT_WORKERS = 8
# Alliance-wide jobs of other areas (id, "module:function" called without arguments, schedule in
# the alliance's time zone). Their state lives in the database, so a restart loses nothing.
FIXED_JOBS: tuple[tuple[str, str, str], ...] = (
    ("ill:timers", "ill.tasks:timers_job", "every 1m"),  # ILL deadlines, due dates, recalls
    ("ill:stats", "ill.tasks:stats_job", "every 5m"),  # lenders' fill rate, speed, balance
    ("ill:retention", "ill.tasks:retention_job", "15 3 * * *"),  # erase old reader data
    ("stats:rollup", "federation.stats.tasks:rollup_job", "every 1h"),  # usage roll-ups
    ("reports:rollup", "federation.reports.tasks:rollup_job", "45 3 * * *"),  # after stats
)


class SchedulerError(Exception):
    """The scheduler cannot start; the message says what to do."""


@dataclass(frozen=True)
class PlannedJob:
    """A job the alliance file asks for."""

    id: str
    func: str  # "module:function", called with the member code
    member_code: str
    schedule: str  # as written: crontab or "every 6h"
    trigger: Any  # an APScheduler trigger in the alliance's time zone

    @property
    def name(self) -> str:
        return f"{self.id} ({self.schedule})"


def plan_jobs(
    alliance: Alliance,
    *,
    reconcile_schedule: str = DEFAULT_RECONCILE_SCHEDULE,
    harvest_func: str = HARVEST_JOB,
    reconcile_func: str = RECONCILE_JOB,
) -> list[PlannedJob]:
    """Return a harvest and a reconcile job for every member of the alliance.

    Every member gets a reconcile job: whether its server keeps deletions (deletedRecord
    "persistent") is asked at run time, and reconcile_member does nothing when it does.
    """
    tz = alliance.time_zone
    jobs = []
    for member in alliance.members:
        for kind, func, schedule in (
            ("harvest", harvest_func, member.oai.schedule),
            ("reconcile", reconcile_func, reconcile_schedule),
        ):
            trigger = schedule_trigger(schedule, tz)
            jobs.append(PlannedJob(f"{kind}:{member.code}", func, member.code, schedule, trigger))
    return jobs


class _NoRoundAfterShutdown:
    """Skip the round of due jobs APScheduler 3 runs once more after shutdown().

    With the executors closed that round fails to start the due jobs, yet still moves their
    next run times on: a run due at that moment would be lost instead of caught up.
    """

    def _process_jobs(self):
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()


class _Blocking(_NoRoundAfterShutdown, BlockingScheduler):
    pass


class _Background(_NoRoundAfterShutdown, BackgroundScheduler):
    pass


class _StoreEditor(BackgroundScheduler):
    """A scheduler that never runs a job: it only reads and changes the job store."""

    def _process_jobs(self):
        return None


def build_scheduler(
    db: Database,
    time_zone: str,
    *,
    blocking: bool = True,
    workers: int = DEFAULT_WORKERS,
    kind: type[BaseScheduler] | None = None,
    logger: logging.Logger | None = None,
) -> BaseScheduler:
    """Build a scheduler whose jobs are kept in the platform's database (not started)."""
    kind = kind or (_Blocking if blocking else _Background)
    return kind(
        logger=logger or logging.getLogger("apscheduler.scheduler"),
        jobstores={"default": SQLAlchemyJobStore(engine=db.engine, tablename=JOB_STORE_TABLE)},
        executors={"default": {"type": "threadpool", "max_workers": workers}},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
        timezone=ZoneInfo(time_zone),
    )


@dataclass
class SyncReport:
    """Job ids added, changed (new schedule), removed and left as they were."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.changed)} changed, "
            f"{len(self.removed)} removed, {len(self.unchanged)} unchanged"
        )


def sync_jobs(scheduler: BaseScheduler, plan: Iterable[PlannedJob]) -> SyncReport:
    """Make the job store hold exactly the planned harvest and reconcile jobs.

    A job whose function, member and schedule are unchanged is left alone: replacing it
    would move its next run time to the future and so forget a run missed while the
    scheduler was down. Jobs of members gone from the alliance file are removed; jobs
    with other prefixes (other areas' jobs) are not touched. The scheduler must be started
    (paused is fine) so that its job store is open.
    """
    report = SyncReport()
    stored = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(MANAGED_PREFIXES)}
    for planned in plan:
        current = stored.pop(planned.id, None)
        if current is not None and _same_job(current, planned):
            report.unchanged.append(planned.id)
            continue
        (report.added if current is None else report.changed).append(planned.id)
        _add(scheduler, planned)
    for job_id in sorted(stored):
        report.removed.append(job_id)
        scheduler.remove_job(job_id)
    return report


def _add(scheduler: BaseScheduler, planned: PlannedJob) -> None:
    scheduler.add_job(
        planned.func,
        trigger=planned.trigger,
        args=[planned.member_code],
        id=planned.id,
        name=planned.name,
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
    )


def _same_job(job, planned: PlannedJob) -> bool:
    """Tell whether a stored job already does what the plan asks, on the same schedule."""
    return (
        job.func_ref == planned.func
        and tuple(job.args) == (planned.member_code,)
        and not job.kwargs
        and job.name == planned.name
        and job.coalesce is True
        and job.max_instances == 1
        and job.misfire_grace_time == MISFIRE_GRACE_SECONDS
        and _same_trigger(job.trigger, planned.trigger)
    )


def _same_trigger(a: Any, b: Any) -> bool:
    if type(a) is not type(b) or str(a.timezone) != str(b.timezone):
        return False
    if isinstance(a, IntervalTrigger):
        # Its start date is "now + interval" when built, so only the interval counts.
        return a.interval == b.interval
    return str(a) == str(b)


def sync_fixed_jobs(
    scheduler: BaseScheduler, time_zone: str, jobs: Iterable[tuple[str, str, str]] = FIXED_JOBS
) -> list[str]:
    """Add the alliance-wide jobs missing from the store (or stored with another schedule).

    A job already stored as planned is left alone, keeping its next run time across restarts.
    """
    stored = {job.id: job for job in scheduler.get_jobs()}
    added = []
    for job_id, func, schedule in jobs:
        trigger = schedule_trigger(schedule, time_zone)
        name = f"{job_id} ({schedule})"
        job = stored.get(job_id)
        if job is not None and job.func_ref == func and job.name == name:
            continue
        scheduler.add_job(
            func,
            trigger=trigger,
            id=job_id,
            name=name,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=MISFIRE_GRACE_SECONDS,
        )
        added.append(job_id)
    return added


@dataclass(frozen=True)
class JobLine:
    """One job as `federation scheduler --list` shows it."""

    id: str
    schedule: str
    next_run: dt.datetime | None  # in the alliance's time zone
    note: str = ""  # "" | "new" | "schedule changed" | "member left the alliance"

    def render(self) -> str:
        when = f"{self.next_run:%Y-%m-%d %H:%M %Z}" if self.next_run else "paused"
        note = f"  ({self.note}; applied when the scheduler starts)" if self.note else ""
        return f"{self.id:<28} {when:<22} {self.schedule}{note}"


def describe_jobs(
    scheduler: BaseScheduler, plan: list[PlannedJob], time_zone: str
) -> list[JobLine]:
    """List every planned job with its next run time, and stored jobs that would be removed."""
    tz = ZoneInfo(time_zone)
    now = dt.datetime.now(tz)
    stored = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(MANAGED_PREFIXES)}
    lines = []
    for planned in plan:
        job = stored.pop(planned.id, None)
        if job is not None and _same_job(job, planned):
            when, note = job.next_run_time, ""
        else:
            when = planned.trigger.get_next_fire_time(None, now)
            note = "new" if job is None else "schedule changed"
        lines.append(JobLine(planned.id, planned.schedule, when and when.astimezone(tz), note))
    for job_id, job in sorted(stored.items()):
        when = job.next_run_time and job.next_run_time.astimezone(tz)
        lines.append(JobLine(job_id, str(job.trigger), when, "member left the alliance"))
    return lines


# -- one scheduler per database --------------------------------------------------------------------


class SchedulerLocked(SchedulerError):
    """Another `federation scheduler` already runs on this database."""


@contextmanager
def scheduler_lock(db: Database) -> Iterator[None]:
    """Hold the database's scheduler lock; raise SchedulerLocked when another process has it.

    Two schedulers on one job store would both run every job. The lock dies with its holder
    (see federation.locks), even after SIGKILL.
    """
    with process_lock(db, "scheduler", lambda holder: SchedulerLocked(_locked_message(holder))):
        yield


def _locked_message(holder: str) -> str:
    return (
        f"a scheduler already runs on this database ({holder}); stop it first, "
        "or use `federation scheduler --list` to see its jobs"
    )


# -- the process -----------------------------------------------------------------------------------


def open_store(db: Database, time_zone: str) -> BaseScheduler:
    """Open the job store through a scheduler that never runs jobs (shut it down after use)."""
    quiet = logging.getLogger("federation.scheduler.store")
    quiet.setLevel(logging.WARNING)  # its "started", "added job" lines would read as the real ones
    scheduler = build_scheduler(db, time_zone, workers=1, kind=_StoreEditor, logger=quiet)
    scheduler.start(paused=True)
    return scheduler


def list_jobs(
    db: Database, alliance: Alliance, *, reconcile_schedule: str = DEFAULT_RECONCILE_SCHEDULE
) -> list[JobLine]:
    """Describe the jobs as the store holds them and as the alliance file asks (read-only)."""
    plan = plan_jobs(alliance, reconcile_schedule=reconcile_schedule)
    store = open_store(db, alliance.time_zone)
    try:
        return describe_jobs(store, plan, alliance.time_zone)
    finally:
        store.shutdown(wait=False)


def run_scheduler(
    db: Database,
    alliance: Alliance,
    *,
    reconcile_schedule: str = DEFAULT_RECONCILE_SCHEDULE,
    workers: int = DEFAULT_WORKERS,
    echo: Callable[[str], None] = print,
) -> None:
    """Sync the jobs with the alliance file, then run them until SIGINT or SIGTERM."""
    plan = plan_jobs(alliance, reconcile_schedule=reconcile_schedule)
    with scheduler_lock(db):
        store = open_store(db, alliance.time_zone)
        try:
            echo(f"Jobs: {sync_jobs(store, plan).summary()}.")
            fixed = sync_fixed_jobs(store, alliance.time_zone)
            echo(f"Alliance-wide jobs: {', '.join(fixed) or 'none'} added or changed.")
            for line in describe_jobs(store, plan, alliance.time_zone):
                echo("  " + line.render())
        finally:
            store.shutdown(wait=False)
        scheduler = build_scheduler(db, alliance.time_zone, workers=workers)
        _stop_on_signals(scheduler, echo)
        echo(f"Scheduler running ({workers} workers, times in {alliance.time_zone}); Ctrl-C stops.")
        scheduler.start()  # returns once a signal has shut it down


def _stop_on_signals(scheduler: BaseScheduler, echo: Callable[[str], None]) -> None:
    """First signal: start no new job, let running ones finish. Second: exit at once."""
    stopping = False

    def handle(signum: int, _frame) -> None:
        nonlocal stopping
        if stopping:
            echo("Stopping now; interrupted harvests resume from their checkpoint next time.")
            os._exit(128 + signum)
        stopping = True
        echo("Stopping: waiting for running jobs to finish (signal again to stop at once).")
        # From another thread: the handler may have interrupted the scheduler's own loop,
        # which holds the job-store lock that shutdown() needs.
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": False}).start()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def check_database(db: Database, alliance: Alliance) -> None:
    """Raise SchedulerError unless the database is migrated and holds every alliance member."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from federation.models import Member

    head = ScriptDirectory.from_config(db.alembic_config()).get_current_head()
    try:
        revision = db.current_revision()
        if revision != head:
            raise SchedulerError(
                f"the database is at revision {revision or 'none'}, not {head}; "
                "run `federation db upgrade`"
            )
        with db.session() as session:
            known = set(session.scalars(select(Member.code)))
    except SQLAlchemyError as exc:
        first = (str(getattr(exc, "orig", exc)).strip().splitlines() or [type(exc).__name__])[0]
        raise SchedulerError(f"cannot read the database ({first})") from None
    missing = [m.code for m in alliance.members if m.code not in known]
    if missing:
        raise SchedulerError(
            f"member(s) {', '.join(missing)} of the alliance file are not in the database; "
            "run `federation members import`"
        )


def check_schedule(schedule: str) -> str:
    """Return a schedule as the alliance file would accept it, or raise SchedulerError."""
    from marshmallow import ValidationError

    from federation.alliance.fields import Schedule

    try:
        return Schedule().deserialize(schedule)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, list) else [str(exc.messages)]
        raise SchedulerError(f"reconcile schedule: {' '.join(map(str, messages))}") from None
