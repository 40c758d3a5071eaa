"""Helpers for the parser tests: real records from tests/data/records, and ISO 2709 bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

RECORDS = Path(__file__).resolve().parents[2] / "data" / "records"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
OAI = "{http://www.openarchives.org/OAI/2.0/}"
SRU = "{http://www.loc.gov/zing/srw/}"


def record_path(relative: str) -> Path:
    """Return the path of a copied real record file."""
    path = RECORDS / relative
    assert path.is_file(), f"missing fixture {relative}"
    return path


def parse_xml(relative: str):
    """Parse a copied XML file the way the harvest loop parses an OAI page."""
    return etree.parse(str(record_path(relative)), _PARSER).getroot()


def marc_records(relative: str) -> list:
    """Return the MARCXML <record> elements of a file (MARC 21, UNIMARC, CNMARC)."""
    root = parse_xml(relative)
    return [
        el
        for el in root.iter()
        if isinstance(el.tag, str)
        and el.tag.rpartition("}")[2] == "record"
        and any(
            isinstance(c.tag, str) and c.tag.rpartition("}")[2] in ("leader", "datafield")
            for c in el
        )
    ]


def payloads(relative: str) -> list:
    """Return what a harvester would hand the parser: OAI <metadata> or SRU recordData children."""
    root = parse_xml(relative)
    found = [el[0] for el in root.iter(f"{OAI}metadata", f"{SRU}recordData") if len(el)]
    return found or marc_records(relative)


def iso_bytes(relative: str) -> bytes:
    """Return the bytes of a copied ISO 2709 file."""
    return record_path(relative).read_bytes()


def make_iso2709(leader: str, fields: list[tuple[str, bytes]]) -> bytes:
    """Build one ISO 2709 record from a 24-character leader and (tag, field bytes) pairs.

    Field bytes of data fields are indicators then b"\\x1fa..." subfields; the field and
    record terminators, the directory, the lengths and the base address are computed here.
    """
    directory, data = b"", b""
    for tag, body in fields:
        body += b"\x1e"
        directory += tag.encode() + b"%04d%05d" % (len(body), len(data))
        data += body
    directory += b"\x1e"
    base = 24 + len(directory)
    total = base + len(data) + 1
    head = b"%05d" % total + leader[5:12].encode() + b"%05d" % base + leader[17:].encode()
    return head + directory + data + b"\x1d"


@pytest.fixture(scope="session")
def cnmarc_records() -> list:
    """The ten CNMARC records of Beijing Normal University (dp2 SRU capture)."""
    return marc_records("cnmarc/dp2-sru-samples/sample_cnmarcxml.xml")
