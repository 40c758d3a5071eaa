"""ISO 18626 messages to XML in the schema's element order, validated; reading is in reader.py."""

from __future__ import annotations

import datetime as dt
import re

from lxml import etree

from ill.iso18626.messages import (
    NAMESPACE,
    VERSION,
    AgencyId,
    Bibliographic,
    Confirmation,
    Header,
    Message,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from ill.iso18626.reader import from_element, from_xml, message_kind
from ill.iso18626.schema import WireError, validate

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


__all__ = ["from_element", "from_xml", "message_kind", "to_element", "to_xml", "xml_safe"]
