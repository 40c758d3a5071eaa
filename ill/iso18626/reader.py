"""Read ISO 18626 XML into message dataclasses, after checking it against the XSD."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from lxml import etree

from ill.iso18626.messages import (
    NAMESPACE,
    AgencyId,
    Bibliographic,
    Confirmation,
    Costs,
    ErrorData,
    Header,
    Identifier,
    Message,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from ill.iso18626.schema import WireError, parse_document, validate

NS = {"ill": NAMESPACE}


def _q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _text(node: etree._Element, path: str) -> str | None:
    found = node.find(path, NS)
    if found is None:
        return None
    return (found.text or "").strip() or None  # an empty optional element says nothing


def _datetime(node: etree._Element, path: str) -> dt.datetime | None:
    text = _text(node, path)
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise WireError(
            "UnrecognisedDataValue", f"{_local(path)}: {text!r} is not a date"
        ) from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _local(path: str) -> str:
    return path.rsplit("/", 1)[-1].removeprefix("ill:")


def _agency_of(node: etree._Element, path: str) -> AgencyId | None:
    agency = node.find(path, NS)
    if agency is None:
        return None
    return AgencyId(
        value=_text(agency, "ill:agencyIdValue") or "", type=_text(agency, "ill:agencyIdType") or ""
    )


def _parse_header(node: etree._Element) -> Header:
    head = node.find("ill:header", NS)
    return Header(
        requesting_agency=_agency_of(head, "ill:requestingAgencyId"),  # type: ignore[arg-type]
        requesting_request_id=_text(head, "ill:requestingAgencyRequestId") or "",
        supplying_agency=_agency_of(head, "ill:supplyingAgencyId"),
        supplying_request_id=_text(head, "ill:supplyingAgencyRequestId"),
        timestamp=_datetime(head, "ill:timestamp"),  # type: ignore[arg-type]
    )


def _identifiers(node: etree._Element, element: str, code: str, value: str) -> tuple:
    return tuple(
        Identifier(code=_text(item, f"ill:{code}") or "", value=_text(item, f"ill:{value}") or "")
        for item in node.findall(f"ill:{element}", NS)
    )


def _parse_bibliographic(node: etree._Element) -> Bibliographic:
    bib = node.find("ill:bibliographicInfo", NS)
    pub = node.find("ill:publicationInfo", NS)
    pub_text = (lambda p: _text(pub, p)) if pub is not None else (lambda p: None)
    return Bibliographic(
        title=_text(bib, "ill:title"),
        author=_text(bib, "ill:author"),
        subtitle=_text(bib, "ill:subtitle"),
        edition=_text(bib, "ill:edition"),
        title_of_component=_text(bib, "ill:titleOfComponent"),
        author_of_component=_text(bib, "ill:authorOfComponent"),
        volume=_text(bib, "ill:volume"),
        issue=_text(bib, "ill:issue"),
        pages_requested=_text(bib, "ill:pagesRequested"),
        item_ids=_identifiers(
            bib,
            "bibliographicItemId",
            "bibliographicItemIdentifierCode",
            "bibliographicItemIdentifier",
        ),
        record_ids=_identifiers(
            bib,
            "bibliographicRecordId",
            "bibliographicRecordIdentifierCode",
            "bibliographicRecordIdentifier",
        ),
        supplier_record_id=_text(bib, "ill:supplierUniqueRecordId"),
        publisher=pub_text("ill:publisher"),
        publication_date=pub_text("ill:publicationDate"),
        place_of_publication=pub_text("ill:placeOfPublication"),
    )


def _parse_costs(node: etree._Element) -> Costs | None:
    costs = node.find("ill:billingInfo/ill:maximumCosts", NS)
    if costs is None:
        return None
    try:
        amount = Decimal(_text(costs, "ill:monetaryValue") or "")
    except InvalidOperation:
        raise WireError("UnrecognisedDataValue", "monetaryValue is not a number") from None
    return Costs(amount=amount, currency=_text(costs, "ill:currencyCode") or "")


def _parse_request(node: etree._Element) -> Request:
    return Request(
        header=_parse_header(node),
        bibliographic=_parse_bibliographic(node),
        service_type=_text(node, "ill:serviceInfo/ill:serviceType") or "",
        request_type=_text(node, "ill:serviceInfo/ill:requestType") or "New",
        service_level=_text(node, "ill:serviceInfo/ill:serviceLevel"),
        need_before=_datetime(node, "ill:serviceInfo/ill:needBeforeDate"),
        note=_text(node, "ill:serviceInfo/ill:note"),
        max_cost=_parse_costs(node),
        pickup_location=_text(node, "ill:requestingAgencyInfo/ill:name"),
    )


def _parse_supplying(node: etree._Element) -> SupplyingAgencyMessage:
    return SupplyingAgencyMessage(
        header=_parse_header(node),
        reason_for_message=_text(node, "ill:messageInfo/ill:reasonForMessage") or "",
        status=_text(node, "ill:statusInfo/ill:status") or "",
        last_change=_datetime(node, "ill:statusInfo/ill:lastChange"),  # type: ignore[arg-type]
        answer_yes_no=_text(node, "ill:messageInfo/ill:answerYesNo"),
        note=_text(node, "ill:messageInfo/ill:note"),
        reason_unfilled=_text(node, "ill:messageInfo/ill:reasonUnfilled"),
        reason_retry=_text(node, "ill:messageInfo/ill:reasonRetry"),
        expected_delivery=_datetime(node, "ill:statusInfo/ill:expectedDeliveryDate"),
        due_date=_datetime(node, "ill:statusInfo/ill:dueDate"),
        date_sent=_datetime(node, "ill:deliveryInfo/ill:dateSent"),
        item_id=_text(node, "ill:deliveryInfo/ill:itemId"),
        delivery_method=_text(node, "ill:deliveryInfo/ill:deliveryMethod")
        or _text(node, "ill:deliveryInfo/ill:sentVia"),  # v1.2 name
        url=_text(node, "ill:deliveryInfo/ill:URL"),
    )


def _parse_requesting(node: etree._Element) -> RequestingAgencyMessage:
    return RequestingAgencyMessage(
        header=_parse_header(node),
        action=_text(node, "ill:action") or "",
        note=_text(node, "ill:note"),
    )


def _parse_confirmation(node: etree._Element) -> Confirmation:
    head = node.find("ill:confirmationHeader", NS)
    errors = tuple(
        ErrorData(type=_text(e, "ill:errorType") or "", value=_text(e, "ill:errorValue") or "")
        for e in node.findall("ill:errorData", NS)
    )
    return Confirmation(
        kind=etree.QName(node).localname,
        status=_text(head, "ill:messageStatus") or "",
        timestamp_received=_datetime(head, "ill:timestampReceived"),  # type: ignore[arg-type]
        requesting_agency=_agency_of(head, "ill:requestingAgencyId"),
        supplying_agency=_agency_of(head, "ill:supplyingAgencyId"),
        requesting_request_id=_text(head, "ill:requestingAgencyRequestId"),
        errors=errors,
        reason_for_message=_text(node, "ill:reasonForMessage"),
        action=_text(node, "ill:action"),
        timestamp=_datetime(head, "ill:timestamp"),  # type: ignore[arg-type]
    )


_PARSERS = {
    "request": _parse_request,
    "supplyingAgencyMessage": _parse_supplying,
    "requestingAgencyMessage": _parse_requesting,
    "requestConfirmation": _parse_confirmation,
    "supplyingAgencyMessageConfirmation": _parse_confirmation,
    "requestingAgencyMessageConfirmation": _parse_confirmation,
}


def message_kind(root: etree._Element) -> str | None:
    """Return the local name of the message inside an ISO18626Message ('' if none)."""
    if root.tag != _q("ISO18626Message") or len(root) == 0:
        return None
    child = root[0]
    return etree.QName(child).localname if isinstance(child.tag, str) else None


def from_element(root: etree._Element) -> Message:
    """Validate a parsed ISO18626Message against its XSD and return the message it carries."""
    validate(root)
    kind = message_kind(root)
    return _PARSERS[kind](root[0])  # type: ignore[index]


def from_xml(data: bytes) -> Message:
    """Parse and validate untrusted bytes; raise WireError with the ErrorType to answer."""
    return from_element(parse_document(data))
