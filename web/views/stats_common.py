"""Shared helpers of the statistics and cost pages: month ranges, labels, table downloads."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, request
from flask_babel import lazy_gettext as _l

from federation.stats.export import FORMATS, Table, render
from federation.stats.services import Months

MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])\Z")
MEASURE_LABELS = {
    "searches": _l("Searches"),
    "zero_result_searches": _l("Searches with no results"),
    "record_views": _l("Record views"),
    "holdings_views": _l("Holdings views"),
    "ill_requested": _l("ILL requests placed"),
    "ill_borrowed": _l("ILL requests filled for it (borrowing)"),
    "ill_lent": _l("ILL requests it filled (lending)"),
    "ill_unfilled": _l("ILL requests not filled"),
    "ill_cancelled": _l("ILL requests cancelled"),
    "copies_received": _l("Copies received"),
    "copies_supplied": _l("Copies supplied"),
    "ill_completed": _l("ILL requests completed"),
    "records_contributed": _l("Records contributed"),
    "supply_hours": _l("Mean hours to supply"),
    "turnaround_hours": _l("Mean turnaround (hours)"),
}
MIME = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def alliance():
    """Return the alliance the app serves."""
    return current_app.extensions["federation.alliance"]


def this_month() -> str:
    """Return the current month on the alliance's clock."""
    return datetime.now(ZoneInfo(alliance().time_zone)).strftime("%Y-%m")


def months_back(last: str, count: int) -> str:
    """Return the month ``count - 1`` months before ``last``."""
    n = int(last[:4]) * 12 + int(last[5:]) - 1 - (count - 1)
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def month_range() -> Months:
    """Read ?from= and ?to= (YYYY-MM); default: the twelve months up to this one."""
    last = request.args.get("to") or this_month()
    first = request.args.get("from") or months_back(last, 12)
    for value in (first, last):
        if not MONTH.match(value):
            abort(400, description=_l("Write months as YYYY-MM, e.g. 2026-07."))
    if first > last:
        abort(400, description=_l("The first month must not come after the last."))
    return Months(first, last)


def export_format() -> str | None:
    """Return the download format asked for (?format=csv|xlsx|pdf), or None for the page."""
    fmt = request.args.get("format")
    if fmt is None:
        return None
    if fmt not in FORMATS:
        abort(400, description=_l("Download as csv, xlsx or pdf."))
    return fmt


def download(tables: list[Table], fmt: str, name: str) -> Response:
    """Return the tables as a file download."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    response = Response(render(tables, fmt), mimetype=MIME[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}.{fmt}"'
    return response
