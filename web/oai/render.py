"""Build OAI-PMH response documents with lxml, so every text from a record is escaped."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lxml import etree

from web.oai.dates import format_datestamp
from web.oai.metadata import MetadataError, embeddable

if TYPE_CHECKING:
    from web.oai.repository import MetadataFormat

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
OAI_SCHEMA_LOCATION = f"{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_IDENTIFIER_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_IDENTIFIER_XSD = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"

_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# Where a record's metadata goes. Our tree holds no other comments, and lxml escapes every
# "<" in text and attribute values, so these bytes cannot appear anywhere else in the output.
_SLOT = "oai-metadata-slot"
_SLOT_BYTES = f"<!--{_SLOT}-->".encode("ascii")

log = logging.getLogger(__name__)


def q(name: str) -> str:
    """Return the qualified (Clark) name of an element in the OAI-PMH namespace."""
    return f"{{{OAI_NS}}}{name}"


def sub(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> Any:
    """Append an OAI-PMH element with optional text and attributes to ``parent``."""
    element = etree.SubElement(parent, q(name), attrs)
    if text is not None:
        element.text = text
    return element


def envelope(response_date: str, base_url: str, echo: dict[str, str] | None) -> Any:
    """Return the root element with responseDate and request filled in."""
    root = etree.Element(q("OAI-PMH"), nsmap={None: OAI_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", OAI_SCHEMA_LOCATION)
    sub(root, "responseDate", response_date)
    sub(root, "request", base_url, **(echo or {}))
    return root


def serialize(root: etree._Element, payloads: Sequence[bytes] = ()) -> bytes:
    """Return the whole document as UTF-8 bytes, each metadata slot filled with its payload."""
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    if not payloads:
        return _DECLARATION + body
    parts = body.split(_SLOT_BYTES)
    if len(parts) != len(payloads) + 1:
        raise RuntimeError("metadata slots and payloads do not match")
    out = [_DECLARATION, parts[0]]
    for payload, part in zip(payloads, parts[1:], strict=True):
        out += (payload, part)
    return b"".join(out)


def add_header(parent: etree._Element, record: Any, granularity: str) -> Any:
    """Append the record's header (identifier, datestamp, setSpecs, deleted status)."""
    header = sub(parent, "header")
    if record.deleted:
        header.set("status", "deleted")
    sub(header, "identifier", record.identifier)
    sub(header, "datestamp", format_datestamp(record.datestamp, granularity))
    for spec in record.sets:
        sub(header, "setSpec", spec)
    return header


def add_record(
    parent: etree._Element,
    record: Any,
    fmt: MetadataFormat,
    granularity: str,
    payloads: list[bytes],
) -> bool:
    """Append a full record; return False (and log) when it cannot be disseminated in ``fmt``.

    The metadata itself goes to ``payloads``; the tree only holds a slot that ``serialize``
    fills, so the payload bytes are never parsed into a tree.
    """
    element = sub(parent, "record")
    prefix = fmt.prefix
    try:
        add_header(element, record, granularity)
        if not record.deleted:
            data = record.metadata(prefix)
            if data is None:
                raise MetadataError("the record has no metadata in this format")
            payload = embeddable(data, fmt.namespace)
            sub(element, "metadata").append(etree.Comment(_SLOT))
            payloads.append(payload)
    except (MetadataError, ValueError, TypeError) as exc:
        # ValueError/TypeError: header text that XML cannot carry (e.g. control characters).
        parent.remove(element)
        log.warning("OAI record %r skipped for %s: %s", _ident(record), prefix, exc)
        return False
    return True


def add_header_only(parent: etree._Element, record: Any, granularity: str) -> bool:
    """Append a bare header (ListIdentifiers); return False (and log) when it cannot be written."""
    try:
        add_header(parent, record, granularity)
    except (ValueError, TypeError) as exc:
        parent.remove(parent[-1])
        log.warning("OAI header %r skipped: %s", _ident(record), exc)
        return False
    return True


def _ident(record: Any) -> str:
    return str(getattr(record, "identifier", "?"))[:200]


def add_oai_identifier(parent: etree._Element, repository_id: str, sample: str) -> None:
    """Append an Identify description in the oai-identifier format."""
    description = sub(parent, "description")
    ns = OAI_IDENTIFIER_NS
    root = etree.SubElement(description, f"{{{ns}}}oai-identifier", nsmap={None: ns, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{ns} {OAI_IDENTIFIER_XSD}")
    for name, text in (
        ("scheme", "oai"),
        ("repositoryIdentifier", repository_id),
        ("delimiter", ":"),
        ("sampleIdentifier", sample),
    ):
        etree.SubElement(root, f"{{{ns}}}{name}").text = text
