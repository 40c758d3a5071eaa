"""The alliance-wide jobs (ILL timers, roll-ups) are stored once and kept across restarts."""

from __future__ import annotations

from federation.scheduler import open_store, sync_fixed_jobs


def test_ill_jobs_are_stored_once_and_kept_across_restarts(db):
    store = open_store(db, "Asia/Shanghai")
    try:
        assert sync_fixed_jobs(store, "Asia/Shanghai") == [
            "ill:timers",
            "ill:stats",
            "ill:retention",
            "stats:rollup",
            "reports:rollup",
        ]
        first = {job.id: job.next_run_time for job in store.get_jobs()}
    finally:
        store.shutdown(wait=False)
    store = open_store(db, "Asia/Shanghai")  # a restart of the scheduler process
    try:
        assert sync_fixed_jobs(store, "Asia/Shanghai") == []
        again = {job.id: job.next_run_time for job in store.get_jobs()}
        refs = {job.id: job.func_ref for job in store.get_jobs()}
    finally:
        store.shutdown(wait=False)
    assert again == first
    assert refs == {
        "ill:timers": "ill.tasks:timers_job",
        "ill:stats": "ill.tasks:stats_job",
        "ill:retention": "ill.tasks:retention_job",
        "stats:rollup": "federation.stats.tasks:rollup_job",
        "reports:rollup": "federation.reports.tasks:rollup_job",
    }
