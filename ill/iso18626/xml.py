"""ISO 18626 messages to XML and back, in the schema's element order, validated both ways."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from lxml import etree

from ill.iso18626.messages import (
    NAMESPACE,
    VERSION,
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
# Characters XML 1.0 cannot carry; harvested catalogue text sometimes has them.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NSMAP = {None: NAMESPACE, "ill": NAMESPACE}  # attributes are qualified: they need the prefix


def _q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _add(parent: etree._Element, name: str, text: object = None) -> etree._Element:
    """Append a child element; text is written as given (dates as xs:dateTime)."""
    child = etree.SubElement(parent, _q(name))
    if isinstance(text, dt.datetime):
        child.text = _format_datetime(text)
    elif text is not None:
        child.text = xml_safe(str(text))
    return child


def xml_safe(text: str) -> str:
    """Return ``text`` without the characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("", text)


def _opt(parent: etree._Element, name: str, text: object) -> None:
    """Append a child only when there is a value (optional elements)."""
    if text is not None and xml_safe(str(text)).strip():
        _add(parent, name, text)


def _format_datetime(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _agency(parent: etree._Element, name: str, agency: AgencyId) -> None:
    node = _add(parent, name)
    _add(node, "agencyIdType", agency.type)
    _add(node, "agencyIdValue", agency.value)


def _header(parent: etree._Element, header: Header, *, with_supplier_id: bool) -> None:
    node = _add(parent, "header")
    if header.supplying_agency is not None:
        _agency(node, "supplyingAgencyId", header.supplying_agency)
    _agency(node, "requestingAgencyId", header.requesting_agency)
    _add(node, "timestamp", header.timestamp)
    _add(node, "requestingAgencyRequestId", header.requesting_request_id)
    if with_supplier_id:
        _opt(node, "supplyingAgencyRequestId", header.supplying_request_id)


def _bibliographic(parent: etree._Element, bib: Bibliographic) -> None:
    node = _add(parent, "bibliographicInfo")
    _opt(node, "supplierUniqueRecordId", bib.supplier_record_id)
    for name, value in (
        ("title", bib.title),
        ("author", bib.author),
        ("subtitle", bib.subtitle),
        ("edition", bib.edition),
        ("titleOfComponent", bib.title_of_component),
        ("authorOfComponent", bib.author_of_component),
        ("volume", bib.volume),
        ("issue", bib.issue),
        ("pagesRequested", bib.pages_requested),
    ):
        _opt(node, name, value)
    for ident in bib.item_ids:
        item = _add(node, "bibliographicItemId")
        _add(item, "bibliographicItemIdentifierCode", ident.code)
        _add(item, "bibliographicItemIdentifier", ident.value)
    for ident in bib.record_ids:
        record = _add(node, "bibliographicRecordId")
        _add(record, "bibliographicRecordIdentifierCode", ident.code)
        _add(record, "bibliographicRecordIdentifier", ident.value)
    if bib.publisher or bib.publication_date or bib.place_of_publication:
        pub = _add(parent, "publicationInfo")
        _opt(pub, "publisher", bib.publisher)
        _opt(pub, "publicationDate", bib.publication_date)
        _opt(pub, "placeOfPublication", bib.place_of_publication)


def _build_request(root: etree._Element, msg: Request) -> None:
    node = _add(root, "request")
    _header(node, msg.header, with_supplier_id=False)
    _bibliographic(node, msg.bibliographic)
    service = _add(node, "serviceInfo")
    _add(service, "requestType", msg.request_type)
    _add(service, "serviceType", msg.service_type)
    _opt(service, "serviceLevel", msg.service_level)
    _opt(service, "needBeforeDate", msg.need_before)
    _opt(service, "note", msg.note)
    if msg.pickup_location and xml_safe(msg.pickup_location).strip():
        _add(_add(node, "requestingAgencyInfo"), "name", msg.pickup_location)
    if msg.max_cost is not None:
        costs = _add(_add(node, "billingInfo"), "maximumCosts")
        _add(costs, "currencyCode", msg.max_cost.currency)
        _add(costs, "monetaryValue", msg.max_cost.amount)


def _build_supplying(root: etree._Element, msg: SupplyingAgencyMessage) -> None:
    node = _add(root, "supplyingAgencyMessage")
    _header(node, msg.header, with_supplier_id=True)
    info = _add(node, "messageInfo")
    _add(info, "reasonForMessage", msg.reason_for_message)
    _opt(info, "answerYesNo", msg.answer_yes_no)
    _opt(info, "note", msg.note)
    _opt(info, "reasonUnfilled", msg.reason_unfilled)
    _opt(info, "reasonRetry", msg.reason_retry)
    status = _add(node, "statusInfo")
    _add(status, "status", msg.status)
    _opt(status, "expectedDeliveryDate", msg.expected_delivery)
    _opt(status, "dueDate", msg.due_date)
    _add(status, "lastChange", msg.last_change)
    if msg.date_sent is not None:
        delivery = _add(node, "deliveryInfo")
        _add(delivery, "dateSent", msg.date_sent)
        _opt(delivery, "itemId", msg.item_id)
        _opt(delivery, "URL", msg.url)
        _opt(delivery, "deliveryMethod", msg.delivery_method)


def _build_requesting(root: etree._Element, msg: RequestingAgencyMessage) -> None:
    node = _add(root, "requestingAgencyMessage")
    _header(node, msg.header, with_supplier_id=True)
    _add(node, "action", msg.action)
    _opt(node, "note", msg.note)


def _build_confirmation(root: etree._Element, msg: Confirmation) -> None:
    node = _add(root, msg.kind)
    head = _add(node, "confirmationHeader")
    if msg.supplying_agency is not None:
        _agency(head, "supplyingAgencyId", msg.supplying_agency)
    if msg.requesting_agency is not None:
        _agency(head, "requestingAgencyId", msg.requesting_agency)
    _add(head, "timestamp", msg.timestamp)
    _opt(head, "requestingAgencyRequestId", msg.requesting_request_id)
    _add(head, "timestampReceived", msg.timestamp_received)
    _add(head, "messageStatus", msg.status)
    if msg.kind == "supplyingAgencyMessageConfirmation":
        _opt(node, "reasonForMessage", msg.reason_for_message)
    if msg.kind == "requestingAgencyMessageConfirmation":
        _opt(node, "action", msg.action)
    for error in msg.errors:
        data = _add(node, "errorData")
        _add(data, "errorType", error.type)
        _opt(data, "errorValue", error.value)


_BUILDERS = {
    Request: _build_request,
    SupplyingAgencyMessage: _build_supplying,
    RequestingAgencyMessage: _build_requesting,
    Confirmation: _build_confirmation,
}


def to_element(message: Message) -> etree._Element:
    """Build the ISO18626Message element of a message (not yet validated)."""
    root = etree.Element(_q("ISO18626Message"), nsmap=_NSMAP)
    root.set(_q("version"), VERSION)
    _BUILDERS[type(message)](root, message)
    return root


def to_xml(message: Message) -> bytes:
    """Serialise a message as UTF-8 XML, checked against the XSD (ValueError if it is not)."""
    root = to_element(message)
    try:
        validate(root)
    except WireError as exc:  # our own output must be valid: a bug, say so loudly
        raise ValueError(f"outgoing ISO 18626 message is not valid: {exc.message}") from exc
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# ------------------------------------------------------------------ parsing


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
