"""The confirmation that answers an incoming message: OK, or ERROR with the ISO 18626 reason.

An ERROR confirmation must itself be schema-valid even when the message it answers is not, so
the header is copied from the message only as far as it can be read, and trimmed.
"""

from __future__ import annotations

import datetime as dt

from lxml import etree

from ill.iso18626.messages import (
    CONFIRMATION_OF,
    AgencyId,
    Confirmation,
    ErrorData,
    Message,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)

NS = {"ill": "http://illtransactions.org/2013/iso18626"}
_MAX_ECHO = 200  # characters of an untrusted value echoed back in a confirmation


def confirm(
    message: Request | SupplyingAgencyMessage | RequestingAgencyMessage,
    received: dt.datetime,
    errors: tuple[ErrorData, ...] = (),
) -> Confirmation:
    """Return the confirmation of a parsed message: OK without errors, ERROR with them."""
    header = message.header
    kind = CONFIRMATION_OF[_kind_of(message)]
    return Confirmation(
        kind=kind,
        status="ERROR" if errors else "OK",
        timestamp_received=received,
        requesting_agency=header.requesting_agency,
        supplying_agency=header.supplying_agency,
        requesting_request_id=header.requesting_request_id,
        errors=tuple(_trimmed(e) for e in errors),
        reason_for_message=getattr(message, "reason_for_message", None),
        action=getattr(message, "action", None),
    )


def refuse_raw(
    root: etree._Element | None, received: dt.datetime, error: ErrorData
) -> Confirmation:
    """Return an ERROR confirmation for a message that could not be read as a whole."""
    kind, node = _guess_kind(root)
    head = node.find("ill:header", NS) if node is not None else None
    echo = (lambda path: _short(head.findtext(path, None, NS))) if head is not None else _none
    return Confirmation(
        kind=CONFIRMATION_OF[kind],
        status="ERROR",
        timestamp_received=received,
        requesting_agency=_agency(head, "ill:requestingAgencyId"),
        supplying_agency=_agency(head, "ill:supplyingAgencyId"),
        requesting_request_id=echo("ill:requestingAgencyRequestId"),
        errors=(_trimmed(error),),
    )


def _kind_of(message: Message) -> str:
    return {
        Request: "request",
        SupplyingAgencyMessage: "supplyingAgencyMessage",
        RequestingAgencyMessage: "requestingAgencyMessage",
    }[type(message)]


def _guess_kind(root: etree._Element | None) -> tuple[str, etree._Element | None]:
    """Return which message the sender meant (request when nothing says), and its element."""
    if root is not None:
        for child in root:
            if isinstance(child.tag, str):
                name = etree.QName(child).localname
                if name in CONFIRMATION_OF:
                    return name, child
    return "request", None


def _agency(head: etree._Element | None, path: str) -> AgencyId | None:
    node = head.find(path, NS) if head is not None else None
    if node is None:
        return None
    value = _short(node.findtext("ill:agencyIdValue", None, NS))
    kind = _short(node.findtext("ill:agencyIdType", None, NS))
    return AgencyId(value=value, type=kind) if value is not None and kind is not None else None


def _short(text: str | None) -> str | None:
    return None if text is None else text.strip()[:_MAX_ECHO]


def _none(path: str) -> None:
    return None


def _trimmed(error: ErrorData) -> ErrorData:
    return ErrorData(type=error.type, value=error.value[: _MAX_ECHO * 2])
