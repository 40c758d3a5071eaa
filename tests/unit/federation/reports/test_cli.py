"""`federation report gaps`: the report written as a file, one line for a bad period."""

from __future__ import annotations

import csv
import io

from federation.cli import main
from federation.db import Database
from tests.conftest import DEMO_ALLIANCE

from .seed import seed


def _seed(settings_overrides):
    database = Database(settings_overrides["DATABASE_URL"])
    with database.session() as session:
        seed(session, DEMO_ALLIANCE)
    database.dispose()


def test_csv_report_to_the_terminal(runner, db, settings_overrides):
    _seed(settings_overrides)
    result = runner.invoke(
        main, ["report", "gaps", "--period", "2026-03", "--format", "csv", "-o", "-"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    fill = [r for r in rows if r["table"] == "ill" and r["column"] == "fill_rate"]
    assert {r["district"]: r["value"] for r in fill}["muping"] == "0.5"


def test_html_report_to_a_file_in_english(runner, db, settings_overrides, tmp_path):
    _seed(settings_overrides)
    target = tmp_path / "gaps.html"
    result = runner.invoke(
        main, ["report", "gaps", "--period", "2026", "--lang", "en", "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert "Wrote the 2026 service-gap report" in result.output
    html = target.read_text("utf-8")
    assert "Haiyang: no member library for 573,000 residents" in html
    assert "<style>" in html and "/static/" not in html  # stands alone: styles inline


def test_a_bad_period_is_one_line(runner, db):
    result = runner.invoke(main, ["report", "gaps", "--period", "last year"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert (
        lines[0]
        == "Error: last year 不是有效的统计期；请写年份（2026）、季度（2026-Q2）或月份（2026-03）。"
    )


def test_rollup_then_report(runner, db, settings_overrides):
    _seed(settings_overrides)
    result = runner.invoke(main, ["report", "rollup", "--period", "2026-03"])
    assert result.exit_code == 0, result.output
    assert "Rolled up 12 events of 2026-03 (1 month)" in result.output
    bad = runner.invoke(main, ["report", "rollup", "--period", "March"])
    assert bad.exit_code == 2 and "is not a period" in bad.output


def test_the_nightly_job_rolls_up_last_month_and_this_month(db, settings_overrides, monkeypatch):
    from datetime import datetime

    from federation.reports.tasks import recent_months, rollup_job

    assert recent_months(datetime(2026, 1, 5)) == ["2025-12", "2026-01"]
    for key, value in settings_overrides.items():
        monkeypatch.setenv(f"FEDERATION_{key}", value)
    _seed(settings_overrides)
    summary = rollup_job()
    assert len(summary.months) == 2 and summary.rows > 0  # the titles-held snapshot at least
