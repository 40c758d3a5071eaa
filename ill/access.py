"""Who may see an ILL request, and opening its reader data (the borrower's staff only, audited)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from federation.policy import Permission, allowed
from federation.privacy import audit
from federation.roles import Actor, Role
from ill.context import IllContext, current
from ill.errors import NotFound
from ill.models import IllRequest


def can_read(actor: Actor, request: Any) -> bool:
    """Tell whether ``actor`` may see ``request`` (without its reader data).

    ``request`` is an ``IllRequest`` or the record a change works on (``ill.store``).
    """
    if actor.role is Role.SYSTEM or allowed(actor, Permission.ILL_READ, request.borrower_code):
        return True
    if actor.role is Role.READER:
        return (
            actor.member_code == request.borrower_code
            and actor.user_id is not None
            and actor.user_id == request.reader_user_id
        )
    if actor.member_code and allowed(actor, Permission.ILL_READ, actor.member_code):
        if request.lender_code == actor.member_code:  # the lender asked now: no rota to read
            return True
        return any(e.member_code == actor.member_code and e.asked_at for e in request.rota)
    return False


def get_request(
    session: Session, actor: Actor, request_id: int, *, ctx: IllContext | None = None
) -> IllRequest:
    """Return the request if ``actor`` may see it, else raise NotFound."""
    request = session.get(IllRequest, request_id) if isinstance(request_id, int) else None
    if request is None or not can_read(actor, request):
        raise NotFound(f"no ILL request {request_id}")
    return request


def open_patron(
    session: Session, actor: Actor, request_id: int, *, ctx: IllContext | None = None
) -> dict[str, str | None]:
    """Return the reader's name and card number (borrower's staff only; audited)."""
    ctx = current(ctx)
    request = get_request(session, actor, request_id)
    if (
        not allowed(actor, Permission.READER_DATA, request.borrower_code)
        or actor.role is Role.SYSTEM
    ):
        raise NotFound(f"no reader data on ILL request {request_id} for you")
    audit(session, actor, "read", f"ill_request:{request.id}", "patron name and card")
    return {
        "name": ctx.cipher.open(request.patron_name),
        "card": ctx.cipher.open(request.patron_card),
        "anonymised": request.anonymised_at is not None,
    }
