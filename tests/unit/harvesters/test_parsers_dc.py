"""Dublin Core (oai_dc and the SRU dc / DCX variants) on real responses."""

from __future__ import annotations

import pytest
from lxml import etree

from harvesters.bibrecord import Name, RecordRejected
from harvesters.parsers import parse_metadata

from .conftest import payloads


def test_sickle_get_record_oai_dc():
    [element] = payloads("oai-pmh-responses/sickle/GetRecord.xml")
    record = parse_metadata("oai_dc", element, member="TEST")
    assert record.title == "Sample Title"
    assert record.names == [Name("John Doe", "creator", "personal")]  # listed twice, kept once
    assert (record.publisher, record.year, record.languages) == ("Sample Publisher", 2011, ["eng"])
    assert record.format == "article"  # dc:type info:eu-repo/semantics/article beats "text"
    assert record.source_format == "oai_dc" and record.member == "TEST"
    assert record.raw.startswith(b"<oai_dc:dc")


def test_sciences_po_spire_record():
    records = payloads("oai-pmh-responses/sciencespo-spire/oaipmh_oai_dc.xml")
    assert len(records) == 100
    record = parse_metadata("oai_dc", records[0])
    assert record.title == "Penser l'Union européenne en tant que Tiers statégique"
    assert record.first_author.name == "Dagand, Sophie"
    assert len(record.names) == 3
    assert (record.year, record.languages, record.format) == (2011, ["fre"], "article")


def test_every_spire_record_parses():
    for element in payloads("oai-pmh-responses/sciencespo-spire/oaipmh_oai_dc.xml"):
        assert parse_metadata("oai_dc", element).title


def test_sru_dc_record_yields_isbn_and_system_number():
    record = parse_metadata("dc", payloads("cnmarc/dp2-sru-samples/sample_dc.xml")[0])
    assert record.title == "'94中国发展报告"
    assert record.isbns == ["9787503717444"]  # dc:identifier 7-5037-1744-0
    assert ("aleph", "000218074BNU03") in record.system_numbers
    assert (record.year, record.languages, record.publisher) == (1994, ["chi"], "中国统计出版社")


def test_dcx_container_is_read_too():
    record = parse_metadata("oai_dc", payloads("cnmarc/dp2-sru-samples/sample_dcx.xml")[1])
    assert record.title == "'95中国发展报告"


def test_mods_payload_is_rejected():
    mods = payloads("cnmarc/dp2-sru-samples/sample_mods.xml")[0]
    with pytest.raises(
        RecordRejected, match=r"no Dublin Core elements in <\{http://www.loc.gov/mods/v3\}mods>"
    ):
        parse_metadata("oai_dc", mods)


def test_record_without_title_is_rejected():
    element = etree.fromstring(
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>X</dc:creator></oai_dc:dc>'
    )
    with pytest.raises(RecordRejected, match="no dc:title"):
        parse_metadata("oai_dc", element)


def test_missing_metadata_is_rejected_not_crashed():
    with pytest.raises(RecordRejected, match="no metadata"):
        parse_metadata("oai_dc", None)


def test_malformed_stored_bytes_are_rejected():
    with pytest.raises(RecordRejected, match="not well-formed XML"):
        parse_metadata("oai_dc", b"<oai_dc:dc><unclosed>")
