"""Cost-sharing pages: a period's statement, approval and locking, and the what-if comparison.

Member staff read their own library's statement (STATS_OWN); coordinators and alliance
administrators read every line (STATS_ALL); the what-if page needs COSTS_WHATIF; adopting a
model and approving or locking a period need COSTS_ADOPT. The formula in force is printed
beside the numbers and in every download.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from federation.costs.errors import CostError
from federation.costs.exports import statement_tables
from federation.costs.formula import ALLIANCE, GOVERNMENT, formula_text
from federation.costs.periods import parse_period
from federation.costs.services import (
    adopt_model,
    approve_period,
    compare,
    load_model,
    lock_period,
    model_in_force,
    model_params,
    statement,
)
from federation.policy import Permission, allowed
from federation.stats.export import Table
from web import get_db
from web.identity import current_actor, require_member, requires
from web.views.stats_common import alliance, download, export_format, this_month

bp = Blueprint("costs", __name__)

TIERS = ("same_district", "reciprocal", "cross_district")


def _current_quarter() -> str:
    month = this_month()
    return f"{month[:4]}-Q{(int(month[5:]) - 1) // 3 + 1}"


def _period(code: str) -> str:
    try:
        return parse_period(code).code
    except CostError as exc:
        abort(400, description=str(exc))


def _simulated() -> bool:
    return request.args.get("simulated") == "1" or request.form.get("simulated") == "1"


@bp.get("/")
@requires(Permission.STATS_ANY)
def index():
    """Go to the current quarter's statement."""
    return redirect(url_for("costs.period", code=_current_quarter()))


def _scope() -> str | None:
    """Return whose statement to show: None for every line (STATS_ALL) or one member."""
    actor = current_actor()
    member = request.args.get("member") or None
    if allowed(actor, Permission.STATS_ALL):
        return member
    member = member or actor.member_code
    if not member:
        abort(403)
    require_member(Permission.STATS_OWN, member)
    return member


@bp.get("/<code>")
@requires(Permission.STATS_ANY)
def period(code: str):
    """A period's settlement (or one member's statement), its status and the formula."""
    code, member = _period(code), _scope()
    simulated = _simulated()
    with get_db().session() as session:
        st = statement(session, alliance(), code, simulated)
    if fmt := export_format():
        tables = statement_tables(st.settlement, st.status, member, st.simulated)
        return download(tables, fmt, f"statement-{code}{'-' + member if member else ''}")
    lines = (
        st.settlement.for_party(member)
        if member
        else [(line, line.amount) for line in st.settlement.lines]
    )
    nets = st.settlement.net()
    return render_template(
        "stats/statement.html",
        st=st,
        code=code,
        member=member,
        lines=lines,
        nets=sorted(nets.items()),
        balance=sum(nets.values()),
        simulated=st.simulated,
        can_adopt=allowed(current_actor(), Permission.COSTS_ADOPT),
        parties={ALLIANCE: _("Alliance common fund"), GOVERNMENT: _("Government budget")},
        formula=st.settlement.formula,
    )


def _act(action, code: str):
    code = _period(code)
    with get_db().session() as session:
        try:
            if action is lock_period:
                lock_period(session, alliance(), current_actor(), code)
            else:
                approve_period(session, alliance(), current_actor(), code, _simulated())
        except CostError as exc:
            session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("costs.period", code=code))
    return redirect(url_for("costs.period", code=code, simulated="1" if _simulated() else None))


@bp.post("/<code>/approve")
@requires(Permission.COSTS_ADOPT)
def approve(code: str):
    """Approve a period: store its lines as they stand."""
    return _act(approve_period, code)


@bp.post("/<code>/lock")
@requires(Permission.COSTS_ADOPT)
def lock(code: str):
    """Lock an approved period: it never changes again."""
    return _act(lock_period, code)


def _proposed_params(current: dict, form) -> dict:
    """Return the current model's parameters with the form's changes applied."""
    params = {
        **current,
        "weights": dict(current["weights"]),
        "ill_fees": {
            k: (dict(v) if isinstance(v, dict) else v) for k, v in current["ill_fees"].items()
        },
        "district_subsidies": dict(current["district_subsidies"]),
    }
    for key in (
        "common_costs",
        "base_share",
        "net_lender_pool",
        "pool_per_loan_part",
        "averaging_years",
        "size_measure",
    ):
        if form.get(key, "").strip():
            params[key] = _number(form[key], key)
    for key in ("alpha", "beta", "gamma"):
        if form.get(key, "").strip():
            params["weights"][key] = _number(form[key], key)
    for tier in TIERS:
        for kind in ("loan", "copy"):
            if form.get(f"{tier}_{kind}", "").strip():
                params["ill_fees"][tier][kind] = form[f"{tier}_{kind}"].strip()
    for region in _districts():
        value = form.get(f"subsidy_{region.code}", "").strip()
        if value:
            params["district_subsidies"][region.code] = value
        elif f"subsidy_{region.code}" in form:
            params["district_subsidies"].pop(region.code, None)
    return params


def _number(text: str, key: str):
    text = text.strip()
    if key == "size_measure":
        return text
    if key == "averaging_years":
        return int(text) if text.isdigit() else text
    if key in ("common_costs", "net_lender_pool"):
        return text
    try:
        return float(text)
    except ValueError:
        return text  # the schema names the field and what to write


def _districts():
    return [r for r in alliance().regions if r.level in ("district", "county")]


@bp.get("/whatif")
@requires(Permission.COSTS_WHATIF)
def whatif():
    """Compare every member's share under the model in force and a proposed one."""
    code = _period(request.args.get("period") or _current_quarter())
    with get_db().session() as session:
        current = model_in_force(session, alliance(), code)
        current_params = model_params(current)
        error, rows, proposed_text = None, None, None
        params = _proposed_params(current_params, request.args)
        try:
            proposed = load_model(params)
            rows = compare(session, alliance(), code, proposed, _simulated())
            proposed_text = formula_text(proposed)
        except CostError as exc:
            error = str(exc)
    if rows is not None and (fmt := export_format()):
        return download(_whatif_tables(code, rows, current, proposed_text), fmt, f"whatif-{code}")
    return render_template(
        "stats/whatif.html",
        code=code,
        params=params,
        rows=rows,
        error=error,
        formula=formula_text(current),
        proposed_formula=proposed_text,
        tiers=TIERS,
        districts=_districts(),
        tier_labels={
            "same_district": _("same district"),
            "reciprocal": _("reciprocal agreement"),
            "cross_district": _("across districts"),
        },
        simulated=_simulated(),
        can_adopt=allowed(current_actor(), Permission.COSTS_ADOPT),
    ), (400 if error else 200)


def _whatif_tables(code, rows, current, proposed_text) -> list[Table]:
    notes = [f"formula in force: {formula_text(current)}", f"proposed: {proposed_text}"]
    headers = [
        _("Member"),
        _("Current share"),
        _("Proposed share"),
        _("Current net"),
        _("Proposed net"),
        _("Difference"),
    ]
    data = [
        [
            r["member"],
            r["current_share"],
            r["proposed_share"],
            r["current_net"],
            r["proposed_net"],
            r["difference"],
        ]
        for r in rows
    ]
    return [Table(f"What-if {code}", headers, data, notes)]


@bp.post("/whatif/adopt")
@requires(Permission.COSTS_ADOPT)
def adopt():
    """Adopt the proposed model from the period given on."""
    code = _period(request.form.get("period", ""))
    with get_db().session() as session:
        current = model_params(model_in_force(session, alliance(), code))
        try:
            model = load_model(_proposed_params(current, request.form))
            adopt_model(session, current_actor(), model, code, request.form.get("note", ""))
        except CostError as exc:
            session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("costs.whatif", period=code))
    flash(_("The proposed model is adopted from %(period)s on.", period=code), "info")
    return redirect(url_for("costs.period", code=code))
