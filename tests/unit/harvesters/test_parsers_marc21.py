"""MARC 21 (MARCXML, ISO 2709) on real records; expected values read by hand from the raw data."""

from __future__ import annotations

import pytest
from lxml import etree

from harvesters.bibrecord import Holding, Name, RecordRejected
from harvesters.parsers import iter_iso2709, parse_metadata

from .conftest import OAI, iso_bytes, marc_records, parse_xml, payloads


def first_iso(relative: str, flavour: str = "marc21"):
    return next(iter_iso2709(iso_bytes(relative), flavour))


def test_library_of_congress_books_all_record():
    record = first_iso("marc21/qa-catalogue/BooksAll.2014.part01-0001.mrc")
    # 245 10 $aBotanical materia medica and pharmacology;$bdrugs considered ... standpoint.
    assert record.title == "Botanical materia medica and pharmacology"
    assert record.subtitle.startswith("drugs considered from a botanical")
    assert record.first_author == Name("Aurand, Samuel Herbert", None, "personal")
    assert (record.place, record.publisher, record.year) == (
        "Chicago", "P. H. Mallen Company", 1899,
    )  # fmt: skip
    assert record.pages == 406  # 300 $a406 p.
    assert record.lccn == "00000002"  # 010 $a   00000002
    assert record.languages == ["eng"]
    assert record.classifications == [("LCC", "RX671 .A92")]
    assert record.control_number == "00000002"  # 001 padded with blanks in the LoC dump
    assert record.format == "book" and record.source_format == "marc21"


def test_loc_record_isbn10_becomes_isbn13_and_roman_pages_are_skipped():
    record = first_iso("marc21/pymarc/marc.dat")
    # 020 $a020161622X ; 245 14 $aThe pragmatic programmer :$bfrom journeyman to master /
    assert record.title == "The pragmatic programmer"
    assert record.subtitle == "from journeyman to master"
    assert record.isbns == ["9780201616224"]
    assert record.first_author.name == "Hunt, Andrew"
    assert record.year == 2000
    assert record.pages == 321  # 300 $axxiv, 321 p. ;
    assert ("DDC", "005.1") in record.classifications


def test_marc8_record_with_diacritics_is_decoded():
    record = first_iso("marc21/marc4j/greekmissingcharsetchange.mrc")
    # leader/09 blank = MARC-8; 245 holds b"H\xe5e agora st\xe5e" (0xE5 = combining macron)
    assert record.title == "Hē agora stē Mesogeio"
    assert record.first_author.name == "Giannikourē, A."  # no 1XX; first 700
    assert record.isbns == ["9789608838765"]  # 020 9789608838765 and 9608838762, the same book
    assert record.year == 2011
    assert record.pages == 438
    assert record.languages[0] == "gre"
    assert "Η αγορά στη Μεσόγειο" in record.other_titles  # 880 linked to 245, Greek script


def test_chinese_marc21_record_from_alma_sru():
    record = parse_metadata("marc21", marc_records("cnmarc/dp2-sru-samples/sample_marcxml.xml")[7])
    assert record.title == "'90中国犹太学研究总汇"
    assert record.first_author == Name("朱威烈", "编", "personal")
    assert record.isbns == ["9787542605856"]  # 020 $a7-5426-0585-2
    assert (record.place, record.publisher, record.year) == ("上海", "三联书店上海分店", 1992)
    assert record.pages == 314  # 300 $a314页
    assert record.languages == ["chi"]
    # The real Chinese MARC 21 sample carries no 084 (nor 050/082): no class is invented.
    assert record.classifications == []
    assert record.holdings[0] == Holding(
        None, "MDMP", "中文库本书—IJKZ(主馆七层)", "K18 7", "available", 1
    )


def test_chinese_marc21_electronic_copy_is_an_e_resource():
    record = parse_metadata("marc21", marc_records("cnmarc/dp2-sru-samples/sample_marcxml.xml")[2])
    # 245 $a'2005中国小说排行榜 $h电子资源 ; 300 $a在线资源(414页) ; 008 dates are ########
    assert record.format == "e-resource"
    assert record.pages == 414
    assert record.year == 2006  # from 260 $c, 008/07-10 being "####"


def test_clc_class_in_084_is_recognised():
    element = etree.fromstring(
        '<record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000nam a2200000 a 4500</leader>'
        '<datafield tag="084" ind1=" " ind2=" "><subfield code="a">F124</subfield>'
        '<subfield code="2">clc</subfield></datafield>'
        '<datafield tag="084" ind1=" " ind2=" "><subfield code="a">F12</subfield>'
        '<subfield code="2">CLC</subfield></datafield>'
        '<datafield tag="245" ind1="1" ind2="0"><subfield code="a">T</subfield></datafield>'
        "</record>"
    )
    assert parse_metadata("marc21", element).classifications == [("CLC", "F124"), ("CLC", "F12")]


def test_rero_marcxml_record():
    record = next(
        r for r in map(lambda e: parse_metadata("marcxml", e, member="RERO"),
                       marc_records("marc21/rero-ils/documents_small.xml"))
        if r.control_number == "REROILS:210"
    )  # fmt: skip
    assert record.title == "Basiswissen deutsche Gegenwartssprache"
    assert record.first_author == Name("Kessel, Katja", "cre", "personal")
    assert record.names[1].name == "Reimann, Sandra"
    assert record.isbns == ["9783825245276"]
    assert (record.place, record.publisher, record.year) == ("Tübingen", "A. Francke Verlag", 2017)
    assert record.edition == "5., überarb. und erw. Aufl."
    assert record.pages == 351  # 300 $a351 S.
    assert record.languages == ["ger"]
    assert record.member == "RERO"
    assert record.raw.startswith(b"<record") and b"REROILS:210" in record.raw


def test_rero_formats_come_from_the_leader():
    formats = {}
    for element in marc_records("marc21/rero-ils/documents_small.xml"):
        record = parse_metadata("marc21", element, keep_raw=False)
        formats.setdefault(record.control_number, record.format)
        assert record.raw == b""
    assert formats["REROILS:75"] == "serial"  # leader cas
    assert formats["REROILS:101"] == "article"  # leader naa
    assert formats["REROILS:161"] == "audio"  # leader njm
    assert formats["REROILS:292"] == "music score"  # leader ncm


def test_alma_oai_payload_is_read_from_the_metadata_child():
    records = payloads("oai-pmh-responses/vufindharvest/marc.xml")
    assert len(records) == 100
    record = parse_metadata("marc21", records[0], member="BIG")
    assert record.title == "Der Soldat, oder, Abhandlung vom Kriegs-Stand"
    assert record.first_author.name == "Loen, Johann Michael von"
    assert record.year == 2015  # 008 r2015 1752: a 2015 reproduction
    assert record.place == "Bern"  # 260 $a[Bern] :
    assert record.format == "e-resource"  # leader nmm
    assert record.languages == ["ger"]


def test_the_oai_metadata_wrapper_itself_is_accepted():
    page = parse_xml("oai-pmh-responses/vufindharvest/marc.xml")
    metadata = next(page.iter(f"{OAI}metadata"))
    assert parse_metadata("marc21", metadata).title == (
        "Der Soldat, oder, Abhandlung vom Kriegs-Stand"
    )


def test_stored_raw_bytes_parse_to_the_same_record():
    element = marc_records("marc21/rero-ils/documents_small.xml")[6]
    first = parse_metadata("marc21", element)
    again = parse_metadata("marc21", first.raw)
    assert (again.title, again.isbns, again.year) == (first.title, first.isbns, first.year)


def test_original_script_title_from_880():
    record = first_iso("marc21/openlibrary/bin_input/880_Nihon_no_chasho.mrc")
    assert record.title == "Nihon no chasho"
    assert "日本 の 茶書" in record.other_titles


def test_leader_says_marc8_but_data_is_utf8():
    record = first_iso("marc21/pymarc/utf8_without_leader_flag.dat")
    flagged = first_iso("marc21/pymarc/utf8_with_leader_flag.dat")
    assert record.title == flagged.title == "Escape from loneliness"
    assert any("leader/09 says MARC-8" in w for w in record.warnings)
    assert not flagged.warnings


def test_unimarc_record_given_as_marc21_is_rejected_with_a_hint():
    element = marc_records("marc21/reference_manager/marcxml_bsg_estampenumerisation192.xml")[0]
    with pytest.raises(RecordRejected) as caught:
        parse_metadata("marcxml", element)
    assert caught.value.reason == (
        "no 245 title field (the record looks like UNIMARC: it has a 200 field)"
    )


def test_wrong_payload_is_rejected_with_what_was_found():
    mods = payloads("cnmarc/dp2-sru-samples/sample_mods.xml")[0]
    with pytest.raises(RecordRejected, match=r"expected a MARC 21 <record> element, got <\{http"):
        parse_metadata("marc21", mods)


def test_deleted_record_without_title_is_kept_as_a_tombstone():
    element = etree.fromstring(
        '<record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000dam a2200000 a 4500</leader>'
        '<controlfield tag="001">gone-1</controlfield></record>'
    )
    record = parse_metadata("marc21", element)
    assert record.deleted and record.control_number == "gone-1" and record.title is None


def test_oclc_numbers_keep_their_prefix():
    record = first_iso("marc21/openlibrary/bin_input/880_Nihon_no_chasho.mrc")
    assert ("OCoLC", "502869803") in record.system_numbers


def test_unknown_format_is_a_configuration_error():
    with pytest.raises(ValueError, match="unknown metadata format 'mods'"):
        parse_metadata("mods", b"<x/>")


def test_comments_inside_a_record_are_ignored():
    element = etree.fromstring(
        '<record xmlns="http://www.loc.gov/MARC21/slim"><!-- exported by X -->'
        "<leader>00000nam a2200000 a 4500</leader>"
        '<datafield tag="245" ind1="1" ind2="0"><!-- c --><subfield code="a">Kept</subfield>'
        "</datafield>"
        '<datafield tag="650" ind1=" " ind2="0"><subfield code="a">Topic</subfield><!-- c -->'
        "</datafield></record>"
    )
    record = parse_metadata("marc21", element)
    assert (record.title, record.subjects) == ("Kept", ["Topic"])
