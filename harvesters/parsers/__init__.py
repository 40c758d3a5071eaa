"""Turn one harvested metadata record into a normalised BibRecord.

XML formats take the lxml element the harvest loop already parsed (the child of OAI
<metadata>), or the stored bytes of one record when parsers are re-run over the record store.
ISO 2709 formats take bytes. A record that cannot be used raises (or, in a stream, yields)
RecordRejected with a one-line reason; nothing else escapes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from lxml import etree

from harvesters.bibrecord import BibRecord, RecordRejected
from harvesters.parsers import dc, marc21, unimarc
from harvesters.parsers.holdings import (
    CNMARC_HOLDINGS,
    MARC21_HOLDINGS,
    UNIMARC_HOLDINGS,
    HoldingsSpec,
    compile_holdings_config,
    extract_holdings,
    holding_tags,
)
from harvesters.parsers.iso2709 import check_encoding, read_iso2709, split_records
from harvesters.parsers.marcdata import (
    MARC21_NS,
    UNIMARC_NAMESPACES,
    MarcData,
    normalise_leader,
    read_marcxml,
    serialise,
    unwrap_record,
)
from harvesters.parsers.text import strip_illegal_xml_chars

__all__ = [
    "FORMATS",
    "HoldingsSpec",
    "RecordRejected",
    "compile_holdings_config",
    "iter_iso2709",
    "parse_metadata",
    "strip_illegal_xml_chars",
]

log = logging.getLogger(__name__)

# format name -> (flavour, container): flavour picks field meanings, container the syntax
FORMATS = {
    "marc21": ("marc21", "xml"),
    "marcxml": ("marc21", "xml"),
    "unimarc": ("unimarc", "xml"),
    "unimarcxml": ("unimarc", "xml"),
    "cnmarc": ("cnmarc", "xml"),
    "cnmarcxml": ("cnmarc", "xml"),
    "oai_dc": ("oai_dc", "dc"),
    "dc": ("oai_dc", "dc"),
    "iso2709-marc21": ("marc21", "iso2709"),
    "iso2709-unimarc": ("unimarc", "iso2709"),
    "iso2709-cnmarc": ("cnmarc", "iso2709"),
}
_DEFAULT_HOLDINGS = {"marc21": MARC21_HOLDINGS, "unimarc": UNIMARC_HOLDINGS,
                     "cnmarc": CNMARC_HOLDINGS, "oai_dc": ()}  # fmt: skip
_XML_NAMESPACES = {
    "marc21": frozenset({MARC21_NS}),
    # Koha publishes UNIMARC in the MARC 21 namespace; accept it for UNIMARC too
    "unimarc": frozenset({*UNIMARC_NAMESPACES, MARC21_NS}),
    "cnmarc": frozenset({*UNIMARC_NAMESPACES, MARC21_NS}),
}
_LABELS = {"marc21": "MARC 21", "unimarc": "UNIMARC", "cnmarc": "CNMARC"}
_local = threading.local()  # lxml parsers must not be shared between threads


def _xml_parser() -> etree.XMLParser:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = etree.XMLParser(
            resolve_entities=False, no_network=True, huge_tree=False
        )
    return parser


def parse_metadata(
    prefix_or_format: str,
    element_or_bytes,
    *,
    holdings_config=None,
    member: str | None = None,
    keep_raw: bool = True,
    encoding: str | None = None,
) -> BibRecord:
    """Parse one record in the named format into a BibRecord, or raise RecordRejected.

    keep_raw=False skips serialising an XML record into BibRecord.raw (the caller stores it);
    encoding forces the character set of ISO 2709 records whose declaration is wrong.
    """
    flavour, container = _format(prefix_or_format)
    specs = _specs(flavour, holdings_config)
    check_encoding(encoding)
    _check_input(container, element_or_bytes)
    try:
        if container == "iso2709":
            return _parse_iso2709_bytes(element_or_bytes, flavour, specs, member, encoding)
        element = _element(element_or_bytes)
        if container == "dc":
            return _parse_dc(element, member, keep_raw)
        return _parse_marcxml(element, flavour, specs, member, keep_raw)
    except RecordRejected:
        raise
    except Exception as exc:  # a parser bug on odd data must not stop a harvest
        raise _parser_error(exc) from exc


def iter_iso2709(
    data: bytes,
    flavour: str,
    *,
    holdings_config=None,
    member: str | None = None,
    encoding: str | None = None,
) -> Iterator[BibRecord | RecordRejected]:
    """Yield a BibRecord or a RecordRejected (with .position) for each record in a stream."""
    flavour = _format(flavour if flavour.startswith("iso2709-") else f"iso2709-{flavour}")[0]
    specs = _specs(flavour, holdings_config)
    check_encoding(encoding)
    for position, (chunk, warning) in enumerate(split_records(data)):
        try:
            record = _parse_chunk(chunk, flavour, specs, member, encoding)
            if warning:
                record.warnings.insert(0, warning)
            yield record
        except RecordRejected as exc:
            exc.position = position
            yield exc
        except Exception as exc:  # a parser bug on odd data must not stop the stream
            rejected = _parser_error(exc)
            rejected.__cause__ = exc
            rejected.position = position
            yield rejected


def _format(name: str) -> tuple[str, str]:
    try:
        return FORMATS[name.lower()]
    except (KeyError, AttributeError):
        raise ValueError(
            f"unknown metadata format {name!r}; expected one of {', '.join(FORMATS)}"
        ) from None


def _specs(flavour: str, config) -> tuple[HoldingsSpec, ...]:
    if config is None:
        return _DEFAULT_HOLDINGS[flavour]
    if isinstance(config, tuple) and all(isinstance(s, HoldingsSpec) for s in config):
        return config
    return compile_holdings_config(config)


_WANTED: dict[tuple[str, int], tuple[tuple[HoldingsSpec, ...], frozenset[str]]] = {}


def _wanted(flavour: str, specs: tuple[HoldingsSpec, ...]) -> frozenset[str]:
    # Keyed by identity: hashing the specs on every record would cost more than the lookup saves.
    hit = _WANTED.get((flavour, id(specs)))
    if hit is not None and hit[0] is specs:
        return hit[1]
    if len(_WANTED) > 256:
        _WANTED.clear()
    base = marc21.WANTED if flavour == "marc21" else unimarc.WANTED
    wanted = base | holding_tags(specs)
    _WANTED[(flavour, id(specs))] = (specs, wanted)
    return wanted


def _parser_error(exc: Exception) -> RecordRejected:
    log.exception("metadata parser failed on a record; rejecting it")
    return RecordRejected(f"parser error: {type(exc).__name__}: {exc}")


def _check_input(container: str, value) -> None:
    # A wrong type is the caller's bug, not a bad record: it must not look like a rejection.
    if container == "iso2709":
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"ISO 2709 records are bytes, got {type(value).__name__}")
    elif value is not None and not isinstance(value, bytes | str | etree._Element):
        raise TypeError(f"expected an lxml element or bytes, got {type(value).__name__}")


def _element(value):
    if value is None:
        raise RecordRejected("no metadata in the record (deleted records carry none)")
    if isinstance(value, bytes | str):
        if isinstance(value, str):
            value = value.encode("utf-8")  # lxml refuses str that carries an XML declaration
        try:
            return etree.fromstring(value, _xml_parser())
        except (etree.XMLSyntaxError, ValueError) as exc:
            raise RecordRejected(f"not well-formed XML: {exc}") from exc
    return value


def _build(data: MarcData, flavour: str, specs, member: str | None) -> BibRecord:
    if data.leader is None:
        data.warnings.append("no leader: record status and format are guessed")
    else:
        data.leader = normalise_leader(data.leader, data)
    record = BibRecord(source_format=flavour, member=member, warnings=data.warnings)
    builder = marc21 if flavour == "marc21" else unimarc
    builder.build(data, record)
    record.holdings = extract_holdings(data, specs, member)
    return record


def _parse_marcxml(element, flavour: str, specs, member: str | None, keep_raw: bool):
    try:
        element = unwrap_record(element, _XML_NAMESPACES[flavour], _LABELS[flavour])
    except ValueError as exc:
        raise RecordRejected(str(exc)) from None
    builder = marc21 if flavour == "marc21" else unimarc
    data = read_marcxml(element, _wanted(flavour, specs), builder.INDICATORS)
    record = _build(data, flavour, specs, member)
    data.element = None  # do not keep the tree alive through the record
    if keep_raw:
        record.raw = serialise(element)
    return record


def _parse_dc(element, member: str | None, keep_raw: bool) -> BibRecord:
    if element.tag == "{http://www.openarchives.org/OAI/2.0/}metadata" and len(element):
        element = element[0]
    record = BibRecord(source_format="oai_dc", member=member)
    dc.build(element, record)
    if keep_raw:
        record.raw = serialise(element)
    return record


def _parse_chunk(chunk: bytes, flavour: str, specs, member: str | None, encoding=None):
    data = read_iso2709(chunk, _wanted(flavour, specs), flavour, encoding)
    record = _build(data, flavour, specs, member)
    record.raw = chunk
    return record


def _parse_iso2709_bytes(value, flavour: str, specs, member: str | None, encoding):
    chunks = split_records(bytes(value))
    chunk, warning = next(chunks, (b"", None))
    if not chunk:
        raise RecordRejected("empty ISO 2709 record")
    record = _parse_chunk(chunk, flavour, specs, member, encoding)
    if warning:
        record.warnings.insert(0, warning)
    if next(chunks, None) is not None:
        record.warnings.append("data after the first record was ignored")
    return record
