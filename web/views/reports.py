"""Service-gap reports for coordinators: the page, its print/PDF layout, CSV, XLSX and JSON.

Aggregates only: every figure comes from :mod:`federation.reports`, which counts by district,
library type, CLC class and month, and never holds a reader or a single request.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from federation.policy import Permission
from federation.reports import (
    PeriodError,
    Report,
    build_report,
    load_facts,
    period_months,
    previous_period,
)
from federation.reports.exports import html_to_pdf, report_csv, report_xlsx, table_csv
from federation.reports.geomap import MapError, choropleth_svg, load_boundaries
from federation.reports.report import LIBRARY_TYPES, add_comparison
from federation.reports.source import districts_of
from federation.reports.tables import show
from web import get_db
from web.errors import error_body
from web.i18n import select_locale
from web.identity import requires
from web.views import api as api_views
from web.views.feedback import CATEGORIES as FEEDBACK_CATEGORIES

bp = Blueprint("reports", __name__)

MAP_METRICS = ("titles_per_1000", "requests_per_1000", "fill_rate", "held_locally_share")
MAP_LABELS = {
    "titles_per_1000": _l("Titles per 1,000 residents"),
    "requests_per_1000": _l("ILL requests per 1,000 residents"),
    "fill_rate": _l("Fill rate"),
    "held_locally_share": _l("Requested titles held in the district"),
}
TYPE_LABELS = {
    "university": _l("university libraries"),
    "public": _l("public libraries"),
    "research": _l("research libraries"),
    "school": _l("school libraries"),
    "community": _l("community libraries"),
}
# The reader feedback form's categories, as the form names them.
FEEDBACK_LABELS = {**FEEDBACK_CATEGORIES, "*": _l("All categories")}
CSS = Path(__file__).resolve().parents[1] / "static" / "css" / "reports.css"


class ReportRequestError(ValueError):
    """A filter that cannot be used; the message says what to fix."""


def _alliance():
    return current_app.extensions["federation.alliance"]


def _args() -> tuple[str, str | None, str | None]:
    tz = ZoneInfo(_alliance().time_zone)
    period = (request.args.get("period") or str(datetime.now(tz).year)).strip()[:20]
    district = request.args.get("district") or None
    type_ = request.args.get("type") or None
    codes = {d.code for d in districts_of(_alliance())}  # districts and counties only
    if district is not None and district not in codes:
        raise ReportRequestError(_("Unknown district %(code)s; choose one from the list.",
                                   code=district[:40]))  # fmt: skip
    if type_ is not None and type_ not in LIBRARY_TYPES:
        raise ReportRequestError(_("Unknown library type; use one of: %(types)s.",
                                   types=", ".join(LIBRARY_TYPES)))  # fmt: skip
    return period, district, type_


def current_report() -> Report:
    """Build the report the request asks for (ReportRequestError for a bad filter)."""
    period, district, type_ = _args()
    alliance = _alliance()
    try:
        months = period_months(previous_period(period)) + period_months(period)
    except PeriodError:
        raise ReportRequestError(
            _("%(period)s is not a period; write a year (2026), a quarter (2026-Q2) "
              "or a month (2026-03).", period=period)
        ) from None  # fmt: skip
    with get_db().session() as session:
        facts = load_facts(session, alliance, months)
    settings = alliance.reports
    kwargs = {"gap_share": settings.gap_share, "targets": settings.targets}
    report = build_report(facts, period, district, type_, **kwargs)
    add_comparison(report, build_report(facts, report.previous, district, type_, **kwargs))
    return report


def _map(report: Report, locale: str, metric: str) -> Markup | None:
    path = Path(_alliance().source).parent / "districts.geojson"
    try:
        boundaries = load_boundaries(path)
    except MapError as exc:
        current_app.logger.warning("district map not drawn: %s", exc)
        return None
    if boundaries is None:
        return None
    table = report.table("ill" if metric != "titles_per_1000" else "collections")
    kind = next(c.kind for c in table.columns if c.key == metric)
    names = {d.code: d.name(locale) for d in districts_of(_alliance())}  # context: every one
    svg = choropleth_svg(
        boundaries, report.values[metric], names, lambda v: show(v, kind),
        title=_("District map: %(metric)s", metric=MAP_LABELS[metric]),
        schematic_label=_("Schematic shapes, not surveyed boundaries"),
        no_data_label=_("no data"),
    )  # fmt: skip
    return Markup(svg)  # noqa: S704 - built by geomap from escaped parts


def _page(report: Report, printing: bool = False, standalone: bool = False) -> str:
    """Render the page; ``printing``: the print layout; ``standalone``: styles inline (files)."""
    locale = select_locale()
    metric = request.args.get("map") if request.args.get("map") in MAP_METRICS else MAP_METRICS[0]
    return render_template(
        "reports/gaps.html",
        report=report,
        lang=locale,
        show=show,
        map_svg=_map(report, locale, metric),
        map_metric=metric,
        map_metrics=MAP_METRICS,
        printing=printing,
        # Inline only in files (PDF, CLI): the browser's CSP refuses inline styles.
        inline_css=Markup(CSS.read_text("utf-8")) if standalone else None,  # noqa: S704
        **_common(),
    )


def _common() -> dict:
    return {
        "districts": districts_of(_alliance()),
        "types": LIBRARY_TYPES,
        "type_labels": TYPE_LABELS,
        "map_labels": MAP_LABELS,
        "feedback_labels": FEEDBACK_LABELS,
        "gap_share": _alliance().reports.gap_share,
    }


def _bad_request(exc: ReportRequestError):
    page = render_template(
        "reports/gaps.html", error=str(exc), report=None, lang=select_locale(),
        printing=False, **_common(),
    )  # fmt: skip
    return page, 400


def _filename(report: Report, ext: str) -> str:
    scope = "-".join(x for x in (report.period, report.district, report.library_type) if x)
    return f"service-gaps-{scope}.{ext}"


@bp.get("/reports/gaps")
@requires(Permission.REPORTS)
def gaps():
    """The report page (``?print=1`` for the print layout)."""
    try:
        report = current_report()
    except ReportRequestError as exc:
        return _bad_request(exc)
    return _page(report, printing=request.args.get("print") == "1")


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("html", "pdf", "csv", "xlsx", "json")


def render_export(fmt: str) -> tuple[bytes | str, str, str]:
    """Return (body, MIME type, file name) of the requested report in ``fmt``.

    Raises ReportRequestError for a bad filter. Used by the download routes and the CLI.
    """
    report = current_report()
    if fmt == "html":
        return _page(report, True, True), "text/html", _filename(report, "html")
    if fmt == "pdf":
        return (
            html_to_pdf(_page(report, True, True)),
            "application/pdf",
            _filename(report, "pdf"),
        )
    if fmt == "xlsx":
        return report_xlsx(report, select_locale()), XLSX, _filename(report, "xlsx")
    if fmt == "json":
        return (
            json.dumps(report.as_json(), ensure_ascii=False),
            "application/json",
            _filename(report, "json"),
        )
    table_id = request.args.get("table")
    if not table_id:
        return report_csv(report), "text/csv", _filename(report, "csv")
    try:
        body = table_csv(report.table(table_id), select_locale())
    except KeyError:
        raise ReportRequestError(_("No such table.")) from None
    return body, "text/csv", _filename(report, f"{table_id}.csv")


def _download(fmt: str):
    try:
        body, mimetype, name = render_export(fmt)
    except ReportRequestError as exc:
        return _bad_request(exc)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, mimetype=mimetype, headers=headers)


@bp.get("/reports/gaps.pdf")
@requires(Permission.REPORTS)
def gaps_pdf():
    """The report as PDF (the print layout)."""
    return _download("pdf")


@bp.get("/reports/gaps.csv")
@requires(Permission.REPORTS)
def gaps_csv():
    """Every table in long form, or one table (``?table=ill``) as it appears on the page."""
    return _download("csv")


@bp.get("/reports/gaps.xlsx")
@requires(Permission.REPORTS)
def gaps_xlsx():
    """Every table as a sheet of one workbook."""
    return _download("xlsx")


@requires(Permission.REPORTS)
def gaps_json():
    """The report's numbers as JSON (the same tables as the page)."""
    try:
        report = current_report()
    except ReportRequestError as exc:
        return jsonify(error_body("bad_request", str(exc))), 400
    return jsonify(report.as_json())


# On the API blueprint: /api/v1/reports/gaps shares its rate limits, errors and OpenAPI document.
api_views.bp.add_url_rule("/reports/gaps", "reports_gaps", gaps_json, methods=["GET"])
