"""The broker: sends a request down its rota, moves on by itself, and records every step.

Services decide whether a change is allowed (``ill.states``); this module carries out what
follows from it: asking the next lender, counting outcomes in the usage events, setting and
clearing timers, and telling the people concerned. It works on the request's record and
queues its writes on the change's :class:`~ill.store.Unit`; the service writes them at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from federation import usage
from federation.roles import SYSTEM, Actor
from ill import states as S
from ill.context import as_utc
from ill.hours import business_deadline
from ill.lenders import holders_of, lender_facts, rota_inputs
from ill.models import IllEvent, IllRequest, IllTimer
from ill.notify import notify
from ill.rota import Holding, Ranker, RotaLine, Wanted
from ill.store import EVENTS, USAGE, EntryRecord, Unit
from ill.timers import clear_timers, set_timer


def log_event(
    session: Session,
    ctx: Any,
    request: IllRequest,
    actor: Actor,
    side: str,
    event: str,
    before: str | None,
    message: str = "",
) -> IllEvent:
    """Append one line to an ORM-loaded request's timeline (and touch it: its version moves on).

    Changes made through the services use :func:`record` instead.
    """
    now = ctx.now()
    request.updated_at = now
    flag_modified(request, "updated_at")  # an UPDATE even at the same instant: the version moves
    entry = IllEvent(
        request_id=request.id,
        at=now,
        actor=actor.label[:200],
        actor_role=actor.role.value,
        side=side,
        event=event,
        from_status=before,
        to_status=request.status,
        lender_code=request.lender_code,
        message=(message or "")[:2000],
    )
    session.add(entry)
    return entry


def record(
    unit: Unit, ctx: Any, actor: Actor, side: str, event: str, before: str | None, message: str = ""
) -> None:
    """Append one line to the request's timeline (and touch it, so its version moves on)."""
    request = unit.request
    now = ctx.now()
    request.updated_at = now
    unit.touched = True
    unit.add(
        EVENTS,
        {
            "request_id": request.id,
            "at": now,
            "actor": actor.label[:200],
            "actor_role": actor.role.value,
            "side": side,
            "event": event,
            "from_status": before,
            "to_status": request.status,
            "lender_code": request.lender_code,
            "message": (message or "")[:2000],
        },
    )


def _usage(unit: Unit, kind: str, when: dt.datetime, partner_code: str | None, value=None) -> None:
    """Count one usage event of the request (the row ``federation.usage.record_usage`` adds)."""
    request = unit.request
    unit.add(
        USAGE,
        usage.usage_row(
            kind,
            member_code=request.borrower_code,
            partner_code=partner_code,
            cluster_id=request.cluster_id,
            value=value,
            ref=f"ill_request:{request.id}",
            occurred_at=when,
            simulated=request.simulated,
        ),
    )


def ranker_for(ctx: Any) -> Ranker:
    """Return the rota ranker of the context's alliance (kept on the context)."""
    ranker = getattr(ctx, "_ranker", None)
    if ranker is None:
        members = {m.code: m for m in ctx.alliance.members}
        weights = ctx.alliance.lender_ranking.normalised()
        ranker = Ranker(members, weights, ctx.deadlines.response_hours)
        ctx._ranker = ranker
    return ranker


def candidates(session: Session, ctx: Any, request: Any) -> list[Holding]:
    """Return the members to consider: the cluster's holders, or (a citation) every member."""
    if request.cluster_id:
        return holders_of(session, request.cluster_id)
    return _everyone(ctx)


def _everyone(ctx: Any) -> list[Holding]:
    return [Holding(m.code, unknown=1) for m in ctx.alliance.members]


def day_start(ctx: Any) -> dt.datetime:
    """Return when today began in the alliance's time zone ("today's load" counts from then)."""
    now = ctx.now().astimezone(ctx.alliance_tz())
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def compute_rota(
    session: Session,
    ctx: Any,
    request: Any,
    holdings: list[Holding] | None = None,
    load: dict[str, int] | None = None,
) -> list[RotaLine]:
    """Rank the request's candidate lenders now (ranked first, then those filtered out).

    ``holdings`` and ``load`` are what the caller read already (see ``lenders.cluster_reads``).
    """
    now = ctx.now()
    since = day_start(ctx)
    if not request.cluster_id:
        holdings, load = _everyone(ctx), None
    elif holdings is None:
        holdings, load = rota_inputs(session, request.cluster_id, since)
    facts = lender_facts(session, [h.member_code for h in holdings], since, ctx, load)
    wanted = Wanted(
        request.borrower_code,
        request.service_type,
        request.service_level,
        request.needed_by,
        float(request.max_cost) if request.max_cost is not None else None,
        request.rota_seed,
    )
    return ranker_for(ctx).rank(wanted, holdings, facts, now)


def build_rota(unit: Unit, ctx: Any, holdings=None, load=None) -> list[EntryRecord]:
    """Rank the candidates and keep the rota (ranked lenders, then those filtered out)."""
    request = unit.request
    lines = compute_rota(unit.session, ctx, request, holdings, load)
    entries = [
        EntryRecord(
            {
                "id": None,
                "request_id": request.id,
                "member_code": line.member_code,
                "position": position,
                "rank": line.rank,
                "filter_reason": line.filter_reason,
                "score": round(line.score, 6),
                "terms": line.terms,
                "tie_break": line.tie_break,
                "outcome": "waiting" if line.rank else "filtered",
                "asked_at": None,
                "deadline_at": line.deadline,
                "answered_at": None,
                "hours": None,
                "message": "",
            }
        )
        for position, line in enumerate(lines, start=1)
    ]
    request.rota.extend(entries)
    return entries


def start(unit: Unit, ctx: Any, actor: Actor, use_local: bool, holdings=None, load=None) -> None:
    """Offer the borrower's own copy first, or send the request to the first lender."""
    request = unit.request
    if request.local_holding and use_local:
        before, request.status = request.status, S.LOCAL_OFFERED
        record(
            unit,
            ctx,
            actor,
            "broker",
            "LocalOffered",
            before,
            "your library holds this item: supply it locally, or route it anyway",
        )
        return
    route_next(unit, ctx, actor, first=True, holdings=holdings, load=load)


def route_next(
    unit: Unit,
    ctx: Any,
    actor: Actor = SYSTEM,
    *,
    first: bool = False,
    holdings=None,
    load=None,
) -> EntryRecord | None:
    """Ask the next lender of the rota; at its end the request is Unfilled, with the reasons."""
    request = unit.request
    if not request.rota:
        build_rota(unit, ctx, holdings, load)
    entry = next((e for e in request.rota if e.rank and e.outcome == "waiting"), None)
    before = request.status
    if entry is None:
        return _end_of_rota(unit, ctx, before)
    hours = _ask(unit, ctx, entry)
    if first:
        _usage(unit, usage.ILL_REQUESTED, ctx.now(), entry.member_code)
    why = f"sent to {entry.member_code} (rank {entry.rank}); answer due within {hours:g} "
    why += "business hours"
    record(unit, ctx, SYSTEM, "broker", "Routed", before, why)
    text = f"New ILL request #{request.id}: {request.title}"
    notify(unit, ctx, entry.member_code, "incoming", text)
    unit.emit("routed", {"lender": entry.member_code})
    return entry


def _ask(unit: Unit, ctx: Any, entry: EntryRecord) -> float:
    """Hand the request to the entry's lender with its response deadline; return the hours."""
    request = unit.request
    policy = ctx.policy(entry.member_code)
    now = ctx.now()
    hours = ctx.deadlines.response_hours(request.service_level, policy)
    entry.outcome, entry.asked_at = "asked", now
    entry.deadline_at = business_deadline(policy, now, hours)
    request.lender_code, request.status = entry.member_code, S.REQUEST_RECEIVED
    request.requester_state = None
    set_timer(unit, "response", entry.deadline_at, entry.member_code)
    return hours


def _end_of_rota(unit: Unit, ctx: Any, before: str) -> None:
    request = unit.request
    now = ctx.now()
    request.status, request.lender_code, request.closed_at = S.UNFILLED, None, now
    clear_timers(unit)
    reasons = (
        "; ".join(f"{e.member_code}: {_why_not(e)}" for e in request.rota)
        or "no library holds this item"
    )
    record(unit, ctx, SYSTEM, "broker", "EndOfRota", before, f"no lender could supply: {reasons}")
    notify(
        unit,
        ctx,
        request.borrower_code,
        "unfilled",
        f"ILL request #{request.id} could not be filled",
    )
    unit.emit("unfilled", {"reasons": reasons})
    return None


def _why_not(entry: Any) -> str:
    if entry.filter_reason:
        return entry.filter_reason
    return entry.outcome + (f" - {entry.message}" if entry.message else "")


def lender_declined(unit: Unit, ctx: Any, outcome: str, message: str) -> None:
    """Close the current lender's turn as ``outcome`` (unfilled/timeout/cancelled), then move on."""
    request = unit.request
    entry = request.current_entry()
    now = ctx.now()
    if entry is not None:
        entry.outcome, entry.answered_at, entry.message = outcome, now, (message or "")[:1000]
        _usage(unit, usage.ILL_UNFILLED, now, entry.member_code)
    clear_timers(unit, "response")
    route_next(unit, ctx)


def after_supplier_status(
    unit: Unit, ctx: Any, status: str, before: str | None = None, due_at: Any = None
) -> None:
    """Carry out what follows a lender's status: statistics, timers, usage, notices.

    ``due_at``: the due date the lender stated with a Loaned (a member's own ISO 18626
    system knows its loan rules); without one the lender's policy sets it."""
    request = unit.request
    now = ctx.now()
    if before in S.AWAITING_ANSWER or before is None:  # the lender answered: its deadline goes
        clear_timers(unit, "response")
    entry = request.current_entry()
    if entry is not None and entry.answered_at is None:
        entry.answered_at = now
    if status in (S.LOANED, S.COPY_COMPLETED):
        _supplied(unit, entry, now)
    if status == S.LOANED:
        policy = ctx.policy(request.lender_code)
        loan_days = (policy.loan_days if policy else None) or 30
        request.due_at = due_at or now + dt.timedelta(days=loan_days)
        set_timer(unit, "due", request.due_at, request.lender_code)
    elif status == S.OVERDUE:
        set_timer(
            unit,
            "recall",
            now + dt.timedelta(days=ctx.deadlines.recall_after_days),
            request.lender_code,
        )
    if status == S.COPY_COMPLETED:
        _usage(unit, usage.COPY_DELIVERED, now, request.lender_code)
    if status in S.TERMINAL:
        close(unit, ctx)
    notify(
        unit,
        ctx,
        request.borrower_code,
        status,
        f"ILL request #{request.id}: {request.lender_code} says {status}",
    )


def _supplied(unit: Unit, entry: EntryRecord | None, now: dt.datetime) -> None:
    if entry is None or entry.outcome == "supplied":
        return
    entry.outcome = "supplied"
    hours = (now - as_utc(entry.asked_at)).total_seconds() / 3600 if entry.asked_at else 0.0
    entry.hours = round(hours, 3)  # the lender's statistics are summed from these (ill:stats)
    _usage(unit, usage.ILL_FILLED, now, entry.member_code, round(hours, 2))


def close(unit: Unit, ctx: Any) -> None:
    """Mark the request finished: timers off, completion counted (the retention clock starts)."""
    request = unit.request
    now = ctx.now()
    request.closed_at = now
    clear_timers(unit)
    if request.status in (S.COPY_COMPLETED, S.LOAN_COMPLETED, S.COMPLETED_WITHOUT_RETURN):
        created = as_utc(request.created_at)
        hours = (now - created).total_seconds() / 3600 if created else None
        value = round(hours, 2) if hours is not None else None
        _usage(unit, usage.ILL_COMPLETED, now, request.lender_code, value)
    elif request.status == S.CANCELLED:
        _usage(unit, usage.ILL_CANCELLED, now, request.lender_code)


def fire_timer(session: Session, ctx: Any, timer: IllTimer) -> int:
    """Act on one due timer through the services; return 1 if it changed the request."""
    from ill import services

    request = session.get(IllRequest, timer.request_id)
    kind, lender = timer.kind, timer.lender_code
    session.delete(timer)
    session.flush()  # the services write past the ORM: the timer goes first
    if request is None:
        return 0
    if kind in ("due", "recall") and request.requester_state in (S.SHIPPED_RETURN, S.LOST):
        return 0  # on its way back, or lost: the lender decides, not the clock
    try:
        if kind == "response":
            return services.time_out(session, SYSTEM, request.id, lender, ctx=ctx)
        if kind == "due":
            services.apply_supplier_status(
                session, SYSTEM, request.id, S.OVERDUE, "due date passed: overdue", ctx=ctx
            )
            return 1
        if kind == "recall":
            services.apply_supplier_status(
                session, SYSTEM, request.id, S.RECALLED, "overdue for too long: recalled", ctx=ctx
            )
            return 1
    except S.IllegalTransition:
        return 0  # the request moved on (returned, renewed, held): the timer is moot
    return 0
