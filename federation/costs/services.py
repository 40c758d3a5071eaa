"""Cost sharing over the database: the model in force, statements, approval, locking, what-if.

A period is *open* (its statement is computed afresh from the events), then *approved* (its
lines are stored), then *locked* (its months are final: later events for them are counted in
the next open period, and its lines never change).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from marshmallow import ValidationError
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from federation.alliance.model import Alliance, CostSharing, as_plain
from federation.alliance.schemas import CostSharingSchema
from federation.costs.errors import CostError
from federation.costs.formula import Line, Settlement, formula_text, settle
from federation.costs.inputs import gather_inputs
from federation.costs.models import CostModelVersion, CostPeriod, SettlementLine
from federation.costs.periods import parse_period
from federation.models import utcnow
from federation.policy import Permission, allowed
from federation.roles import Actor
from federation.stats.rollup import high_water_mark, lock_months, rollup, utc_offset_minutes


@dataclass(frozen=True)
class Statement:
    """A period's settlement and how far it is (open, approved, locked)."""

    settlement: Settlement
    status: str
    simulated: bool = False


def load_model(params: dict) -> CostSharing:
    """Load cost-sharing parameters (the alliance file's shape); CostError names what to fix."""
    try:
        return CostSharingSchema().load(params)
    except ValidationError as exc:
        raise CostError(f"cost-sharing model: {_first_problem(exc.messages)}") from None


def _first_problem(messages, path: str = "") -> str:
    if isinstance(messages, dict):
        key, value = next(iter(messages.items()))
        where = path if key == "_schema" else f"{path}.{key}".strip(".")
        return _first_problem(value, where)
    if isinstance(messages, list) and messages:
        return _first_problem(messages[0], path)
    return f"{path}: {messages}" if path else str(messages)


def model_in_force(session: Session, alliance: Alliance, period_code: str) -> CostSharing:
    """Return the model adopted for ``period_code``: the newest version valid by then."""
    first = parse_period(period_code).first
    versions = session.scalars(select(CostModelVersion).order_by(CostModelVersion.id)).all()
    valid = [v for v in versions if parse_period(v.valid_from).first <= first]
    if not valid:
        return alliance.cost_sharing
    newest = max(valid, key=lambda v: (parse_period(v.valid_from).first, v.id))
    return load_model(newest.params)


def _require(actor: Actor, permission: Permission) -> None:
    if not allowed(actor, permission):
        raise CostError(f"{actor.label} may not do this (needs {permission.value})")


def adopt_model(
    session: Session, actor: Actor, model: CostSharing, valid_from: str, note: str = ""
) -> CostModelVersion:
    """Adopt ``model`` from period ``valid_from`` on; locked periods keep the model they had."""
    _require(actor, Permission.COSTS_ADOPT)
    period = parse_period(valid_from)
    if _period_row(session, period.code).status == "locked":
        raise CostError(f"{period.code} is locked; adopt the model from the next open period")
    version = CostModelVersion(
        valid_from=period.code, params=model_params(model), adopted_by=actor.label, note=note[:500]
    )
    session.add(version)
    session.flush()
    return version


def model_params(model: CostSharing) -> dict:
    plain = as_plain(model)
    plain["ill_fees"] = {
        k: ({"loan": v["loan"], "copy": v["copy"]} if isinstance(v, dict) else v)
        for k, v in plain["ill_fees"].items()
    }
    return plain


def _period_row(session: Session, code: str) -> CostPeriod:
    return session.get(CostPeriod, code) or CostPeriod(code=code, status="open")


def draft(
    session: Session,
    alliance: Alliance,
    period_code: str,
    include_simulated: bool = False,
    model: CostSharing | None = None,
) -> Settlement:
    """Compute a period's settlement from the events counted so far (stores nothing)."""
    period = parse_period(period_code)
    model = model or model_in_force(session, alliance, period.code)
    return settle(model, gather_inputs(session, alliance, model, period, include_simulated))


def statement(
    session: Session, alliance: Alliance, period_code: str, include_simulated: bool = False
) -> Statement:
    """Return the stored lines of an approved or locked period, else a fresh draft."""
    period = parse_period(period_code)
    row = _period_row(session, period.code)
    if row.status == "open":
        return Statement(
            draft(session, alliance, period.code, include_simulated), "open", include_simulated
        )
    stored = session.scalars(
        select(SettlementLine)
        .where(SettlementLine.period == period.code)
        .order_by(SettlementLine.line_no)
    ).all()
    lines = tuple(
        Line(
            x.kind,
            x.payer,
            x.payee,
            Decimal(x.amount).quantize(Decimal("0.01")),
            x.quantity,
            x.basis,
            tuple(x.refs or ()),
        )
        for x in stored
    )
    params = dict(row.model_params or {})
    # Whether simulated (demo) activity was counted travels with the approved model.
    simulated = bool(params.pop("simulated", False))
    formula = formula_text(load_model(params)) if params else ""
    return Statement(Settlement(period.code, lines, formula), row.status, simulated)


def approve_period(
    session: Session,
    alliance: Alliance,
    actor: Actor,
    period_code: str,
    include_simulated: bool = False,
) -> Statement:
    """Roll up, compute and store the period's lines; the period becomes approved."""
    _require(actor, Permission.COSTS_ADOPT)
    period = parse_period(period_code)
    row = _period_row(session, period.code)
    if row.status == "locked":
        raise CostError(f"{period.code} is locked and never changes; corrections go into the next")
    rollup(session, offset_minutes=utc_offset_minutes(alliance.time_zone))
    model = model_in_force(session, alliance, period.code)
    settlement = draft(session, alliance, period.code, include_simulated, model)
    if sum(settlement.net().values()) != 0:  # cannot happen by construction; never store it
        raise CostError(f"{period.code} does not balance; nothing was stored")
    session.execute(delete(SettlementLine).where(SettlementLine.period == period.code))
    for n, line in enumerate(settlement.lines, start=1):
        session.add(
            SettlementLine(
                period=period.code,
                line_no=n,
                kind=line.kind,
                payer=line.payer,
                payee=line.payee,
                amount=line.amount,
                quantity=line.quantity,
                basis=line.basis[:500],
                refs=list(line.refs),
            )
        )
    row.status, row.approved_by, row.approved_at = "approved", actor.label, utcnow()
    row.approved_through = high_water_mark(session)
    row.model_params = {**model_params(model), "simulated": include_simulated}
    session.merge(row)
    session.flush()
    return Statement(settlement, "approved", include_simulated)


def lock_period(session: Session, alliance: Alliance, actor: Actor, period_code: str) -> None:
    """Lock an approved period: its months become final, unless events arrived since approval."""
    _require(actor, Permission.COSTS_ADOPT)
    period = parse_period(period_code)
    row = _period_row(session, period.code)
    if row.status != "approved":
        raise CostError(f"{period.code} is {row.status}; approve it before locking it")
    rollup(session, offset_minutes=utc_offset_minutes(alliance.time_zone))
    newer = session.execute(
        text("SELECT COUNT(*) FROM usage_events WHERE id > :through"),
        {"through": row.approved_through or 0},
    ).scalar_one()
    if newer and _touches(session, alliance, period_code, row.approved_through or 0):
        raise CostError(f"events for {period.code} arrived since it was approved; approve it again")
    lock_months(session, list(period.months), period.code)
    row.status, row.locked_by, row.locked_at = "locked", actor.label, utcnow()
    session.merge(row)
    session.flush()


def _touches(session: Session, alliance: Alliance, period_code: str, through: int) -> bool:
    from federation.stats.rollup import month_expression

    period = parse_period(period_code)
    month = month_expression(
        session.get_bind().dialect.name, utc_offset_minutes(alliance.time_zone)
    )
    return bool(
        session.execute(
            text(
                f"SELECT COUNT(*) FROM usage_events WHERE id > :through "  # noqa: S608
                f"AND {month} >= :first AND {month} <= :last"
            ),
            {"through": through, "first": period.first, "last": period.last},
        ).scalar_one()
    )


def compare(
    session: Session,
    alliance: Alliance,
    period_code: str,
    proposed: CostSharing,
    include_simulated: bool = False,
) -> list[dict]:
    """Return each member's net under the model in force and under ``proposed``, side by side."""
    current = draft(session, alliance, period_code, include_simulated)
    other = draft(session, alliance, period_code, include_simulated, proposed)
    now, then = current.net(), other.net()
    shares_now, shares_then = current.shares(), other.shares()
    zero = Decimal("0.00")
    return [
        {
            "member": m.code,
            "current_share": shares_now.get(m.code, zero),
            "proposed_share": shares_then.get(m.code, zero),
            "current_net": now.get(m.code, zero),
            "proposed_net": then.get(m.code, zero),
            "difference": then.get(m.code, zero) - now.get(m.code, zero),
        }
        for m in alliance.members
    ]


def period_status(session: Session, period_code: str) -> CostPeriod:
    """Return the period's row (an unsaved open one if it was never approved)."""
    return _period_row(session, parse_period(period_code).code)
