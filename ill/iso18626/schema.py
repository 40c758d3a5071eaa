"""Hardened XML parsing and XSD validation of ISO 18626 messages.

Every message in and out is checked against the schema of its version: 2021-2 for what the
platform writes, v1.2 for peers that still speak ISO 18626:2017. Parsing never resolves
entities, never touches the network and refuses documents that carry a DTD.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from lxml import etree

SCHEMA_DIR = Path(__file__).parent / "schemas"
SCHEMA_FILES = {"2021-2": "ISO-18626-2021-2.xsd", "1.2": "ISO-18626-v1_2.xsd"}
MAX_MESSAGE_BYTES = 256 * 1024  # an ILL message is a few kilobytes; refuse anything far larger


class WireError(Exception):
    """A message cannot be accepted; ``error_type`` is the ISO 18626 ErrorType to answer with."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )


_schemas: dict[str, etree.XMLSchema] = {}
_names: dict[str, frozenset[str]] = {}
XS = "http://www.w3.org/2001/XMLSchema"
# One compiled schema per version for the whole process (compiling takes milliseconds, and a
# threaded server starts a thread per request); the lock keeps each error log to one caller.
_lock = threading.Lock()


def schema_for(version: str) -> etree.XMLSchema:
    """Return the compiled XSD for a message version (1.x: v1.2; anything else: 2021-2)."""
    name = SCHEMA_FILES["1.2"] if version.startswith("1.") else SCHEMA_FILES["2021-2"]
    with _lock:
        if name not in _schemas:
            _schemas[name] = etree.XMLSchema(etree.parse(str(SCHEMA_DIR / name), _parser()))
        return _schemas[name]


def parse_document(data: bytes) -> etree._Element:
    """Parse untrusted bytes into an element tree, or raise WireError(BadlyFormedMessage)."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise WireError("BadlyFormedMessage", f"message larger than {MAX_MESSAGE_BYTES} bytes")
    if not data.strip():
        raise WireError("BadlyFormedMessage", "empty message; send an ISO18626Message document")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise WireError("BadlyFormedMessage", f"not well-formed XML: {_first_line(exc)}") from None
    except ValueError as exc:  # e.g. an XML declaration on an already decoded string
        raise WireError("BadlyFormedMessage", f"not well-formed XML: {exc}") from None
    if root is None:
        raise WireError("BadlyFormedMessage", "no root element; send an ISO18626Message document")
    if root.getroottree().docinfo.doctype:
        raise WireError("BadlyFormedMessage", "a DOCTYPE is not allowed in ISO 18626 messages")
    return root


def message_version(root: etree._Element) -> str:
    """Return the version attribute of an ISO18626Message (qualified or not; '' if absent)."""
    from ill.iso18626.messages import NAMESPACE

    return root.get(f"{{{NAMESPACE}}}version") or root.get("version") or ""


def validate(root: etree._Element) -> None:
    """Check a message against the XSD of its version; raise WireError with the first fault."""
    version = message_version(root)
    schema = schema_for(version)
    with _lock:
        if schema.validate(root):
            return
        error = schema.error_log.filter_from_errors()[0]
    message = error.message.replace("{http://illtransactions.org/2013/iso18626}", "")
    raise WireError(_error_type(error, version), f"line {error.line}: {message}")


# Schema faults in a value (a code not in the list, a date that is not a date).
VALUE_FAULTS = frozenset(
    f"SCHEMAV_CVC_{name}_VALID"
    for name in (
        "ENUMERATION",
        "MININCLUSIVE",
        "MAXINCLUSIVE",
        "PATTERN",
        "LENGTH",
        "MINLENGTH",
        "MAXLENGTH",
        "TOTALDIGITS",
        "FRACTIONDIGITS",
    )
) | {"SCHEMAV_CVC_DATATYPE_VALID_1_2_1"}
_UNEXPECTED = re.compile(r"Element '(?:\{[^}]*\})?([^']+)': This element is not expected")


def _error_type(error: etree._LogEntry, version: str) -> str:
    """Return the ISO 18626 ErrorType of a schema fault (BadlyFormedMessage by default)."""
    if error.type_name in VALUE_FAULTS:
        return "UnrecognisedDataValue"
    unexpected = _UNEXPECTED.search(error.message)
    if unexpected and unexpected.group(1) not in element_names(version):
        return "UnrecognisedDataElement"  # an element the standard does not have
    return "BadlyFormedMessage"  # e.g. a known element out of place, or one missing


def element_names(version: str) -> frozenset[str]:
    """Return every element name the version's schema declares."""
    name = SCHEMA_FILES["1.2"] if version.startswith("1.") else SCHEMA_FILES["2021-2"]
    with _lock:
        if name not in _names:
            doc = etree.parse(str(SCHEMA_DIR / name), _parser())
            found = doc.xpath("//xs:element/@name", namespaces={"xs": XS})
            _names[name] = frozenset(str(n) for n in found)
        return _names[name]


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
