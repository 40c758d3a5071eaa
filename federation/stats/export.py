"""Write any table as CSV, XLSX or PDF, with its notes (the formula in force) above the rows."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

FORMATS = ("csv", "xlsx", "pdf")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Table:
    """A titled table: notes printed above it, a header row and data rows."""

    title: str
    headers: Sequence[str]
    rows: list[Sequence[object]]
    notes: list[str] = field(default_factory=list)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _safe_text(value: object) -> object:
    """Keep a spreadsheet from running text as a formula (harvested names are untrusted)."""
    if value is None:
        return ""
    if _is_number(value):
        return value
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(tables: list[Table]) -> bytes:
    """Return the tables as one UTF-8 CSV (with BOM, so spreadsheet programs read Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for table in tables:
        writer.writerow([_safe_text(table.title)])
        for note in table.notes:
            writer.writerow([_safe_text(note)])
        writer.writerow([_safe_text(h) for h in table.headers])
        writer.writerows([[_safe_text(v) for v in row] for row in table.rows])
        writer.writerow([])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(tables: list[Table]) -> bytes:
    """Return the tables as an XLSX workbook, one sheet each, notes in the first rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for n, table in enumerate(tables, start=1):
        sheet = book.create_sheet(_sheet_name(table.title, n))
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True)
        for note in table.notes:
            sheet.append([note])
        sheet.append(list(table.headers))
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_xlsx_value(v) for v in row])
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text starts with
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_value(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    return "" if value is None else value


def _sheet_name(title: str, n: int) -> str:
    cleaned = "".join(c for c in title if c not in "[]:*?/\\")[:28].strip()
    return f"{n} {cleaned}"[:31]


def to_pdf(tables: list[Table]) -> bytes:
    """Return the tables as a printable PDF (WeasyPrint; every value HTML-escaped)."""
    from weasyprint import HTML

    return HTML(string=to_html(tables)).write_pdf()


def to_html(tables: list[Table]) -> str:
    """Return the tables as a standalone, printable HTML page."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><style>"
        "@page{size:A4 landscape;margin:12mm}body{font:9pt sans-serif}"
        "table{border-collapse:collapse;width:100%;margin-bottom:8mm}"
        "th,td{border:1px solid #999;padding:2px 4px;text-align:left}"
        "td.n{text-align:right}.note{font-family:monospace;font-size:8pt}"
        "</style></head><body>"
    ]
    for table in tables:
        parts.append(f"<h2>{html.escape(table.title)}</h2>")
        parts += [f"<p class='note'>{html.escape(note)}</p>" for note in table.notes]
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in table.headers)
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>")
        for row in table.rows:
            cells = "".join(
                f"<td class='n'>{v}</td>"
                if _is_number(v)
                else f"<td>{html.escape('' if v is None else str(v))}</td>"
                for v in row
            )
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "".join(parts)


def render(tables: list[Table], fmt: str) -> bytes:
    """Return the tables in ``fmt`` (csv, xlsx or pdf)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return {"csv": to_csv, "xlsx": to_xlsx, "pdf": to_pdf}[fmt](tables)
