"""Table downloads: untrusted text never becomes a spreadsheet formula; notes come first."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import load_workbook

from federation.stats.export import Table, to_csv, to_html, to_xlsx

HOSTILE = Table(
    "t",
    ("name", "amount"),
    [('=HYPERLINK("http://evil")', Decimal("-16.00")), ("<b>x</b>", 3)],
    ["formula in force: Share_i = …"],
)


def test_csv_neutralises_formulas_but_keeps_negative_numbers():
    rows = list(csv.reader(io.StringIO(to_csv([HOSTILE]).decode("utf-8-sig"))))
    assert rows[1] == ["formula in force: Share_i = …"]
    assert rows[3] == ['\'=HYPERLINK("http://evil")', "-16.00"]


def test_xlsx_stores_text_as_text_and_amounts_as_numbers():
    sheet = load_workbook(io.BytesIO(to_xlsx([HOSTILE]))).worksheets[0]
    assert sheet["A4"].value == '=HYPERLINK("http://evil")' and sheet["A4"].data_type == "s"
    assert sheet["B4"].value == -16.0


def test_pdf_html_escapes_every_value():
    page = to_html([HOSTILE])
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
