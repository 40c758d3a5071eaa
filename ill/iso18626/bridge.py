"""Incoming ISO 18626 messages carried out by the ILL services.

A peer's ``request`` becomes a request of its member, routed by the broker like any other
(the platform is the supplying agency the peer talks to; the lender chosen answers through it).
A ``supplyingAgencyMessage`` is a peer lender's status for one of our members' requests, a
``requestingAgencyMessage`` a peer borrower's action on its own request. The state machine
decides what is allowed; a refusal becomes an ERROR confirmation with the reason.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from federation.roles import Actor
from ill import services
from ill.context import IllContext, current
from ill.iso18626.messages import (
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from ill.iso18626.outbox import CLUSTER_ID_CODE, WIRE_ACTIONS
from ill.iso18626.services import Handler, Refused
from ill.models import IllRequest
from ill.states import IllegalTransition

SERVICE_LEVELS = {"Rush": "Rush", "Urgent": "Rush", "Express": "Express"}  # others: Normal
MAX_ID = 100  # characters of a peer's request id we keep (the idempotency key's size)


def _refuse_service_errors(exc: Exception) -> Refused:
    return Refused("UnrecognisedDataValue", str(exc))


def _fields_of(message: Request) -> dict[str, Any]:
    """Return the fields of a new ILL request from a peer's ISO 18626 request."""
    bib = message.bibliographic
    cluster = next((r.value for r in bib.record_ids if r.code == CLUSTER_ID_CODE), None)
    fields: dict[str, Any] = {
        "service_type": message.service_type,
        "service_level": SERVICE_LEVELS.get(message.service_level or "", "Normal"),
        "needed_by": message.need_before.date().isoformat() if message.need_before else None,
        "max_cost": str(message.max_cost.amount) if message.max_cost else None,
        "pickup_location": (message.pickup_location or "")[:200],
        "note": (message.note or "")[:2000],
        "use_local": False,  # the peer chose to ask: its own shelves are its business
    }
    if cluster:
        fields["cluster_id"] = cluster
    else:
        fields["citation"] = _citation(message)
    return fields


def _citation(message: Request) -> dict[str, str]:
    bib = message.bibliographic
    ids = {i.code.upper(): i.value for i in bib.item_ids}
    title = bib.title or bib.title_of_component
    if not title:
        raise Refused("UnrecognisedDataValue", "bibliographicInfo: give a title or a record id")
    return {
        "title": title[:500],
        "author": (bib.author_of_component or bib.author or "")[:300],
        "article_title": (bib.title_of_component or "")[:500] if bib.title else "",
        "journal": (bib.title or "")[:300] if bib.title_of_component else "",
        "volume": (bib.volume or "")[:50],
        "issue": (bib.issue or "")[:50],
        "pages": (bib.pages_requested or "")[:50],
        "year": (bib.publication_date or "")[:20],
        "isbn": ids.get("ISBN", "")[:20],
        "issn": ids.get("ISSN", "")[:20],
    }


class Bridge:
    """The handlers of incoming messages, bound to the broker's context."""

    def __init__(self, ctx: IllContext | None = None) -> None:
        self._ctx = ctx

    @property
    def ctx(self) -> IllContext:
        return current(self._ctx)

    def handlers(self) -> dict[type, Handler]:
        """Return the handler of each message type, for :func:`ill.iso18626.services.receive`."""
        return {
            Request: self.on_request,
            SupplyingAgencyMessage: self.on_supplier_message,
            RequestingAgencyMessage: self.on_requester_message,
        }

    def on_request(self, session: Session, actor: Actor, message: Request) -> tuple:
        """Place a peer borrower's request (a resent one returns the first)."""
        key = message.header.requesting_request_id
        if len(key) > MAX_ID:
            raise Refused(
                "UnrecognisedDataValue", f"requestingAgencyRequestId: at most {MAX_ID} characters"
            )
        try:
            services.create_request(
                session, actor, ctx=self.ctx, idempotency_key=key, **_fields_of(message)
            )
        except services.IllError as exc:
            raise _refuse_service_errors(exc) from None
        except IntegrityError:  # the member is in the alliance file but not yet imported
            raise Refused(
                "UnrecognisedDataValue",
                f"requestingAgencyId: {actor.member_code!r} is not yet a member of the record "
                "store; ask the alliance administrator to run 'federation members import'",
            ) from None
        return ()

    def on_supplier_message(
        self, session: Session, actor: Actor, message: SupplyingAgencyMessage
    ) -> tuple:
        """Record a peer lender's status on the request of ours it was asked to supply."""
        request = self._our_request(session, actor, message)
        renewal = message.answer_yes_no if message.reason_for_message == "RenewResponse" else None
        if message.status == request.status and (renewal or message.due_date):
            note = message.note or ""
            try:  # the lender's answer to a Renew, or its due date moved
                services.record_lender_due_date(
                    session, actor, request.id, message.due_date, renewal=renewal, note=note,
                    ctx=self.ctx,
                )  # fmt: skip
            except (services.IllError, IllegalTransition) as exc:
                raise _refuse_service_errors(exc) from None
            return ()
        if message.status == request.status:
            if message.note:  # news without a change: keep it on the timeline
                from ill.broker import log_event

                log_event(
                    session,
                    self.ctx,
                    request,
                    actor,
                    "supplier",
                    message.reason_for_message,
                    request.status,
                    message.note,
                )
            return ()
        note = " ".join(filter(None, (message.reason_unfilled, message.reason_retry, message.note)))
        try:
            services.apply_supplier_status(
                session, actor, request.id, message.status, note, ctx=self.ctx,
                due_at=message.due_date,
            )  # fmt: skip
        except (services.IllError, IllegalTransition) as exc:
            raise _refuse_service_errors(exc) from None
        return ()

    def on_requester_message(
        self, session: Session, actor: Actor, message: RequestingAgencyMessage
    ) -> tuple:
        """Take a peer borrower's action on its own request."""
        if message.action not in WIRE_ACTIONS:
            raise Refused("UnsupportedActionType", f"{message.action} is not supported here")
        request = session.scalar(
            select(IllRequest).where(
                IllRequest.borrower_code == actor.member_code,
                IllRequest.idempotency_key == message.header.requesting_request_id[:MAX_ID],
            )
        )
        if request is None:
            raise _unknown(message.header.requesting_request_id, actor)
        try:
            services.apply_requester_action(
                session, actor, request.id, message.action, message.note or "", ctx=self.ctx
            )
        except (services.IllError, IllegalTransition) as exc:
            raise _refuse_service_errors(exc) from None
        return ()

    def _our_request(
        self, session: Session, actor: Actor, message: SupplyingAgencyMessage
    ) -> IllRequest:
        """Return the request a peer lender's message is about, if it is the lender asked."""
        rid = message.header.requesting_request_id
        if not (rid.isascii() and rid.isdigit() and len(rid) <= 15):  # our ids are integers
            raise _unknown(rid, actor)
        try:
            request = services.get_request(session, actor, int(rid), ctx=self.ctx)
        except services.IllError:
            raise _unknown(rid, actor) from None
        if request.borrower_code != message.header.requesting_agency.value:
            raise _unknown(rid, actor)
        if request.lender_code != actor.member_code:
            raise Refused(
                "UnrecognisedDataValue",
                f"request {rid} is no longer with {actor.member_code}; it was withdrawn",
            )
        return request


def _unknown(rid: str, actor: Actor) -> Refused:
    return Refused("UnrecognisedDataValue", f"no ILL request {rid[:60]!r} for {actor.member_code}")


__all__ = ["Bridge"]
