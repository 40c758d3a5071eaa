"""Statistics pages: a member's own figures against the alliance median; every member, sortable.

Member staff see their own library (Permission.STATS_OWN, member-scoped: another member's
page is a 404); coordinators and alliance administrators see every member (STATS_ALL).
Charts are SVG drawn here; every table downloads as CSV or XLSX with the formula in force.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from federation.costs.formula import formula_text
from federation.policy import Permission, allowed
from federation.stats.charts import trend_chart
from federation.stats.export import Table
from federation.stats.services import (
    AVERAGES,
    MEASURES,
    Months,
    alliance_medians,
    figures,
    monthly_by_member,
    simulated_events,
)
from web import get_db
from web.identity import current_actor, require_member, requires
from web.views.home import TYPE_LABELS
from web.views.stats_common import (
    MEASURE_LABELS,
    alliance,
    download,
    export_format,
    month_range,
)

bp = Blueprint("stats", __name__)

COLUMNS = list(MEASURES) + list(AVERAGES)
CHARTED = ("searches", "ill_borrowed", "ill_lent")
DIMENSION_LABELS = {"district": "District", "type": "Library type", "month": "Month"}


@bp.get("/")
@requires(Permission.STATS_ANY)
def index():
    """Send coordinators to every member's figures, member staff to their own."""
    actor = current_actor()
    if allowed(actor, Permission.STATS_ALL):
        return redirect(url_for("stats.members"))
    if actor.member_code and allowed(actor, Permission.STATS_OWN, actor.member_code):
        return redirect(url_for("stats.member", code=actor.member_code))
    abort(403)


def _formula() -> str:
    return formula_text(alliance().cost_sharing)


def _labels() -> list[str]:
    return [str(MEASURE_LABELS[c]) for c in COLUMNS]


def _member_name(code: str, locale: str) -> str:
    try:
        return alliance().member(code).name(locale)
    except KeyError:
        return code


def _sorted_codes(per_member: dict, sort: str, descending: bool) -> list[str]:
    codes = [m.code for m in alliance().members]
    if sort == "member":
        return sorted(codes, reverse=descending)
    return sorted(
        codes, key=lambda c: (per_member.get(c, {}).get(sort) or 0, c), reverse=descending
    )


@bp.get("/members")
@requires(Permission.STATS_ALL)
def members():
    """Every member's figures, sortable by any column; and per district and library type."""
    months = month_range()
    sort = request.args.get("sort", "member")
    if sort not in COLUMNS and sort != "member":
        abort(400, description=_("Sort by a column of the table."))
    descending = request.args.get("dir", "desc" if sort != "member" else "asc") == "desc"
    with get_db().session() as session:
        per_member = figures(session, "member", months)
        by_district = figures(session, "district", months)
        by_type = figures(session, "type", months)
        simulated = simulated_events(session, months)
    codes = _sorted_codes(per_member, sort, descending)
    tables = _member_tables(per_member, by_district, by_type, codes, months)
    if fmt := export_format():
        return download(tables, fmt, f"stats-members-{months.first}-{months.last}")
    return render_template(
        "stats/members.html",
        months=months,
        columns=COLUMNS,
        labels=MEASURE_LABELS,
        per_member=per_member,
        codes=codes,
        by_district=by_district,
        by_type=by_type,
        sort=sort,
        simulated=simulated,
        descending=descending,
        formula=_formula(),
        member_name=_member_name,
        district_name=_district_name,
        type_name=_type_name,
    )


def _district_name(code: str, locale: str) -> str:
    region = next((r for r in alliance().regions if r.code == code), None)
    return region.name(locale) if region else code


def _type_name(kind: str, locale: str) -> str:
    return str(TYPE_LABELS.get(kind, kind))


def _member_tables(per_member, by_district, by_type, codes, months: Months) -> list[Table]:
    notes = [f"formula in force: {_formula()}", f"months {months.first} – {months.last}"]
    headers = [_("Member"), *_labels()]

    def rows(data, keys):
        return [[k, *[data.get(k, {}).get(c) for c in COLUMNS]] for k in keys]

    return [
        Table(_("Every member"), headers, rows(per_member, codes), notes),
        Table(
            _("By district"),
            [_("District"), *_labels()],
            rows(by_district, sorted(by_district)),
            notes,
        ),
        Table(
            _("By library type"),
            [_("Library type"), *_labels()],
            rows(by_type, sorted(by_type)),
            notes,
        ),
    ]


@bp.get("/member/<code>")
@requires(Permission.STATS_ANY)
def member(code: str):
    """One member's own figures, its monthly trends and its position against the median."""
    if not allowed(current_actor(), Permission.STATS_ALL):
        require_member(Permission.STATS_OWN, code)
    try:
        alliance().member(code)
    except KeyError:
        abort(404)
    months = month_range()
    codes = [m.code for m in alliance().members]
    with get_db().session() as session:
        per_member = figures(session, "member", months)
        monthly = {name: monthly_by_member(session, name, months) for name in CHARTED}
        simulated = simulated_events(session, months)
    own = per_member.get(code, {})
    medians = alliance_medians(per_member, codes)
    rows = _position_rows(code, own, medians, per_member, codes)
    if fmt := export_format():
        return download(
            _own_tables(code, rows, months), fmt, f"stats-{code}-{months.first}-{months.last}"
        )
    charts = [
        (MEASURE_LABELS[name], _chart(name, code, monthly[name], months, codes)) for name in CHARTED
    ]
    return render_template(
        "stats/member.html",
        code=code,
        months=months,
        rows=rows,
        charts=charts,
        formula=_formula(),
        member_name=_member_name,
        labels=MEASURE_LABELS,
        simulated=simulated,
    )


def _position_rows(code, own, medians, per_member, codes) -> list[dict]:
    rows = []
    for name in COLUMNS:
        value, median = own.get(name), medians.get(name)
        values = sorted((per_member.get(c, {}).get(name) or 0 for c in codes), reverse=True)
        rank = values.index(value or 0) + 1 if name in MEASURES else None
        if value is None or median is None:
            position = ""
        else:
            position = "above" if value > median else "below" if value < median else "at"
        rows.append(
            {
                "name": name,
                "value": value,
                "median": median,
                "rank": rank,
                "of": len(codes),
                "position": position,
            }
        )
    return rows


def _own_tables(code: str, rows: list[dict], months: Months) -> list[Table]:
    notes = [f"formula in force: {_formula()}", f"months {months.first} – {months.last}"]
    headers = [_("Measure"), _("Value"), _("Alliance median"), _("Rank")]
    data = [[str(MEASURE_LABELS[r["name"]]), r["value"], r["median"], r["rank"]] for r in rows]
    return [Table(f"{code}", headers, data, notes)]


def _month_list(months: Months) -> list[str]:
    from federation.stats.counter import months_between

    return months_between(months.first, months.last)


def _chart(name: str, code: str, monthly: dict, months: Months, codes: list[str]) -> str:
    from statistics import median

    points, medians = [], []
    for month in _month_list(months):
        values = monthly.get(month, {})
        points.append((month, values.get(code, 0)))
        medians.append(median([values.get(c, 0) for c in codes]) if codes else None)
    return trend_chart(
        str(MEASURE_LABELS[name]), points, medians, (_("This library"), _("Alliance median"))
    )


def _counter(report: str):
    """Answer one COUNTER report: staff get their own member's PR only."""
    from flask import jsonify

    from federation.stats.counter import ill_report, platform_report

    months = month_range()
    member_code = request.args.get("member") or None
    if not allowed(current_actor(), Permission.STATS_ALL):
        member_code = member_code or current_actor().member_code
        if report == "ill" or not member_code:
            abort(403)
        require_member(Permission.STATS_OWN, member_code)
    if member_code and member_code not in {m.code for m in alliance().members}:
        abort(404)
    with get_db().session() as session:
        if report == "ill":
            data = ill_report(session, alliance(), months.first, months.last)
        else:
            data = platform_report(session, alliance(), months.first, months.last, member_code)
    return jsonify(data)


@bp.get("/counter/pr.json")
@requires(Permission.STATS_ANY)
def counter_pr():
    """COUNTER R5.1-shaped Platform Report of a member's readers (or the whole alliance)."""
    return _counter("pr")


@bp.get("/counter/ill.json")
@requires(Permission.STATS_ALL)
def counter_ill():
    """COUNTER R5.1-shaped alliance ILL report: requests placed and filled per member."""
    return _counter("ill")
