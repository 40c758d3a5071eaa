"""The alliance file's `reports` section: gap share and targets, and one clear line when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from federation.alliance import AllianceFileError, load_alliance, load_alliance_text

REPO = Path(__file__).resolve().parents[3]
MINIMAL = (REPO / "tests" / "data" / "alliance" / "good" / "minimal.yaml").read_text("utf-8")


def with_reports(block: str):
    return load_alliance_text(MINIMAL + "\nreports:\n" + block, source="a.yaml")


def error_of(block: str) -> str:
    with pytest.raises(AllianceFileError) as info:
        with_reports(block)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_without_a_reports_section_gaps_are_60_percent_of_the_median_and_no_targets():
    alliance = load_alliance_text(MINIMAL)
    assert alliance.reports.gap_share == 0.6 and alliance.reports.targets == {}


def test_gap_share_and_targets_load():
    reports = with_reports("  gap_share: 0.5\n  targets: {fill_rate: 0.9, titles_per_1000: 3}\n")
    assert reports.reports.gap_share == 0.5
    assert reports.reports.targets == {"fill_rate": 0.9, "titles_per_1000": 3.0}


@pytest.mark.parametrize(
    ("block", "key", "fragment"),
    [
        ("  gap_share: 0\n", "reports.gap_share", "must be above 0 and at most 1"),
        ("  gap_share: 1.5\n", "reports.gap_share", "must be above 0 and at most 1"),
        ("  targets: {fill_rate: 80}\n", "reports.targets", "fill_rate is a share between 0 and 1"),
        ("  targets: {titles: 3}\n", "reports.targets", "'titles' is not a report metric"),
        ("  targets: {fill_rate: -1}\n", "reports.targets", "must be at least 0"),
        ("  gap_shar: 0.5\n", "reports.gap_shar", "did you mean 'gap_share'?"),
    ],
)
def test_bad_report_settings_give_one_line_naming_the_key_and_the_fix(block, key, fragment):
    message = error_of(block)
    assert message.startswith(f"a.yaml: {key}")
    assert fragment in message


def test_the_demo_alliance_sets_report_targets():
    demo = load_alliance(REPO / "config" / "demo" / "alliance.yaml")
    assert demo.reports.targets["fill_rate"] == 0.8
