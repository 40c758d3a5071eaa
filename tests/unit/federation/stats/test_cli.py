"""`federation stats rollup` and `federation costs statement` in CSV, XLSX and PDF."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from federation.alliance import load_alliance
from federation.cli import main
from federation.members import import_alliance
from federation.usage import ILL_FILLED, record_usage
from tests.conftest import DEMO_ALLIANCE


@pytest.fixture
def events(db):
    with db.session() as s:
        import_alliance(s, load_alliance(DEMO_ALLIANCE))
        for n in (1, 2):
            record_usage(
                s,
                ILL_FILLED,
                member_code="ytlib",
                partner_code="ytu",
                ref=f"ill_request:{n}",
                occurred_at=datetime(2026, 8, n, 3, tzinfo=UTC),
            )
    return db


def test_rollup_twice_counts_once(runner, events):
    first = runner.invoke(main, ["stats", "rollup"])
    second = runner.invoke(main, ["stats", "rollup"])
    assert first.exit_code == 0 and "Rolled up 2 events" in first.output
    assert "Rolled up 0 events" in second.output
    check = runner.invoke(main, ["stats", "check"])
    assert check.exit_code == 0 and "equal a direct count" in check.output


def test_csv_statement_has_the_formula_and_the_traced_fee(runner, events):
    runner.invoke(main, ["stats", "rollup"])
    result = runner.invoke(main, ["costs", "statement", "--period", "2026-Q3", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[1][0].startswith("formula in force: Share_i = C·[b/N")
    fee = next(r for r in rows if len(r) > 2 and r[1] == "ill_fee")
    assert fee[2:6] == ["ytlib", "ytu", "2", "16.00"]  # two loans across districts at 8.00
    assert fee[7] == "ill_request:1 ill_request:2"
    assert ["balance", "0.00"] in rows


def test_xlsx_and_pdf_statements_print_the_formula(runner, events, tmp_path):
    import pypdfium2
    from openpyxl import load_workbook

    xlsx, pdf = tmp_path / "s.xlsx", tmp_path / "s.pdf"
    for fmt, path in (("xlsx", xlsx), ("pdf", pdf)):
        result = runner.invoke(
            main,
            [
                "costs",
                "statement",
                "--period",
                "2026-Q3",
                "--format",
                fmt,
                "--member",
                "ytlib",
                "-o",
                str(path),
            ],
        )
        assert result.exit_code == 0, result.output
    sheet = load_workbook(xlsx).worksheets[0]
    assert sheet["A2"].value.startswith("formula in force: Share_i")
    document = pypdfium2.PdfDocument(str(pdf))
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    assert "formula in force" in text and "ytlib" in text


def test_a_bad_period_is_one_line(runner, events):
    result = runner.invoke(main, ["costs", "statement", "--period", "Q3-2026"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "write a month" in result.output


def test_the_commands_work_when_the_cli_runs_as_a_module(settings_overrides, db):
    """`python -m federation.cli` runs cli.py as __main__: the stats commands must still load."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    env = {**os.environ, **{f"FEDERATION_{k}": v for k, v in settings_overrides.items()}}
    done = subprocess.run(
        [sys.executable, "-m", "federation.cli", "stats", "rollup"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Rolled up 0 events" in done.stdout
