"""ILL services: create, read and change requests. Web views, the API and ISO 18626 call these.

Every call takes the acting :class:`~federation.roles.Actor`; access follows
``federation.policy``: the borrowing library's staff see and act on their own requests and
alone may open the reader's name and card (each read audited); a lender's staff see the
requests they were asked to supply, never the reader; readers see their own. A request of
another member is reported as not found. Changes check the state machine (``ill.states``)
and the request's version (optimistic locking): a stale version raises :class:`Conflict`.

Each change reads the request once and writes what follows from it in one go, guarded by
the version it read (``ill.store``): of two staff acting at the same moment, one succeeds and
the other gets a Conflict.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from federation.policy import Permission, allowed
from federation.privacy import audit_row
from federation.roles import Actor, Role
from ill import broker
from ill import states as S
from ill.access import can_read, get_request, open_patron
from ill.context import IllContext, as_utc, current
from ill.errors import Conflict, Forbidden, IllError, InvalidRequest, NotFound
from ill.lenders import cluster_reads, holdings_and_load
from ill.models import IllRequest, IllRotaEntry
from ill.notify import notify
from ill.schemas import NewRequestSchema, first_error
from ill.sql import fetch_many
from ill.states import IllegalTransition
from ill.store import (
    AUDIT,
    RequestRecord,
    Unit,
    attach,
    insert_request,
    load_request,
    next_request_id_read,
)
from ill.timers import clear_timers, set_timer

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
    commit: bool = False,
    **fields: Any,
) -> IllRequest:
    """Place a request for the actor's library (a reader's waits for staff approval).

    With ``idempotency_key``, placing the same request again returns the first one. With
    ``commit`` the call is the whole transaction: it commits the session (see :func:`_write`).
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
    session.flush()  # the caller's pending ORM changes go first
    digest = ctx.digest(data["patron_card"])
    # On PostgreSQL the new id is drawn with the reads and the row inserted with the writes
    # (one round trip and one UPDATE less); a keyed request is inserted first, in a savepoint.
    draw_id = not idempotency_key and session.get_bind().dialect.name == "postgresql"
    title, holdings, load, duplicate_of, rid = _describe(
        session, ctx, borrower, data, digest, draw_id
    )
    values = _new_values(ctx, actor, borrower, data, idempotency_key, simulated, title, holdings)
    values["patron_digest"], values["duplicate_of"] = digest, duplicate_of
    if idempotency_key:
        try:
            with session.begin_nested():  # a twin placed at the same moment wins; return it
                rid = insert_request(session, values)
        except IntegrityError:
            found = find_by_key(session, borrower, idempotency_key)
            if found is None:
                raise
            return found
    elif rid is None:
        rid = insert_request(session, values)
    request = RequestRecord(session, {"id": rid, **values}, is_new=True, unwritten=draw_id)
    request.set_rota([])
    unit = Unit(session, request)
    _after_create(unit, ctx, actor, data, holdings, load)
    return _write(unit, ctx, commit=commit)


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


def _new_values(ctx, actor, borrower, data, key, simulated, title, holdings) -> dict[str, Any]:
    reader = actor.role is Role.READER
    now = ctx.now()
    return {
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "borrower_code": borrower,
        "lender_code": None,
        "cluster_id": data["cluster_id"],
        "citation": data["citation"] or {},
        "title": title,
        "service_type": data["service_type"],
        "service_level": data["service_level"],
        "needed_by": data["needed_by"],
        "max_cost": data["max_cost"],
        "pickup_location": data["pickup_location"],
        "patron_name": ctx.cipher.seal(data["patron_name"]),
        "patron_card": ctx.cipher.seal(data["patron_card"]),
        "patron_digest": None,
        "reader_user_id": actor.user_id if reader else None,
        "mediated": reader,
        "duplicate_of": None,
        "local_holding": any(h.member_code == borrower for h in holdings or ()),
        "status": S.SUBMITTED if reader else S.NEW,
        "requester_state": None,
        "rota_seed": (ctx.rng or random.SystemRandom()).randrange(2**31),
        "due_at": None,
        "renewals": 0,
        "idempotency_key": key and key[:100],
        "note": data["note"],
        "closed_at": None,
        "anonymised_at": None,
        "simulated": simulated,
    }


def _describe(
    session: Session, ctx, borrower: str, data: dict, digest: str | None, draw_id: bool
) -> tuple:
    """Return the title to show, the cluster's holdings, their load today, the same reader's
    open request for the same title (if any) and, with ``draw_id``, the new request's id
    (reads sent together)."""
    cluster = data["cluster_id"]
    reads = cluster_reads(cluster, broker.day_start(ctx)) if cluster else []
    if cluster and digest:
        params = {"borrower": borrower, "digest": digest, "cluster": cluster}
        reads.append(("duplicate", lambda: _DUPLICATE, params))
    if draw_id:
        reads.append(next_request_id_read())
    results = fetch_many(session, reads) if reads else []
    rid = int(results.pop()[0][0]) if draw_id else None
    if not cluster:
        c = data["citation"]
        return (c.get("article_title") or c["title"])[:500], None, None, None, rid
    holder_rows, load_rows, *duplicate = results
    if not holder_rows:
        raise InvalidRequest(f"cluster_id: no title {cluster!r} in the union catalogue")
    title = next((t for _c, t, _h in holder_rows if t), "")
    holdings, load = holdings_and_load(holder_rows, load_rows)
    duplicate_of = duplicate[0][0][0] if duplicate and duplicate[0] else None
    return (title or cluster)[:500], holdings, load, duplicate_of, rid


_DUPLICATE = (
    select(IllRequest.id)
    .where(
        IllRequest.borrower_code == bindparam("borrower"),
        IllRequest.patron_digest == bindparam("digest"),
        IllRequest.cluster_id == bindparam("cluster"),
        IllRequest.closed_at.is_(None),
    )
    .order_by(IllRequest.id)
    .limit(1)
)


def _after_create(unit: Unit, ctx, actor, data: dict, holdings, load) -> None:
    request = unit.request
    if request.patron_name or request.patron_card:
        unit.add(AUDIT, audit_row(actor, "change", f"ill_request:{request.id}",
                                   "patron data recorded"))  # fmt: skip
    dup = (
        f" (same reader already has open request #{request.duplicate_of})"
        if request.duplicate_of
        else ""
    )
    broker.record(unit, ctx, actor, "requester", "Created", None, f"{request.service_type}{dup}")
    if request.status == S.SUBMITTED:
        notify(
            unit,
            ctx,
            request.borrower_code,
            "mediated",
            f"A reader asks for ILL request #{request.id}: {request.title}",
        )
        return
    broker.start(unit, ctx, actor, data["use_local"], holdings, load)


# -- changing -------------------------------------------------------------------------------


def _load_for_change(session, actor, request_id, expected_version) -> RequestRecord:
    session.flush()  # the caller's pending ORM changes go first
    request = load_request(session, request_id) if isinstance(request_id, int) else None
    if request is None or not can_read(actor, request):
        raise NotFound(f"no ILL request {request_id}")
    if expected_version is not None and int(expected_version) != request.version:
        raise Conflict(
            f"ILL request {request.id} was changed by someone else (it is at version "
            f"{request.version}, you had {expected_version}); reload it and try again"
        )
    return request


def _write(
    unit: Unit, ctx: IllContext, event: str | None = None, detail=None, commit: bool = False
) -> IllRequest:
    """Write the change (a writer that got there first makes it a Conflict), then tell.

    With ``commit`` the caller says the service call is the whole transaction: the session is
    committed before returning (everything it holds, as ``Session.commit`` would), and on
    PostgreSQL the COMMIT travels with the writes (one round trip less). A Conflict then still
    writes nothing: the guarded UPDATE fails inside the server and the COMMIT becomes a
    rollback. The listeners are told before the session's commit, whose hooks (ISO 18626
    outbox, mail) send what they queued.
    """
    unit.flush(commit=commit)
    request = attach(unit.session, unit.request)
    for name, what in unit.emits:
        ctx.emit(name, request, what)
    if event:
        ctx.emit(event, request, detail)
    if commit:
        unit.session.commit()  # PostgreSQL: committed already; no round trip
    return request


def apply_supplier_status(
    session: Session,
    actor: Actor,
    request_id: int,
    status: str,
    message: str = "",
    expected_version: int | None = None,
    *,
    ctx: IllContext | None = None,
    commit: bool = False,
    due_at: dt.datetime | None = None,
) -> IllRequest:
    """Record a lender's ISO 18626 status for the request (the lender's staff or the broker).

    ``due_at``: the due date a lender's own system stated with its Loaned.
    ``commit``: the call is the whole transaction (see :func:`_write`)."""
    ctx = current(ctx)
    request = _load_for_change(session, actor, request_id, expected_version)
    _check_lender(actor, request)
    S.supplier_move(request.status, status, request.service_type)
    before, request.status = request.status, status
    unit = Unit(session, request)
    broker.record(unit, ctx, actor, "supplier", status, before, message)
    if status in S.LENDER_DECLINES:
        reason = f"{status}: {message}".strip(": ")
        broker.lender_declined(unit, ctx, "unfilled", reason)
    else:
        broker.after_supplier_status(unit, ctx, status, before, due_at)
    return _write(
        unit, ctx, "supplier_status", {"status": status, "message": message}, commit=commit
    )


def _check_lender(actor: Actor, request: Any) -> None:
    if not request.lender_code or not (
        actor.role is Role.SYSTEM or allowed(actor, Permission.ILL_ACT, request.lender_code)
    ):
        raise Forbidden(f"only the lender holding ILL request {request.id} can answer it")


def record_lender_due_date(
    session: Session,
    actor: Actor,
    request_id: int,
    due_at: dt.datetime | None,
    *,
    renewal: str | None = None,
    note: str = "",
    ctx: IllContext | None = None,
) -> IllRequest:
    """Take a lender's answer that keeps the status but speaks of the loan's due date.

    A member's own ISO 18626 system answers a Renew with RenewResponse: ``renewal`` "Y" or
    "N", with the due date it holds (``due_at``, optional). The borrower's side renews at
    once when its staff ask (:func:`_renew`); a refusal takes that renewal back, and the
    lender's stated due date is the one kept, with the due timer moved to it.
    """
    ctx = current(ctx)
    request = _load_for_change(session, actor, request_id, None)
    _check_lender(actor, request)
    if request.status not in S.ON_LOAN:
        raise IllegalTransition(
            f"a due date for ILL request {request.id} means nothing in {request.status}"
        )
    unit = Unit(session, request)
    refused = renewal == "N"
    if refused and request.renewals > 0:
        request.renewals = request.renewals - 1
    if due_at is not None and as_utc(due_at) != as_utc(request.due_at):
        request.due_at = due_at
        set_timer(unit, "due", due_at, request.lender_code)
    event = "RenewRefused" if refused else ("RenewConfirmed" if renewal == "Y" else "DueDate")
    when = f"due {as_utc(request.due_at):%Y-%m-%d}" if request.due_at else "no due date given"
    text = "; ".join(filter(None, (when, note)))
    broker.record(unit, ctx, actor, "supplier", event, request.status, text)
    return _write(unit, ctx, "supplier_status", {"status": request.status, "message": text})


def apply_requester_action(
    session: Session,
    actor: Actor,
    request_id: int,
    action: str,
    message: str = "",
    expected_version: int | None = None,
    *,
    ctx: IllContext | None = None,
    commit: bool = False,
) -> IllRequest:
    """Take a borrower's action on the request (the borrower's staff or the broker; a
    reader may only cancel their own request, while nothing has been shipped).

    ``commit``: the call is the whole transaction (see :func:`_write`)."""
    ctx = current(ctx)
    request = _load_for_change(session, actor, request_id, expected_version)
    # A reader may withdraw their own request (_load_for_change let only its reader see it).
    own_cancel = action == S.CANCEL and actor.role is Role.READER
    if not (
        own_cancel
        or actor.role is Role.SYSTEM
        or allowed(actor, Permission.ILL_ACT, request.borrower_code)
    ):
        raise Forbidden(f"only the borrowing library's staff can act on ILL request {request.id}")
    spec = S.requester_move(request.status, request.requester_state, action)
    if action == S.RENEW:
        _check_renewal(ctx, request)
    before = request.status
    if spec.to_status and spec.to_status != request.status:
        request.status = spec.to_status
    if spec.to_requester and spec.to_requester != request.requester_state:
        request.requester_state = spec.to_requester
    unit = Unit(session, request)
    broker.record(unit, ctx, actor, "requester", action, before, message)
    _after_action(unit, ctx, action, before, message)
    if own_cancel:  # the library's staff learn it from a notice, not from a changed queue only
        notify(
            unit,
            ctx,
            request.borrower_code,
            "cancelled",
            f"The reader cancelled ILL request #{request.id}: {request.title}",
        )
    return _write(
        unit, ctx, "requester_action", {"action": action, "message": message}, commit=commit
    )


def _check_renewal(ctx: IllContext, request: Any) -> None:
    if request.renewals >= ctx.deadlines.max_renewals:
        raise IllegalTransition(
            f"Renew is not allowed: {request.renewals} of {ctx.deadlines.max_renewals} "
            "renewal(s) already used; return the item"
        )


def _after_action(unit: Unit, ctx, action: str, before: str, message: str) -> None:
    request = unit.request
    lender = request.lender_code
    if action in (S.APPROVE, S.ROUTE_ANYWAY):
        broker.start(unit, ctx, Actor(Role.SYSTEM, name="broker"), use_local=False)
    elif action == S.CANCEL:
        entry = request.current_entry()
        if entry is not None and entry.outcome == "asked":
            entry.outcome, entry.answered_at = "cancelled", ctx.now()
        broker.close(unit, ctx)
    elif action in (S.REFUSE, S.SUPPLY_LOCALLY):
        broker.close(unit, ctx)
    elif action == S.RENEW:
        _renew(unit, ctx)
    if lender and action in (
        S.SHIPPED_RETURN,
        S.CANCEL,
        S.LOST,
        S.NOTIFICATION,
        S.RENEW,
        S.RECEIVED,
    ):
        notify(
            unit,
            ctx,
            lender,
            action,
            f"ILL request #{request.id}: {request.borrower_code} {action}: {message}".rstrip(": "),
        )


def _renew(unit: Unit, ctx) -> None:
    """Extend the loan by the lender's loan period; an overdue loan is on loan again."""
    import datetime as dt

    request = unit.request
    policy = ctx.policy(request.lender_code)
    days = (policy.loan_days if policy else None) or 30
    request.renewals = request.renewals + 1
    request.due_at = max(as_utc(request.due_at) or ctx.now(), ctx.now()) + dt.timedelta(days=days)
    if request.status == S.OVERDUE:
        request.status = S.LOANED
    clear_timers(unit, "recall")
    set_timer(unit, "due", request.due_at, request.lender_code)


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
    request = _load_for_change(session, actor, request_id, None)
    if request.status not in S.AWAITING_ANSWER or request.lender_code != lender:
        return 0
    hours = (
        ctx.deadlines.response_hours(request.service_level, ctx.policy(lender))
        if ctx.policy(lender)
        else 0
    )
    why = f"no answer from {lender} within {hours:g} business hours; cancelled with it"
    unit = Unit(session, request)
    broker.record(unit, ctx, actor, "broker", "Timeout", request.status, why)
    notify(
        unit, ctx, lender, "timeout", f"ILL request #{request.id} was withdrawn: no answer in time"
    )
    broker.lender_declined(unit, ctx, "timeout", "no answer in time")
    _write(unit, ctx)
    return 1


def rota_of(session: Session, actor: Actor, request_id: int) -> list[IllRotaEntry]:
    """Return the request's rota (ranked lenders, then those filtered out, with reasons)."""
    return list(get_request(session, actor, request_id).rota)
