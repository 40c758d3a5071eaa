"""UNIMARC and CNMARC on real records; expected values read by hand from the raw data."""

from __future__ import annotations

import pytest

from harvesters.bibrecord import Holding, Name, RecordRejected
from harvesters.parsers import iter_iso2709, parse_metadata

from .conftest import iso_bytes, marc_records


def iso_record(relative: str, index: int = 0, flavour: str = "unimarc"):
    for position, record in enumerate(iter_iso2709(iso_bytes(relative), flavour)):
        if position == index:
            return record
    raise AssertionError(f"{relative} has no record {index}")


def test_cnmarc_bnu_record_key_fields(cnmarc_records):
    record = parse_metadata("cnmarc", cnmarc_records[0], member="BNU")
    # 200 1 $a'94中国发展报告 $A'94Zhong Guo Fa Zhan Bao Gao $f国家统计局编 $F...
    assert record.title == "'94中国发展报告"  # the pinyin in $A is not the title
    assert record.first_author == Name("叶震", "主编", "personal")  # 701 $a叶震 $4主编
    assert Name("国家统计局", "编", "corporate") in record.names  # 711
    assert record.isbns == ["9787503717444"]  # 010 $a7-5037-1744-0
    assert (record.place, record.publisher, record.year) == ("北京", "中国统计出版社", 1994)
    assert record.classifications == [("CLC", "F124")]  # 690 $aF124
    assert record.pages == 320  # 215 $a320页
    assert record.languages == ["chi"]
    assert record.subjects == ["经济发展 -- 概况 -- 中国 -- 1994"]
    assert record.system_numbers == [("aleph", "000218074BNU03")]
    assert record.source_format == "cnmarc" and record.format == "book"
    # 905 $aBNU $dF124 $e26 $sF124/26: the CNMARC default holdings field
    assert record.holdings == [Holding("BNU", "BNU", None, "F124/26", None, None)]


def test_cnmarc_subtitle_and_plates_in_the_extent(cnmarc_records):
    record = parse_metadata("cnmarc", cnmarc_records[2])
    assert record.title == "'96 中国发展报告"
    assert record.subtitle == "中国的“八五”"  # 200 $e
    assert record.pages == 422  # 215 $a422,图版[40]页
    assert record.year == 1996


def test_cnmarc_e_book_takes_its_year_from_210_when_100_is_blank(cnmarc_records):
    record = parse_metadata("cnmarc", cnmarc_records[3])
    # 100 $a20190611d########u##... ; 210 $c中国统计出版社 $d1997 ; 215 $a在线资源(393页)
    assert record.year == 1997
    assert record.format == "e-resource"  # 135 coded data, 200 $b电子资源
    assert record.pages == 393
    assert record.isbns == ["9787503726231"]  # 010 $a7-5037-2623-7


def test_cnmarc_series_and_two_clc_classes(cnmarc_records):
    record = parse_metadata("cnmarc", cnmarc_records[9])
    assert record.title == "1999 年中国发展状况与趋势"
    assert record.first_author == Name("季野", "主编", "personal")
    assert record.isbns == ["9787801275554"]  # 010 $a7-80127-555-1
    assert record.pages == 374  # 215 $a10, 374页
    assert record.classifications == [("CLC", "D668"), ("CLC", "F124")]
    assert record.series == [("中国发展报告书", None)]  # 225 $a


def test_same_cnmarc_records_under_other_namespaces_parse_alike(cnmarc_records):
    expected = [parse_metadata("cnmarc", e).title for e in cnmarc_records]
    for name in ("sample_unimarcxml.xml", "sample_kormarcxml.xml"):
        elements = marc_records(f"cnmarc/dp2-sru-samples/{name}")
        assert [parse_metadata("unimarc", e).title for e in elements] == expected


def test_alma_availability_when_configured(cnmarc_records):
    config = {"tag": "AVA", "library": "b", "location": "c", "call_number": "d",
              "availability": "e", "item_count": "f"}  # fmt: skip
    record = parse_metadata("cnmarc", cnmarc_records[0], holdings_config=config, member="BNU")
    assert record.holdings == [
        Holding("BNU", "MDMP", "中文库本书—A-H(主馆六层)", "F124 26", "available", 1),
        Holding("BNU", "MDMP", "中文预约书—1986-1995(主馆地下二层戊区)", "F124 26", "available", 1),
    ]


def test_sciences_po_monograph():
    record = iso_record("unimarc/sciencespo/cotes8.mrc", 1)
    # 200 12 $aL'empire des tsars et les Russes $h3, $iLa religion $fpar Anatole Leroy-Beaulieu
    assert record.title == "L'empire des tsars et les Russes"
    assert (record.part_numbers, record.part_names) == (["3"], ["La religion"])
    assert record.first_author == Name("Leroy-Beaulieu, Anatole", "070", "personal")
    assert (record.place, record.publisher, record.year) == ("Paris", "Libr. Hachette", 1898)
    assert record.pages == 670  # 215 $a670 p.
    assert record.classifications == [("DDC", "947")]
    assert record.languages == ["fre"]
    # 995 $k holds "8Â°008.271(3-1898)": double-encoded UTF-8, repaired
    assert record.holdings[0].call_number == "8°008.271(3-1898)"
    assert record.holdings[0].item_count == 1


def test_sciences_po_serial():
    record = iso_record("unimarc/sciencespo/periouni.mrc", 1)
    assert record.title == "20 century British history"
    assert record.issns == ["0955-2359"]
    assert record.year == 1990  # 100 $a19901203a1990...
    assert record.format == "serial"  # leader nas
    assert record.other_titles == ["Twentieth century British history"]  # 517


def test_double_encoded_romanian_record_is_repaired():
    record = iso_record("unimarc/qa-catalogue/serial.bnr.1993.mrc")
    assert record.title == "24 ore mureşene"
    assert record.place == "Târgu Mureş"
    assert record.issns == ["1221-8472"]
    assert record.national_bib_numbers == [("RO", "BNS 2011/1")]  # 020 $aRO $bBNS 2011/1
    assert any("double-encoded UTF-8" in w for w in record.warnings)


def test_italian_unimarc_with_utf8_declared_in_100():
    record = iso_record("unimarc/pymarc/testunimarc.dat")
    assert record.title == "L'altra faccia della spirale"
    assert record.first_author == Name("Asimov, Isaac", "070", "personal")
    assert record.isbns == ["9788804406822"]  # 010 $a88-04-40682-8
    assert (record.year, record.pages, record.languages) == (1996, 201, ["ita"])
    assert record.series[0] == ("Bestsellers", "641")  # no 225: 410 linking field


def test_rusmarc_without_leader_still_parses():
    record = parse_metadata("unimarc", marc_records("unimarc/xbib/rusmarc.xml")[0])
    assert record.title == "Сучасна соціальна філософія"
    assert record.first_author.name == "Андрущенко, В.П."
    assert (record.year, record.pages, record.isbns) == (1996, 368, ["9789665040255"])
    assert "no leader: record status and format are guessed" in record.warnings
    # 198 Koha items in 995, one field per copy, counted per branch/location/call number
    assert sum(h.item_count for h in record.holdings) == 198
    assert record.holdings[0] == Holding(None, "STL", "AB", "1/А66", None, 196)


def test_bsg_unimarc_in_no_namespace_marcxml():
    element = marc_records("marc21/reference_manager/marcxml_bsg_nordiquenumerisation.xml")[1]
    record = parse_metadata("unimarc", element)
    assert record.title == "Norriges oc omliggende Øers sandfoerdige Bescriffuelse..."
    assert record.first_author.name == "Claussøn, Peder Friis"
    assert (record.year, record.pages, record.languages) == (1632, 185, ["dan"])
    assert record.holdings[0].call_number == "8 LA ROQ 695 NOR"  # 852 $h


def test_marc21_records_in_a_unimarc_file_are_rejected_with_a_hint():
    results = list(
        iter_iso2709(iso_bytes("unimarc/qa-catalogue/short.firenze.1977.mrc"), "unimarc")
    )
    assert len(results) == 10
    assert all(isinstance(r, RecordRejected) for r in results)
    assert results[0].reason == (
        "no 200 title field (the record looks like MARC 21: it has a 245 field)"
    )
    assert [r.position for r in results] == list(range(10))


def test_unimarc_rejects_a_dublin_core_payload():
    from .conftest import payloads

    with pytest.raises(RecordRejected, match="expected a UNIMARC <record> element"):
        parse_metadata("unimarc", payloads("cnmarc/dp2-sru-samples/sample_dc.xml")[0])
