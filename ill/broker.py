"""The broker: sends a request down its rota, moves on by itself, and records every step.

Services decide whether a change is allowed (``ill.states``); this module carries out what
follows from it: asking the next lender, counting outcomes in the lenders' statistics and the
usage events, setting and clearing timers, and telling the people concerned.
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
from ill.lenders import holders_of, lender_facts
from ill.models import IllEvent, IllRequest, IllRotaEntry, IllTimer
from ill.notify import notify
from ill.rota import Holding, Ranker, RotaLine, Wanted
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
    """Append one line to the request's timeline (and touch it, so its version moves on)."""
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


def _usage(session: Session, request: IllRequest, kind: str, when: dt.datetime, **kw: Any) -> None:
    usage.record_usage(
        session,
        kind,
        member_code=request.borrower_code,
        cluster_id=request.cluster_id,
        ref=f"ill_request:{request.id}",
        occurred_at=when,
        simulated=request.simulated,
        **kw,
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


def candidates(session: Session, ctx: Any, request: IllRequest) -> list[Holding]:
    """Return the members to consider: the cluster's holders, or (a citation) every member."""
    if request.cluster_id:
        return holders_of(session, request.cluster_id)
    return [Holding(m.code, unknown=1) for m in ctx.alliance.members]


def compute_rota(session: Session, ctx: Any, request: IllRequest) -> list[RotaLine]:
    """Rank the request's candidate lenders now (ranked first, then those filtered out)."""
    now = ctx.now()
    holdings = candidates(session, ctx, request)
    day_start = now.astimezone(ctx.alliance_tz()).replace(hour=0, minute=0, second=0, microsecond=0)
    facts = lender_facts(session, [h.member_code for h in holdings], day_start)
    wanted = Wanted(
        request.borrower_code,
        request.service_type,
        request.service_level,
        request.needed_by,
        float(request.max_cost) if request.max_cost is not None else None,
        request.rota_seed,
    )
    return ranker_for(ctx).rank(wanted, holdings, facts, now)


def build_rota(session: Session, ctx: Any, request: IllRequest) -> list[IllRotaEntry]:
    """Rank the candidates and store the rota (ranked lenders, then those filtered out)."""
    lines = compute_rota(session, ctx, request)
    entries = [
        IllRotaEntry(
            member_code=line.member_code,
            position=position,
            rank=line.rank,
            filter_reason=line.filter_reason,
            score=round(line.score, 6),
            terms=line.terms,
            tie_break=line.tie_break,
            deadline_at=line.deadline,
            outcome="waiting" if line.rank else "filtered",
        )
        for position, line in enumerate(lines, start=1)
    ]
    request.rota.extend(entries)
    return entries


def start(session: Session, ctx: Any, request: IllRequest, actor: Actor, use_local: bool) -> None:
    """Offer the borrower's own copy first, or send the request to the first lender."""
    if request.local_holding and use_local:
        before, request.status = request.status, S.LOCAL_OFFERED
        log_event(
            session,
            ctx,
            request,
            actor,
            "broker",
            "LocalOffered",
            before,
            "your library holds this item: supply it locally, or route it anyway",
        )
        return
    route_next(session, ctx, request, actor, first=True)


def route_next(
    session: Session, ctx: Any, request: IllRequest, actor: Actor = SYSTEM, *, first: bool = False
) -> IllRotaEntry | None:
    """Ask the next lender of the rota; at its end the request is Unfilled, with the reasons."""
    if not request.rota:
        build_rota(session, ctx, request)
    entry = next((e for e in request.rota if e.rank and e.outcome == "waiting"), None)
    before = request.status
    if entry is None:
        return _end_of_rota(session, ctx, request, before)
    hours = _ask(session, ctx, request, entry)
    if first:
        _usage(session, request, usage.ILL_REQUESTED, ctx.now(), partner_code=entry.member_code)
    why = f"sent to {entry.member_code} (rank {entry.rank}); answer due within {hours:g} "
    why += "business hours"
    log_event(session, ctx, request, SYSTEM, "broker", "Routed", before, why)
    text = f"New ILL request #{request.id}: {request.title}"
    notify(session, ctx, entry.member_code, request, "incoming", text)
    ctx.emit("routed", request, {"lender": entry.member_code})
    return entry


def _ask(session: Session, ctx: Any, request: IllRequest, entry: IllRotaEntry) -> float:
    """Hand the request to the entry's lender with its response deadline; return the hours."""
    policy = ctx.policy(entry.member_code)
    now = ctx.now()
    hours = ctx.deadlines.response_hours(request.service_level, policy)
    entry.outcome, entry.asked_at = "asked", now
    entry.deadline_at = business_deadline(policy, now, hours)
    request.lender_code, request.status = entry.member_code, S.REQUEST_RECEIVED
    request.requester_state = None
    set_timer(session, request, "response", entry.deadline_at, entry.member_code)
    return hours


def _end_of_rota(session: Session, ctx: Any, request: IllRequest, before: str) -> None:
    now = ctx.now()
    request.status, request.lender_code, request.closed_at = S.UNFILLED, None, now
    clear_timers(session, request)
    reasons = (
        "; ".join(f"{e.member_code}: {_why_not(e)}" for e in request.rota)
        or "no library holds this item"
    )
    log_event(
        session,
        ctx,
        request,
        SYSTEM,
        "broker",
        "EndOfRota",
        before,
        f"no lender could supply: {reasons}",
    )
    notify(
        session,
        ctx,
        request.borrower_code,
        request,
        "unfilled",
        f"ILL request #{request.id} could not be filled",
    )
    ctx.emit("unfilled", request, {"reasons": reasons})
    return None


def _why_not(entry: IllRotaEntry) -> str:
    if entry.filter_reason:
        return entry.filter_reason
    return entry.outcome + (f" - {entry.message}" if entry.message else "")


def current_entry(request: IllRequest) -> IllRotaEntry | None:
    """Return the rota entry of the lender holding the request now."""
    for e in request.rota:
        if e.member_code == request.lender_code and e.outcome in ("asked", "supplied"):
            return e
    return None


def lender_declined(
    session: Session, ctx: Any, request: IllRequest, outcome: str, message: str
) -> None:
    """Close the current lender's turn as ``outcome`` (unfilled/timeout/cancelled), then move on."""
    entry = current_entry(request)
    now = ctx.now()
    if entry is not None:
        entry.outcome, entry.answered_at, entry.message = outcome, now, (message or "")[:1000]
        _usage(session, request, usage.ILL_UNFILLED, now, partner_code=entry.member_code)
    clear_timers(session, request, "response")
    route_next(session, ctx, request)


def after_supplier_status(
    session: Session, ctx: Any, request: IllRequest, status: str, before: str | None = None
) -> None:
    """Carry out what follows a lender's status: statistics, timers, usage, notices."""
    now = ctx.now()
    if before in S.AWAITING_ANSWER or before is None:  # the lender answered: its deadline goes
        clear_timers(session, request, "response")
    entry = current_entry(request)
    if entry is not None and entry.answered_at is None:
        entry.answered_at = now
    if status in (S.LOANED, S.COPY_COMPLETED):
        _supplied(session, ctx, request, entry, now)
    if status == S.LOANED:
        policy = ctx.policy(request.lender_code)
        request.due_at = now + dt.timedelta(days=(policy.loan_days if policy else None) or 30)
        set_timer(session, request, "due", request.due_at, request.lender_code)
    elif status == S.OVERDUE:
        set_timer(
            session,
            request,
            "recall",
            now + dt.timedelta(days=ctx.deadlines.recall_after_days),
            request.lender_code,
        )
    if status == S.COPY_COMPLETED:
        _usage(session, request, usage.COPY_DELIVERED, now, partner_code=request.lender_code)
    if status in S.TERMINAL:
        close(session, ctx, request)
    notify(
        session,
        ctx,
        request.borrower_code,
        request,
        status,
        f"ILL request #{request.id}: {request.lender_code} says {status}",
    )


def _supplied(
    session: Session, ctx: Any, request: IllRequest, entry: IllRotaEntry | None, now
) -> None:
    if entry is None or entry.outcome == "supplied":
        return
    entry.outcome = "supplied"
    hours = (now - as_utc(entry.asked_at)).total_seconds() / 3600 if entry.asked_at else 0.0
    entry.hours = round(hours, 3)  # the lender's statistics are summed from these (ill:stats)
    _usage(
        session,
        request,
        usage.ILL_FILLED,
        now,
        partner_code=entry.member_code,
        value=round(hours, 2),
    )


def close(session: Session, ctx: Any, request: IllRequest) -> None:
    """Mark the request finished: timers off, completion counted (the retention clock starts)."""
    now = ctx.now()
    request.closed_at = now
    clear_timers(session, request)
    if request.status in (S.COPY_COMPLETED, S.LOAN_COMPLETED, S.COMPLETED_WITHOUT_RETURN):
        hours = (
            (now - as_utc(request.created_at)).total_seconds() / 3600
            if request.created_at
            else None
        )
        _usage(
            session,
            request,
            usage.ILL_COMPLETED,
            now,
            partner_code=request.lender_code,
            value=round(hours, 2) if hours is not None else None,
        )
    elif request.status == S.CANCELLED:
        _usage(session, request, usage.ILL_CANCELLED, now, partner_code=request.lender_code)


def fire_timer(session: Session, ctx: Any, timer: IllTimer) -> int:
    """Act on one due timer through the services; return 1 if it changed the request."""
    from ill import services

    request = session.get(IllRequest, timer.request_id)
    kind, lender = timer.kind, timer.lender_code
    session.delete(timer)
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
