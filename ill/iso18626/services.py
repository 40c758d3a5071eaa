"""Receive one ISO 18626 message: parse, validate, check the sender, act, confirm.

The transport (the Flask view) hands over the raw bytes and the authenticated actor; this
module never sees the web request. What each message does to a request is decided by a
handler (:mod:`ill.iso18626.bridge` maps them onto the ILL services).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from federation.roles import Actor
from ill.iso18626.confirm import confirm, refuse_raw
from ill.iso18626.messages import (
    AgencyId,
    Confirmation,
    ErrorData,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
    utcnow,
)
from ill.iso18626.schema import WireError, parse_document
from ill.iso18626.xml import from_element

log = logging.getLogger("federation.ill.iso18626")

Incoming = Request | SupplyingAgencyMessage | RequestingAgencyMessage
Handler = Callable[[Any, Actor, Any], tuple[ErrorData, ...]]


class Refused(Exception):
    """A handler refuses a message; the sender gets an ERROR confirmation with this reason."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error = ErrorData(error_type, message)


@dataclass(frozen=True)
class Reply:
    """The confirmation to send back, and the HTTP status to send it with."""

    confirmation: Confirmation
    http_status: int = 200


def sender_of(message: Incoming) -> AgencyId | None:
    """Return the agency that sent a message (the supplier of a supplyingAgencyMessage)."""
    if isinstance(message, SupplyingAgencyMessage):
        return message.header.supplying_agency
    return message.header.requesting_agency


def receive(
    session: Any,
    actor: Actor,
    data: bytes,
    handlers: Mapping[type, Handler],
    now: dt.datetime | None = None,
) -> Reply:
    """Answer one incoming message; never raises for anything the sender put in it."""
    received = now or utcnow()
    root: etree._Element | None = None
    try:
        root = parse_document(data)
        message = from_element(root)
    except WireError as exc:
        return Reply(refuse_raw(root, received, ErrorData(exc.error_type, exc.message)), 400)
    if isinstance(message, Confirmation):
        error = ErrorData(
            "UnsupportedActionType",
            f"a {message.kind} answers a message; send request, supplyingAgencyMessage "
            "or requestingAgencyMessage",
        )
        return Reply(refuse_raw(root, received, error), 400)
    sender = sender_of(message)
    if sender is None or sender.value != actor.member_code:
        error = ErrorData(
            "UnrecognisedDataValue",
            f"sender {sender.value if sender else '(none)'!r} is not the authenticated "
            f"agency {actor.member_code!r}",
        )
        return Reply(confirm(message, received, (error,)), 403)
    return _dispatch(session, actor, message, handlers, received)


def _dispatch(
    session: Any,
    actor: Actor,
    message: Incoming,
    handlers: Mapping[type, Handler],
    received: dt.datetime,
) -> Reply:
    handler = handlers.get(type(message))
    if handler is None:
        error = ErrorData("UnsupportedActionType", f"{type(message).__name__} is not handled here")
        return Reply(confirm(message, received, (error,)))
    try:
        errors = handler(session, actor, message)
    except Refused as exc:
        session.rollback()
        errors = (exc.error,)
    if errors:
        log.info(
            "ISO 18626 %s from %s refused: %s",
            type(message).__name__,
            actor.member_code,
            "; ".join(e.value for e in errors),
        )
    return Reply(confirm(message, received, tuple(errors)))
