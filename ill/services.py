"""ILL services: create, read and change requests. Web views, the API and ISO 18626 call these.

Every call takes the acting :class:`~federation.roles.Actor`; access follows
``federation.policy``: the borrowing library's staff see and act on their own requests and
alone may open the reader's name and card (each read audited); a lender's staff see the
requests they were asked to supply, never the reader; readers see their own. A request of
another member is reported as not found. Changes check the state machine (``ill.states``)
and the request's version (optimistic locking): a stale version raises :class:`Conflict`.
"""

from __future__ import annotations

import random
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from federation.models import ClusterRecord, Record
from federation.policy import Permission, allowed
from federation.privacy import audit
from federation.roles import Actor, Role
from ill import broker
from ill import states as S
from ill.access import can_read, get_request, open_patron
from ill.context import IllContext, as_utc, current
from ill.errors import Conflict, Forbidden, IllError, InvalidRequest, NotFound
from ill.models import IllRequest, IllRotaEntry
from ill.notify import notify
from ill.schemas import NewRequestSchema, first_error
from ill.states import IllegalTransition

__all__ = [
    "Conflict",
    "Forbidden",
    "IllError",
    "IllegalTransition",
    "InvalidRequest",
    "NotFound",
    "apply_requester_action",
    "apply_supplier_status",
    "create_request",
    "get_request",
    "open_patron",
    "can_read",
]


_NEW_REQUEST = NewRequestSchema()  # schemas hold no state between loads: build it once


# -- creating -------------------------------------------------------------------------------


def create_request(
    session: Session,
    actor: Actor,
    *,
    ctx: IllContext | None = None,
    simulated: bool = False,
    idempotency_key: str | None = None,
    **fields: Any,
) -> IllRequest:
    """Place a request for the actor's library (a reader's waits for staff approval).

    With ``idempotency_key``, placing the same request again returns the first one.
    """
    ctx = current(ctx)
    borrower = _borrower(actor)
    if idempotency_key:
        found = find_by_key(session, borrower, idempotency_key)
        if found is not None:
            return found
    try:
        data = _NEW_REQUEST.load(fields)
    except ValidationError as exc:
        raise InvalidRequest(first_error(exc.messages)) from None
    request = _new_request(session, ctx, actor, borrower, data, idempotency_key, simulated)
    if idempotency_key:
        try:
            with session.begin_nested():  # a twin placed at the same moment wins; return it
                session.add(request)
                session.flush()
        except IntegrityError:
            found = find_by_key(session, borrower, idempotency_key)
            if found is None:
                raise
            return found
    else:
        session.add(request)
        session.flush()
    with session.no_autoflush:
        _after_create(session, ctx, actor, request, data)
    _finish(session, request)
    return request


def _borrower(actor: Actor) -> str:
    staff_or_reader = actor.role is Role.READER or allowed(
        actor, Permission.ILL_ACT, actor.member_code
    )
    if staff_or_reader and actor.member_code:
        return actor.member_code
    raise Forbidden("only a member's ILL staff or its readers can place a request")


def find_by_key(session: Session, borrower: str, key: str) -> IllRequest | None:
    return session.scalar(
        select(IllRequest).where(
            IllRequest.borrower_code == borrower, IllRequest.idempotency_key == key[:100]
        )
    )


def _new_request(session, ctx, actor, borrower, data, key, simulated) -> IllRequest:
    title, holders = _describe(session, data)
    reader = actor.role is Role.READER
    return IllRequest(
        borrower_code=borrower,
        cluster_id=data["cluster_id"],
        citation=data["citation"] or {},
        title=title,
        service_type=data["service_type"],
        service_level=data["service_level"],
        needed_by=data["needed_by"],
        max_cost=data["max_cost"],
        pickup_location=data["pickup_location"],
        patron_name=ctx.cipher.seal(data["patron_name"]),
        patron_card=ctx.cipher.seal(data["patron_card"]),
        patron_digest=ctx.digest(data["patron_card"]),
        reader_user_id=actor.user_id if reader else None,
        mediated=reader,
        local_holding=borrower in holders,
        status=S.SUBMITTED if reader else S.NEW,
        rota_seed=(ctx.rng or random.SystemRandom()).randrange(2**31),
        idempotency_key=key and key[:100],
        note=data["note"],
        simulated=simulated,
        created_at=ctx.now(),
        updated_at=ctx.now(),
        version=1,
        renewals=0,
    )


def _describe(session: Session, data: dict) -> tuple[str, set[str]]:
    """Return the title to show and the members holding the cluster."""
    if not data["cluster_id"]:
        c = data["citation"]
        return (c.get("article_title") or c["title"])[:500], set()
    rows = session.execute(
        select(Record.member_code, Record.normalised)
        .join(ClusterRecord, ClusterRecord.record_id == Record.id)
        .where(ClusterRecord.cluster_id == data["cluster_id"], Record.status == "active")
        .order_by(Record.id)
    ).all()
    if not rows:
        raise InvalidRequest(f"cluster_id: no title {data['cluster_id']!r} in the union catalogue")
    title = next(((n or {}).get("title") for _c, n in rows if (n or {}).get("title")), "")
    return (title or data["cluster_id"])[:500], {code for code, _n in rows}


def _after_create(session, ctx, actor, request: IllRequest, data: dict) -> None:
    if request.patron_digest and request.cluster_id:
        request.duplicate_of = session.scalar(
            select(IllRequest.id)
            .where(
                IllRequest.borrower_code == request.borrower_code,
                IllRequest.patron_digest == request.patron_digest,
                IllRequest.cluster_id == request.cluster_id,
                IllRequest.closed_at.is_(None),
                IllRequest.id != request.id,
            )
            .order_by(IllRequest.id)
            .limit(1)
        )
    if request.patron_name or request.patron_card:
        audit(session, actor, "change", f"ill_request:{request.id}", "patron data recorded")
    dup = (
        f" (same reader already has open request #{request.duplicate_of})"
        if request.duplicate_of
        else ""
    )
    broker.log_event(
        session, ctx, request, actor, "requester", "Created", None, f"{request.service_type}{dup}"
    )
    if request.status == S.SUBMITTED:
        notify(
            session,
            ctx,
            request.borrower_code,
            request,
            "mediated",
            f"A reader asks for ILL request #{request.id}: {request.title}",
        )
        return
    broker.start(session, ctx, request, actor, data["use_local"])


# -- changing -------------------------------------------------------------------------------


def _load_for_change(session, actor, request_id, expected_version) -> IllRequest:
    request = get_request(session, actor, request_id)
    if expected_version is not None and int(expected_version) != request.version:
        raise Conflict(
            f"ILL request {request.id} was changed by someone else (it is at version "
            f"{request.version}, you had {expected_version}); reload it and try again"
        )
    return request


def _finish(session: Session, request: IllRequest) -> None:
    """Write the change; a writer that got there first turns it into a Conflict."""
    rid = request.id  # read now: after a failed flush the object cannot be read
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(
            f"ILL request {rid} was changed by someone else at the same moment; "
            "reload it and try again"
        ) from None


def apply_supplier_status(
    session: Session,
    actor: Actor,
    request_id: int,
    status: str,
    message: str = "",
    expected_version: int | None = None,
    *,
    ctx: IllContext | None = None,
) -> IllRequest:
    """Record a lender's ISO 18626 status for the request (the lender's staff or the broker)."""
    ctx = current(ctx)
    request = _load_for_change(session, actor, request_id, expected_version)
    if not request.lender_code or not (
        actor.role is Role.SYSTEM or allowed(actor, Permission.ILL_ACT, request.lender_code)
    ):
        raise Forbidden(f"only the lender holding ILL request {request.id} can answer it")
    S.supplier_move(request.status, status, request.service_type)
    before, request.status = request.status, status
    with session.no_autoflush:  # one flush at the end: the request's row first, then the rest
        broker.log_event(session, ctx, request, actor, "supplier", status, before, message)
        if status in S.LENDER_DECLINES:
            reason = f"{status}: {message}".strip(": ")
            broker.lender_declined(session, ctx, request, "unfilled", reason)
        else:
            broker.after_supplier_status(session, ctx, request, status, before)
    _finish(session, request)
    ctx.emit("supplier_status", request, {"status": status, "message": message})
    return request


def apply_requester_action(
    session: Session,
    actor: Actor,
    request_id: int,
    action: str,
    message: str = "",
    expected_version: int | None = None,
    *,
    ctx: IllContext | None = None,
) -> IllRequest:
    """Take a borrower's action on the request (the borrower's staff or the broker)."""
    ctx = current(ctx)
    request = _load_for_change(session, actor, request_id, expected_version)
    if not (actor.role is Role.SYSTEM or allowed(actor, Permission.ILL_ACT, request.borrower_code)):
        raise Forbidden(f"only the borrowing library's staff can act on ILL request {request.id}")
    spec = S.requester_move(request.status, request.requester_state, action)
    if action == S.RENEW:
        _check_renewal(ctx, request)
    before = request.status
    request.status = spec.to_status or request.status
    request.requester_state = spec.to_requester or request.requester_state
    with session.no_autoflush:
        broker.log_event(session, ctx, request, actor, "requester", action, before, message)
        _after_action(session, ctx, request, action, before, message)
    _finish(session, request)
    ctx.emit("requester_action", request, {"action": action, "message": message})
    return request


def _check_renewal(ctx: IllContext, request: IllRequest) -> None:
    if request.renewals >= ctx.deadlines.max_renewals:
        raise IllegalTransition(
            f"Renew is not allowed: {request.renewals} of {ctx.deadlines.max_renewals} "
            "renewal(s) already used; return the item"
        )


def _after_action(
    session, ctx, request: IllRequest, action: str, before: str, message: str
) -> None:
    lender = request.lender_code
    if action in (S.APPROVE, S.ROUTE_ANYWAY):
        broker.start(session, ctx, request, Actor(Role.SYSTEM, name="broker"), use_local=False)
    elif action == S.CANCEL:
        entry = broker.current_entry(request)
        if entry is not None and entry.outcome == "asked":
            entry.outcome, entry.answered_at = "cancelled", ctx.now()
        broker.close(session, ctx, request)
    elif action in (S.REFUSE, S.SUPPLY_LOCALLY):
        broker.close(session, ctx, request)
    elif action == S.RENEW:
        _renew(session, ctx, request)
    if lender and action in (
        S.SHIPPED_RETURN,
        S.CANCEL,
        S.LOST,
        S.NOTIFICATION,
        S.RENEW,
        S.RECEIVED,
    ):
        notify(
            session,
            ctx,
            lender,
            request,
            action,
            f"ILL request #{request.id}: {request.borrower_code} {action}: {message}".rstrip(": "),
        )


def _renew(session, ctx, request: IllRequest) -> None:
    """Extend the loan by the lender's loan period; an overdue loan is on loan again."""
    import datetime as dt

    from ill.timers import clear_timers, set_timer

    policy = ctx.policy(request.lender_code)
    days = (policy.loan_days if policy else None) or 30
    request.renewals += 1
    request.due_at = max(as_utc(request.due_at) or ctx.now(), ctx.now()) + dt.timedelta(days=days)
    if request.status == S.OVERDUE:
        request.status = S.LOANED
    clear_timers(session, request, "recall")
    set_timer(session, request, "due", request.due_at, request.lender_code)


def time_out(
    session: Session,
    actor: Actor,
    request_id: int,
    lender: str | None,
    *,
    ctx: IllContext | None = None,
) -> int:
    """Cancel with a lender that did not answer in time and move on; return 1 if it did."""
    ctx = current(ctx)
    request = get_request(session, actor, request_id)
    if request.status not in S.AWAITING_ANSWER or request.lender_code != lender:
        return 0
    hours = (
        ctx.deadlines.response_hours(request.service_level, ctx.policy(lender))
        if ctx.policy(lender)
        else 0
    )
    why = f"no answer from {lender} within {hours:g} business hours; cancelled with it"
    with session.no_autoflush:
        broker.log_event(session, ctx, request, actor, "broker", "Timeout", request.status, why)
        notify(session, ctx, lender, request, "timeout",
               f"ILL request #{request.id} was withdrawn: no answer in time")  # fmt: skip
        broker.lender_declined(session, ctx, request, "timeout", "no answer in time")
    _finish(session, request)
    return 1


def rota_of(session: Session, actor: Actor, request_id: int) -> list[IllRotaEntry]:
    """Return the request's rota (ranked lenders, then those filtered out, with reasons)."""
    return list(get_request(session, actor, request_id).rota)
