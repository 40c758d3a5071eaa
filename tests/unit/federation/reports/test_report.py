"""The whole report on the hand-built alliance: filters, tables, JSON, exports."""

from __future__ import annotations

import csv
import io

import pytest

from federation.reports import PeriodError, build_report, period_months, previous_period
from federation.reports.exports import report_csv, table_csv
from federation.reports.report import add_comparison

from .alliance import small_alliance


def test_periods_are_years_quarters_and_months():
    assert period_months("2026-Q2") == ["2026-04", "2026-05", "2026-06"]
    assert len(period_months("2026")) == 12
    assert (previous_period("2026-Q1"), previous_period("2026-01")) == ("2025-Q4", "2025-12")
    with pytest.raises(PeriodError, match="write a year"):
        period_months("2026-13")


def test_report_of_the_year_counts_march_and_leads_with_the_largest_gaps():
    report = build_report(small_alliance(), "2026")
    assert report.has_data
    assert [g.district for g in report.top] == ["east", "south"]
    ill = {r["district"]: r for r in report.table("ill").rows}
    assert ill["south"]["fill_rate"] == 0.75


def test_a_period_without_events_has_no_data_but_still_shows_collections():
    report = build_report(small_alliance(), "2025")
    assert not report.has_data
    assert {r["district"]: r["titles_held"] for r in report.table("collections").rows}[
        "north"
    ] == 900


def test_district_filter_keeps_alliance_medians():
    report = build_report(small_alliance(), "2026-03", district="south")
    assert [d.code for d in report.districts] == ["south"]
    assert {g.district for g in report.gaps} == {"south"}
    assert report.medians["held_locally_share"] == pytest.approx(0.6)


def test_library_type_filter_shows_one_type():
    report = build_report(small_alliance(), "2026-03", library_type="university")
    table = report.table("types")
    assert not any(c.key.startswith("public_") for c in table.columns)
    assert {r["district"]: r["university_lent"] for r in table.rows}["north"] == 30


def test_university_and_public_side_by_side():
    table = build_report(small_alliance(), "2026-03").table("types")
    north = next(r for r in table.rows if r["district"] == "north")
    assert (north["university_titles_held"], north["public_titles_held"]) == (800, 300)
    assert (north["university_lent"], north["public_requested"]) == (30, 20)
    headings = [c.zh for c in table.columns]
    assert headings.index("高校馆借出") < headings.index("公共馆成员馆")


def test_comparison_with_the_period_before():
    facts = small_alliance()
    report = build_report(facts, "2026-03")
    add_comparison(report, build_report(facts, report.previous))
    rows = [r for r in report.table("change").rows if r["district"] == "south"]
    fill = next(r for r in rows if r["metric"] == "fill_rate")
    assert (fill["previous"], fill["now"], fill["change"]) == (None, 0.75, None)
    assert not report.previous_has_data


def test_json_has_every_table_and_the_gaps_in_both_languages():
    data = build_report(small_alliance(), "2026-03").as_json()
    assert {t["id"] for t in data["tables"]} >= {
        "gaps",
        "collections",
        "ill",
        "unmet",
        "lending",
        "classes",
        "types",
        "trend",
        "feedback",
    }
    first = data["largest_gaps"][0]
    assert first["text"]["en"].startswith("East: no member library")
    assert first["text"]["zh"].startswith("东区：")


def test_csv_exports_neutralise_spreadsheet_formulas():
    facts = small_alliance()
    facts.districts[0] = facts.districts[0].__class__("north", "=HYPERLINK(1)", "North", 10_000)
    report = build_report(facts, "2026-03")
    rows = list(csv.reader(io.StringIO(table_csv(report.table("collections")))))
    assert rows[1][1] == "'=HYPERLINK(1)"
    long = list(csv.DictReader(io.StringIO(report_csv(report))))
    assert {"period", "table", "row", "district", "column", "value"} == set(long[0])


def test_the_pdf_fetches_nothing_it_is_pointed_at(tmp_path):
    from federation.reports.exports import html_to_pdf

    secret = tmp_path / "secret.css"
    secret.write_text("body { background: #000 }")
    html = f'<html><head><link rel="stylesheet" href="file://{secret}"></head><body>x</body></html>'
    pdf = html_to_pdf(html)
    assert pdf.startswith(b"%PDF")
    import io

    import pypdfium2

    image = pypdfium2.PdfDocument(io.BytesIO(pdf))[0].render(scale=0.2).to_pil().convert("L")
    dark = sum(image.histogram()[:50])
    assert dark / (image.width * image.height) < 0.5  # the black stylesheet was not loaded
