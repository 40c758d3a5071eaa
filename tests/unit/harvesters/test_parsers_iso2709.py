"""ISO 2709 streams: bad records cost only themselves; character sets are decoded right."""

from __future__ import annotations

import pytest

from harvesters.bibrecord import BibRecord, RecordRejected
from harvesters.parsers import iter_iso2709, parse_metadata

from .conftest import iso_bytes, make_iso2709

MARC21_UTF8 = "00000nam a2200000 a 4500"
UNIMARC = "00000nam0 2200000   450 "


def unimarc_record(title: bytes, charset: bytes, extra: list | None = None) -> bytes:
    general = b"20240101d1999    k  y0chiy" + charset + b"    ea"
    return make_iso2709(
        UNIMARC,
        [("001", b"u1"), ("100", b"  \x1fa" + general), ("200", b"1 \x1fa" + title)]
        + (extra or []),
    )


def test_pymarc_bad_records_do_not_stop_the_stream():
    results = list(iter_iso2709(iso_bytes("marc21/pymarc/bad_records.mrc"), "marc21"))
    rejected = [r for r in results if isinstance(r, RecordRejected)]
    parsed = [r for r in results if isinstance(r, BibRecord)]
    assert len(parsed) == 4 and len(rejected) == 4
    assert all(r.title == "The pragmatic programmer" for r in parsed)
    assert {r.reason for r in rejected} >= {"base address of data 'f0037' is not a number"}
    assert all(r.position is not None and r.reason for r in rejected)


def test_short_leader_is_rejected_and_the_next_record_still_parses():
    good = make_iso2709(MARC21_UTF8, [("245", b"10\x1faNext title")])
    results = list(iter_iso2709(b"00013nam a22\x1d" + good, "marc21"))
    assert isinstance(results[0], RecordRejected)
    assert results[0].reason == "leader is 12 characters, expected 24"
    assert results[0].position == 0
    assert results[1].title == "Next title"


def test_wrong_record_length_is_a_warning_not_a_failure():
    record = make_iso2709(MARC21_UTF8, [("245", b"10\x1faLength lies")])
    lying = b"00999" + record[5:]
    [result] = iter_iso2709(lying + b"\n", "marc21")
    assert result.title == "Length lies"
    assert result.warnings[0].startswith("record length in leader (00999) is not its real length")


def test_wrong_directory_offsets_fall_back_to_field_terminators():
    record = bytearray(make_iso2709(MARC21_UTF8, [("001", b"x1"), ("245", b"10\x1faOffsets")]))
    record[24 + 12 + 7 : 24 + 12 + 12] = b"00999"  # 245 starts far past the end
    result = parse_metadata("iso2709-marc21", bytes(record))
    assert result.title == "Offsets"
    assert "fields read by terminator" in result.warnings[0]


def test_unreadable_directory_is_rejected_with_its_reason():
    record = make_iso2709(MARC21_UTF8, [("245", b"10\x1faX")])
    broken = record[:30] + record[31:]  # one byte short in the directory
    with pytest.raises(RecordRejected, match="unreadable directory"):
        parse_metadata("iso2709-marc21", broken)


def test_cp1251_record_needs_the_member_encoding():
    data = iso_bytes("marc21/pymarc/1251.dat")
    guessed = next(iter_iso2709(data, "marc21"))
    assert any("does not look like MARC-8" in w for w in guessed.warnings)
    record = next(iter_iso2709(data, "marc21", encoding="cp1251"))
    assert record.title == "Основы гидравлического расчета инженерных сетей"
    assert record.first_author.name == "Ильина, Татьяна Николаевна"
    assert (record.year, record.isbns) == (2005, ["9785930933420"])  # 020 $a5930933421


def test_unknown_encoding_is_a_configuration_error():
    with pytest.raises(ValueError, match="unknown ISO 2709 encoding 'klingon'"):
        list(iter_iso2709(b"", "marc21", encoding="klingon"))


def test_unimarc_iso5426_declared_in_100():
    # ISO 5426: 0xC2 is a combining acute written before its letter
    record = parse_metadata("iso2709-unimarc", unimarc_record(b"Caf\xc2e cr\xc8eme", b"03"))
    assert record.title == "Café crëme"


def test_cnmarc_gb18030_record():
    title = "中国发展报告".encode("gb18030")
    record = parse_metadata("iso2709-cnmarc", unimarc_record(title, b"01"))
    assert record.title == "中国发展报告"
    assert record.source_format == "cnmarc"


def test_unimarc_utf8_wins_over_a_wrong_declaration():
    record = parse_metadata("iso2709-unimarc", unimarc_record("Øers".encode(), b"03"))
    assert record.title == "Øers"
    assert not record.warnings


def test_characters_illegal_in_xml_are_removed_and_counted():
    record = parse_metadata(
        "iso2709-marc21", make_iso2709(MARC21_UTF8, [("245", b"10\x1faBad\x01 \x0bbytes")])
    )
    assert record.title == "Bad bytes"
    assert "removed 2 characters illegal in XML" in record.warnings


def test_single_record_call_warns_about_trailing_data():
    one = make_iso2709(MARC21_UTF8, [("245", b"10\x1faOne")])
    record = parse_metadata("iso2709-marc21", one + one)
    assert record.title == "One"
    assert "data after the first record was ignored" in record.warnings
    assert record.raw == one


def test_iso2709_wants_bytes():
    with pytest.raises(TypeError, match="ISO 2709 records are bytes"):
        parse_metadata("iso2709-marc21", "text")
