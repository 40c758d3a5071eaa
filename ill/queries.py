"""Read-side of the ILL broker: queues with counts, pick lists, what an actor may do next."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from federation.models import ClusterRecord, Record
from federation.policy import Permission, allowed
from federation.roles import Actor, Role
from ill import states as S
from ill.models import IllNotification, IllRequest

PICKING = (S.REQUEST_RECEIVED, S.EXPECT_TO_SUPPLY, S.WILL_SUPPLY)


@dataclass
class Queue:
    """One page of a queue, the total, and the count per status."""

    requests: list[IllRequest]
    total: int
    counts: dict[str, int]
    page: int
    page_size: int


def _side_filter(side: str, member: str):
    if side == "incoming":
        return IllRequest.lender_code == member
    return IllRequest.borrower_code == member


def queue(
    session: Session,
    actor: Actor,
    side: str = "outgoing",
    *,
    status: str | None = None,
    q: str = "",
    page: int = 1,
    page_size: int = 25,
) -> Queue:
    """Return the actor's member's outgoing (borrowing) or incoming (to supply) requests."""
    member = actor.member_code or ""
    where = [_side_filter(side, member)]
    if q:
        like = f"%{q.strip()}%"
        where.append(or_(IllRequest.title.ilike(like), IllRequest.cluster_id == q.strip()))
    counts = dict(
        session.execute(
            select(IllRequest.status, func.count()).where(*where).group_by(IllRequest.status)
        ).all()
    )
    if status:
        where.append(IllRequest.status == status)
    total = session.scalar(select(func.count()).select_from(IllRequest).where(*where)) or 0
    rows = session.scalars(
        select(IllRequest)
        .where(*where)
        .order_by(IllRequest.updated_at.desc(), IllRequest.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return Queue(list(rows), total, counts, page, page_size)


def reader_requests(session: Session, actor: Actor) -> list[IllRequest]:
    """Return a reader's own requests, newest first."""
    return list(
        session.scalars(
            select(IllRequest)
            .where(
                IllRequest.borrower_code == actor.member_code,
                IllRequest.reader_user_id == actor.user_id,
            )
            .order_by(IllRequest.id.desc())
        )
    )


def allowed_next(actor: Actor, request: IllRequest) -> dict[str, list[str]]:
    """Return the supplier statuses and requester actions ``actor`` may send now."""
    system = actor.role is Role.SYSTEM
    as_lender = request.lender_code and (
        system or allowed(actor, Permission.ILL_ACT, request.lender_code)
    )
    as_borrower = system or allowed(actor, Permission.ILL_ACT, request.borrower_code)
    reader = actor.role is Role.READER  # their own request (only its reader sees it)
    actions = S.allowed_actions(request.status, request.requester_state)
    if reader:  # may only withdraw it
        actions = [a for a in actions if a == S.CANCEL]
    elif not as_borrower:
        actions = []
    return {
        "supplier_statuses": (
            S.allowed_supplier_statuses(request.status, request.service_type) if as_lender else []
        ),
        "actions": actions,
    }


@dataclass
class PickLine:
    """One request to take from the shelves: where the lender's copies are."""

    request: IllRequest
    shelves: list[str]


def pick_list(session: Session, actor: Actor) -> list[PickLine]:
    """Return the lender's requests to pull from the shelves, with locations and call numbers."""
    member = actor.member_code or ""
    requests = session.scalars(
        select(IllRequest)
        .where(IllRequest.lender_code == member, IllRequest.status.in_(PICKING))
        .order_by(IllRequest.created_at)
    ).all()
    return [PickLine(r, _shelves(session, member, r.cluster_id)) for r in requests]


def _shelves(session: Session, member: str, cluster_id: str | None) -> list[str]:
    if not cluster_id:
        return []
    rows = session.scalars(
        select(Record.normalised)
        .join(ClusterRecord, ClusterRecord.record_id == Record.id)
        .where(ClusterRecord.cluster_id == cluster_id, Record.member_code == member)
    )
    found = []
    for normalised in rows:
        for h in (normalised or {}).get("holdings") or []:
            where = " ".join(x for x in (h.get("location"), h.get("call_number")) if x)
            found.append(f"{where} ({h.get('availability') or '?'})" if where else "?")
    return found


def notifications(session: Session, actor: Actor, limit: int = 50) -> list[IllNotification]:
    """Return the member's latest in-app notices."""
    return list(
        session.scalars(
            select(IllNotification)
            .where(IllNotification.member_code == (actor.member_code or ""))
            .order_by(IllNotification.id.desc())
            .limit(limit)
        )
    )


def unread_count(session: Session, actor: Actor) -> int:
    """Return how many notices the member's staff have not read."""
    return (
        session.scalar(
            select(func.count()).where(
                IllNotification.member_code == (actor.member_code or ""),
                IllNotification.read_at.is_(None),
            )
        )
        or 0
    )
