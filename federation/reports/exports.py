"""Exports of a report's tables: CSV (one table, or every table in long form), XLSX, PDF."""

from __future__ import annotations

import csv
import io

from federation.reports.report import Report
from federation.reports.tables import Table, plain

# A cell starting with one of these is read as a formula by spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value, kind: str):
    value = plain(value, kind)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # district names come from the alliance file: never run them
    return value


def table_csv(table: Table, locale: str = "zh_CN") -> str:
    """Return one table as CSV with headings in the reader's language."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.heading(locale) for c in table.columns])
    for row in table.rows:
        writer.writerow([_cell(row.get(c.key), c.kind) for c in table.columns])
    return out.getvalue()


def report_csv(report: Report) -> str:
    """Return every table in long form: table, row number, column, value (one file)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["period", "table", "row", "district", "column", "value"])
    for table in report.tables:
        for number, row in enumerate(table.rows, start=1):
            for c in table.columns:
                if c.key in ("district", "name"):
                    continue
                value = _cell(row.get(c.key), c.kind)
                writer.writerow(
                    [report.period, table.id, number, row.get("district", ""), c.key, value]
                )
    return out.getvalue()


def report_xlsx(report: Report, locale: str = "zh_CN") -> bytes:
    """Return a workbook with one sheet per table (headings in the reader's language)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for table in report.tables:
        sheet = book.create_sheet(title=table.id[:31])
        sheet.append([c.heading(locale) for c in table.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_cell(row.get(c.key), c.kind) for c in table.columns])
        for c, column in zip(table.columns, sheet.columns, strict=False):
            if c.kind == "share":
                for cell in column[1:]:
                    cell.number_format = "0.0%"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def html_to_pdf(html: str) -> bytes:
    """Return the PDF of a self-contained HTML page laid out with its print styles (WeasyPrint)."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # The page carries its styles and map inline: fetch nothing (no network, no local files).
    fetcher = URLFetcher(allowed_protocols=("data",), allow_redirects=False)
    return HTML(string=html, url_fetcher=fetcher).write_pdf()
