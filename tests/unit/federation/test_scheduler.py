"""The scheduler: one job per member and kind, kept in the database, never overlapping itself.

Real APScheduler on the real test database (SQLite, or PostgreSQL with TEST_DATABASE_URL).
Job bodies are stand-ins defined here, named by reference string like the real ones.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import queue
import subprocess
import sys
import threading
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from federation.alliance import load_alliance
from federation.members import import_alliance
from federation.scheduler import (
    SchedulerLocked,
    build_scheduler,
    open_store,
    plan_jobs,
    scheduler_lock,
    sync_jobs,
)
from tests.conftest import DEMO_ALLIANCE, REPO_ROOT

SHANGHAI = ZoneInfo("Asia/Shanghai")
WAIT = 30  # seconds before a test gives up waiting for the scheduler (never reached when it works)
HERE = __name__  # the stand-in job bodies below, as the job store names them

# -- stand-in job bodies ---------------------------------------------------------------------------

calls: list[str] = []
running = 0
peak = 0
started = threading.Event()
release = threading.Event()
_guard = threading.Lock()


def record_job(member_code: str) -> None:
    """Note that a job ran."""
    calls.append(member_code)


def blocking_job(member_code: str) -> None:
    """Run until the test releases it, counting how many run at once."""
    global running, peak
    with _guard:
        running += 1
        peak = max(peak, running)
    started.set()
    try:
        release.wait(WAIT)
    finally:
        with _guard:
            running -= 1
    calls.append(member_code)


@pytest.fixture(autouse=True)
def _fresh_stand_ins():
    global running, peak
    calls.clear()
    running = peak = 0
    started.clear()
    release.clear()
    yield
    release.set()  # never leave a worker thread blocked


# -- helpers ---------------------------------------------------------------------------------------


@pytest.fixture
def alliance():
    return load_alliance(DEMO_ALLIANCE)


@pytest.fixture
def store(db, alliance):
    """A paused scheduler on the test database's job store."""
    scheduler = open_store(db, alliance.time_zone)
    yield scheduler
    scheduler.shutdown(wait=False)


def with_schedule(alliance, code: str, schedule: str):
    """Return the alliance with one member's harvest schedule changed."""
    members = tuple(
        dataclasses.replace(m, oai=dataclasses.replace(m.oai, schedule=schedule))
        if m.code == code
        else m
        for m in alliance.members
    )
    return dataclasses.replace(alliance, members=members)


def jobs_by_id(scheduler) -> dict:
    return {job.id: job for job in scheduler.get_jobs()}


def wait_for(scheduler, mask: int) -> queue.Queue:
    """Return a queue that receives the scheduler's events of the kinds in ``mask``."""
    events: queue.Queue = queue.Queue()
    scheduler.add_listener(events.put, mask)
    return events


# -- the jobs the alliance file asks for -----------------------------------------------------------


def test_every_member_gets_a_harvest_and_a_reconcile_job(store, alliance):
    report = sync_jobs(store, plan_jobs(alliance))
    jobs = jobs_by_id(store)
    codes = [m.code for m in alliance.members]
    assert set(jobs) == {f"{kind}:{code}" for code in codes for kind in ("harvest", "reconcile")}
    assert sorted(report.added) == sorted(jobs) and not report.removed
    for code in codes:
        assert jobs[f"harvest:{code}"].func_ref == "harvesters.tasks:harvest_job"
        assert jobs[f"reconcile:{code}"].func_ref == "harvesters.tasks:reconcile_job"
        assert jobs[f"harvest:{code}"].args == (code,)
    for job in jobs.values():
        assert job.max_instances == 1 and job.coalesce is True and job.misfire_grace_time > 0


def test_triggers_follow_the_schedules_in_the_alliance_time_zone(store, alliance):
    sync_jobs(store, plan_jobs(alliance))
    jobs = jobs_by_id(store)
    nightly = jobs["harvest:ytu"]  # "30 1 * * *"
    assert isinstance(nightly.trigger, CronTrigger)
    assert nightly.trigger.timezone == SHANGHAI
    local = nightly.next_run_time.astimezone(SHANGHAI)
    assert (local.hour, local.minute) == (1, 30)
    assert dt.timedelta(0) < nightly.next_run_time - dt.datetime.now(SHANGHAI) <= dt.timedelta(1)
    sundays = jobs["harvest:xingfu-cl"].next_run_time.astimezone(SHANGHAI)  # "0 3 * * sun"
    assert (sundays.weekday(), sundays.hour, sundays.minute) == (6, 3, 0)
    every_6h = jobs["harvest:ytlib"].trigger  # "every 6h"
    assert isinstance(every_6h, IntervalTrigger)
    assert every_6h.interval == dt.timedelta(hours=6)
    weekly = jobs["reconcile:ytu"].next_run_time.astimezone(SHANGHAI)
    assert (weekly.weekday(), weekly.hour, weekly.minute) == (6, 5, 0)


def test_setting_up_again_changes_nothing(store, alliance):
    sync_jobs(store, plan_jobs(alliance))
    before = {job.id: job.next_run_time for job in store.get_jobs()}
    again = sync_jobs(store, plan_jobs(alliance))
    assert again.added == again.changed == again.removed == []
    assert len(again.unchanged) == 2 * len(alliance.members)
    # The interval job too: replacing it would have moved its next run.
    assert {job.id: job.next_run_time for job in store.get_jobs()} == before


def test_jobs_of_members_gone_from_the_alliance_file_are_removed(store, alliance):
    sync_jobs(store, plan_jobs(alliance))
    store.add_job(f"{HERE}:record_job", "interval", hours=1, id="index:rebuild", args=["all"])
    gone, kept = alliance.members[:2], alliance.members[2:]
    report = sync_jobs(store, plan_jobs(dataclasses.replace(alliance, members=kept)))
    expected = sorted(f"{kind}:{m.code}" for m in gone for kind in ("harvest", "reconcile"))
    assert report.removed == expected
    jobs = jobs_by_id(store)
    assert not set(expected) & set(jobs)
    assert {f"harvest:{m.code}" for m in kept} <= set(jobs)
    assert "index:rebuild" in jobs  # another area's job is not ours to remove


def test_a_changed_schedule_is_applied(store, alliance):
    sync_jobs(store, plan_jobs(alliance))
    report = sync_jobs(store, plan_jobs(with_schedule(alliance, "ytu", "0 6 * * *")))
    assert report.changed == ["harvest:ytu"]
    local = jobs_by_id(store)["harvest:ytu"].next_run_time.astimezone(SHANGHAI)
    assert (local.hour, local.minute) == (6, 0)


def test_a_reconcile_schedule_can_be_chosen(store, alliance):
    sync_jobs(store, plan_jobs(alliance, reconcile_schedule="0 22 * * wed"))
    local = jobs_by_id(store)["reconcile:ldu"].next_run_time.astimezone(SHANGHAI)
    assert (local.weekday(), local.hour) == (2, 22)


# -- persistence and misfires ----------------------------------------------------------------------


def test_jobs_persist_across_two_scheduler_instances(db, alliance):
    first = open_store(db, alliance.time_zone)
    sync_jobs(first, plan_jobs(alliance))
    missed = dt.datetime.now(SHANGHAI) - dt.timedelta(hours=1)
    first.modify_job("harvest:ldu", next_run_time=missed)  # as if the process died at 01:00
    saved = {job.id: (job.next_run_time, str(job.trigger)) for job in first.get_jobs()}
    first.shutdown(wait=False)

    second = open_store(db, alliance.time_zone)
    try:
        assert {job.id: (job.next_run_time, str(job.trigger)) for job in second.get_jobs()} == saved
        report = sync_jobs(second, plan_jobs(alliance))
        assert report.added == report.changed == []
        # Still due: the run missed while the scheduler was down is not forgotten by a restart.
        assert jobs_by_id(second)["harvest:ldu"].next_run_time == missed
    finally:
        second.shutdown(wait=False)


def _stand_in_plan(alliance, func: str, schedules: dict[str, str]):
    """Plan only the harvest jobs of some members, on new schedules, with a stand-in body."""
    for code, schedule in schedules.items():
        alliance = with_schedule(alliance, code, schedule)
    return [
        p
        for p in plan_jobs(alliance, harvest_func=func)
        if p.member_code in schedules and p.id.startswith("harvest:")
    ]


def test_missed_runs_run_once_when_recent_and_are_skipped_when_too_late(db, alliance):
    plan = _stand_in_plan(alliance, f"{HERE}:record_job", {"ytu": "every 1h", "ldu": "every 1d"})
    paused = open_store(db, alliance.time_zone)
    sync_jobs(paused, plan)
    now = dt.datetime.now(SHANGHAI)
    # ytu missed three hourly runs, the last one 50 minutes ago; ldu missed one, 7 hours ago.
    paused.modify_job("harvest:ytu", next_run_time=now - dt.timedelta(hours=2, minutes=50))
    paused.modify_job("harvest:ldu", next_run_time=now - dt.timedelta(hours=7))
    paused.shutdown(wait=False)

    scheduler = build_scheduler(db, alliance.time_zone, blocking=False)
    events = wait_for(scheduler, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
    scheduler.start()
    try:
        seen = {events.get(timeout=WAIT).job_id for _ in range(2)}
        assert seen == {"harvest:ytu", "harvest:ldu"}
        assert calls == ["ytu"]  # three missed runs coalesced into one; ldu's was too late
        jobs = jobs_by_id(scheduler)
        assert all(job.next_run_time > now for job in jobs.values())
    finally:
        scheduler.shutdown(wait=True)


def test_a_long_run_does_not_start_again_while_it_runs(db, alliance):
    plan = _stand_in_plan(alliance, f"{HERE}:blocking_job", {"ytu": "every 1d"})
    scheduler = build_scheduler(db, alliance.time_zone, blocking=False)
    scheduler.start(paused=True)
    sync_jobs(scheduler, plan)
    refused = wait_for(scheduler, EVENT_JOB_MAX_INSTANCES)
    done = wait_for(scheduler, EVENT_JOB_EXECUTED)
    scheduler.resume()
    try:
        scheduler.modify_job("harvest:ytu", next_run_time=dt.datetime.now(SHANGHAI))
        assert started.wait(WAIT)
        scheduler.modify_job("harvest:ytu", next_run_time=dt.datetime.now(SHANGHAI))
        assert refused.get(timeout=WAIT).job_id == "harvest:ytu"
        release.set()
        assert done.get(timeout=WAIT).job_id == "harvest:ytu"
    finally:
        release.set()
        scheduler.shutdown(wait=True)
    assert peak == 1 and calls == ["ytu"]


# -- one scheduler per database --------------------------------------------------------------------


def test_a_second_scheduler_on_the_same_database_is_refused(db):
    def take_lock() -> None:
        with scheduler_lock(db):
            pass

    with scheduler_lock(db), pytest.raises(SchedulerLocked, match="a scheduler already runs"):
        take_lock()
    take_lock()  # released with the first holder


# -- the command -----------------------------------------------------------------------------------


@pytest.fixture
def imported(db, alliance):
    with db.session() as session:
        import_alliance(session, alliance)
    return alliance


def test_list_shows_every_job_in_shanghai_time_and_changes_nothing(runner, imported):
    from federation.cli import main

    result = runner.invoke(main, ["scheduler", "--list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    ytu = next(line for line in lines if line.startswith("harvest:ytu "))
    assert " 01:30 CST " in ytu and "30 1 * * *" in ytu and "new" in ytu
    assert sum(1 for line in lines if line.startswith(("harvest:", "reconcile:"))) == 2 * len(
        imported.members
    )
    assert lines[-1] == "Times are in Asia/Shanghai."
    again = runner.invoke(main, ["scheduler", "--list"])
    assert "new" in next(line for line in again.output.splitlines() if "harvest:ytu" in line)


def test_list_before_members_are_imported_says_what_to_run(runner, db):
    from federation.cli import main

    result = runner.invoke(main, ["scheduler", "--list"])
    assert result.exit_code == 2
    assert "run `federation members import`" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_a_bad_reconcile_schedule_is_one_line(runner, imported):
    from federation.cli import main

    result = runner.invoke(main, ["scheduler", "--reconcile-schedule", "0 5 * * 0", "--list"])
    assert result.exit_code == 2
    assert "write the day of week with names" in result.output
    assert len(result.output.strip().splitlines()) == 1


SCHEDULER = [sys.executable, "-m", "federation.cli", "scheduler", "--workers", "2"]


def _env(settings_overrides) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.update({f"FEDERATION_{k}": v for k, v in settings_overrides.items()})
    return env


def _start(settings_overrides) -> tuple[subprocess.Popen, queue.Queue]:
    proc = subprocess.Popen(
        SCHEDULER,
        cwd=REPO_ROOT,
        env=_env(settings_overrides),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    return proc, lines


def _read_until(lines: queue.Queue, text: str) -> list[str]:
    seen = []
    while True:
        try:
            line = lines.get(timeout=WAIT)
        except queue.Empty:
            said = "".join(seen)
            raise AssertionError(f"no {text!r} from the scheduler; it said: {said}") from None
        seen.append(line)
        if text in line:
            return seen


def test_the_scheduler_process_sets_up_its_jobs_refuses_a_twin_and_stops_on_sigterm(
    runner, imported, settings_overrides
):
    from federation.cli import main

    proc, lines = _start(settings_overrides)
    try:
        head = _read_until(lines, "Scheduler running")
        assert f"Jobs: {2 * len(imported.members)} added" in "".join(head)
        twin = subprocess.run(
            SCHEDULER,
            cwd=REPO_ROOT,
            env=_env(settings_overrides),
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
        assert twin.returncode == 2 and "a scheduler already runs" in twin.stderr
        proc.terminate()
        assert proc.wait(timeout=WAIT) == 0
    finally:
        proc.kill()
    listing = runner.invoke(main, ["scheduler", "--list"])
    assert listing.exit_code == 0 and "new" not in listing.output  # the store kept the jobs
