"""The scheduler's roll-up job reads the settings, rolls up once, and is safe to run again."""

from __future__ import annotations

from federation.stats.tasks import rollup_job
from federation.usage import SEARCH, record_usage


def test_rollup_job_counts_new_events_once(db, settings_overrides, monkeypatch):
    for key, value in settings_overrides.items():
        monkeypatch.setenv(f"FEDERATION_{key}", value)
    with db.session() as s:
        record_usage(s, SEARCH, member_code="ytu")
        record_usage(s, SEARCH, member_code="ytu")
    assert rollup_job().events == 2
    assert rollup_job().events == 0
