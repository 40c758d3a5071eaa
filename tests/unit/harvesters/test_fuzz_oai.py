"""Fuzzed OAI-PMH input to the harvester's parsers: every answer is a result or a harvest error
with a message, never a crash; entities are never expanded, local files never read."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harvesters.bibrecord import RecordRejected
from harvesters.errors import HarvestError
from harvesters.pages import parse_page
from harvesters.parsers import parse_metadata
from tests.conftest import TEST_DATA

SEEDS = [
    TEST_DATA / "oai" / "sickle" / "ListRecords.xml",
    TEST_DATA / "oai" / "sickle" / "GetRecord.xml",
    TEST_DATA / "oai" / "sickle" / "ListIdentifiers.xml",
    TEST_DATA / "records" / "oai-pmh-responses" / "sciencespo-spire" / "oaipmh_oai_dc.xml",
]
MARC_SEEDS = [
    TEST_DATA / "records" / "marc21" / "pymarc" / "utf8.xml",
    TEST_DATA / "records" / "marc21" / "marc4j" / "chabon.xml",
]
NASTY = [
    b"<!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>",
    b'<!DOCTYPE r [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    b"&x;",
    b"&b;",
    b"<![CDATA[",
    b"]]>",
    b"\x00",
    b"\x1b",
    b"\xff\xfe",
    b"\xed\xa0\x80",  # an encoded surrogate: not UTF-8
    b"<resumptionToken completeListSize='99999999999999999999999'>",
    b"<resumptionToken cursor='-1'>x</resumptionToken>",
    b"<error code='badResumptionToken'>",
    b"<datestamp>",
    b"</header>",
    b"<metadata>",
    b'<header status="deleted">',
    b"<" * 50,
    b"<a>" * 300,
]
FUZZ = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


def _seeds(paths: list[Path]) -> list[bytes]:
    return [p.read_bytes() for p in paths]


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    """A real document with a few cuts, insertions (of nasty fragments too) and truncations."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "nasty", "delete", "flip", "truncate"]))
        if kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=40))
        elif kind == "nasty":
            data[at:at] = draw(st.sampled_from(NASTY))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 200))]
        elif kind == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


def _parse_all(content: bytes) -> None:
    """Parse a page and every record in it, as the harvest loop does; let only errors out."""
    try:
        page = parse_page(content, "http://member.example/oai", "ListRecords")
    except HarvestError as exc:
        assert str(exc).strip()
        return
    for item in page.items:
        if item.metadata is None:
            continue
        try:
            parse_metadata("oai_dc", item.metadata)
        except RecordRejected as exc:
            assert str(exc).strip()


@FUZZ
@given(mutated(_seeds(SEEDS)))
def test_mutated_oai_pmh_pages_give_results_or_harvest_errors(content):
    _parse_all(content)


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_give_a_harvest_error(content):
    with pytest.raises(HarvestError):
        parse_page(content, "http://member.example/oai", "ListRecords")


@FUZZ
@given(mutated(_seeds(MARC_SEEDS)))
def test_mutated_marcxml_records_parse_or_are_rejected_with_a_reason(content):
    for prefix in ("marc21", "unimarc", "cnmarc"):
        try:
            parse_metadata(prefix, content)
        except RecordRejected as exc:
            assert str(exc).strip()


@FUZZ
@given(st.binary(max_size=3000))
def test_random_iso2709_bytes_parse_or_are_rejected(content):
    try:
        parse_metadata("iso2709-marc21", content)
    except RecordRejected as exc:
        assert str(exc).strip()


# Characters XML 1.0 allows (no C0 controls but tab/newline/CR, no surrogates, no U+FFFE/F).
XML_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
    | st.sampled_from("\t\n\r"),
    max_size=200,
)


@FUZZ
@given(identifier=XML_TEXT, datestamp=XML_TEXT, token=XML_TEXT)
def test_any_text_in_the_fields_is_read_back_as_text(identifier, datestamp, token):
    from xml.sax.saxutils import escape

    page = (
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-01-01'
        "</responseDate><ListIdentifiers><header><identifier>"
        f"{escape(identifier)}</identifier><datestamp>{escape(datestamp)}</datestamp></header>"
        f"<resumptionToken>{escape(token)}</resumptionToken></ListIdentifiers></OAI-PMH>"
    ).encode()
    parsed = parse_page(page, "http://member.example/oai", "ListIdentifiers")
    header = parsed.items[0].header
    # XML turns a CR (alone or before LF) into LF; the reader strips surrounding space.
    clean = identifier.replace("\r\n", "\n").replace("\r", "\n").strip()
    assert header.identifier == clean
    assert header.datestamp == datestamp.replace("\r\n", "\n").replace("\r", "\n").strip()


def test_an_external_entity_is_never_read():
    page = (
        b'<?xml version="1.0"?><!DOCTYPE OAI-PMH [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-01-01'
        b"</responseDate><ListIdentifiers><header><identifier>oai:x:&x;</identifier>"
        b"<datestamp>2026-01-01</datestamp></header></ListIdentifiers></OAI-PMH>"
    )
    try:
        parsed = parse_page(page, "http://member.example/oai", "ListIdentifiers")
    except HarvestError:
        return
    identifier = parsed.items[0].header.identifier
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""
    assert identifier.startswith("oai:x:")
    assert not hostname or hostname not in identifier


def test_nested_entities_are_not_expanded():
    page = (
        b'<?xml version="1.0"?><!DOCTYPE OAI-PMH [<!ENTITY a "lollollollollol">'
        + b"".join(
            f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8)
        )
        + b']><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026'
        b"</responseDate><ListIdentifiers><header><identifier>&i;</identifier>"
        b"<datestamp>2026-01-01</datestamp></header></ListIdentifiers></OAI-PMH>"
    )
    try:
        parsed = parse_page(page, "http://member.example/oai", "ListIdentifiers")
    except HarvestError:
        return
    assert all(len(item.header.identifier) < 1000 for item in parsed.items)
