"""ISBN, ISSN, LCCN and system numbers."""

from __future__ import annotations

import pytest

from harvesters.bibrecord import BibRecord
from harvesters.parsers.common import add_isbns
from harvesters.parsers.identifiers import (
    normalise_isbn,
    normalise_issn,
    normalise_lccn,
    split_system_number,
)


@pytest.mark.parametrize(
    ("text", "isbn13"),
    [
        ("7-5037-1744-0", "9787503717444"),  # ISBN-10 with hyphens (CNMARC 010)
        ("0486266893 (pbk.)", "9780486266893"),  # qualifier after the number
        ("020161622X", "9780201616224"),  # X check digit
        ("975-19-0787-X", "9789751907875"),
        ("978-7-04-024765-7", "9787040247657"),  # ISBN-13 with hyphens
        ("978 7 04 024765 7", "9787040247657"),  # with spaces
        ("ISBN 0-8044-2957-x", "9780804429573"),  # prefix, lower-case x
        ("9783825245276", "9783825245276"),
    ],
)
def test_valid_isbns_become_isbn13(text, isbn13):
    assert normalise_isbn(text) == (isbn13, None)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("7-5037-1744-1", "7503717441"),  # wrong ISBN-10 check digit
        ("9787040247658", "9787040247658"),  # wrong ISBN-13 check digit
        ("12345", "12345"),  # too short to be an ISBN, still kept for a cataloguer to see
    ],
)
def test_invalid_isbns_are_reported(text, kept):
    assert normalise_isbn(text) == (None, kept)


def test_record_keeps_invalid_isbns_apart_with_a_warning():
    record = BibRecord(source_format="marc21")
    add_isbns(record, ["7-5037-1744-0", "7-5037-1744-1", "9787503717444"], ["0-00-000000-0"])
    assert record.isbns == ["9787503717444"]  # the ISBN-10 and ISBN-13 forms are one book
    assert record.invalid_isbns == ["7503717441", "9780000000002"]
    assert record.warnings == ["invalid ISBN '7503717441'"]


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("0955-2359", ("0955-2359", None)),
        ("1223-284x", ("1223-284X", None)),
        ("ISSN 12218472", ("1221-8472", None)),
        ("0955-2358", (None, "0955-2358")),
        ("n/a", (None, "n/a")),
    ],
)
def test_issns(text, result):
    assert normalise_issn(text) == result


@pytest.mark.parametrize(
    ("text", "lccn"),
    [("n 78-890351", "n78890351"), ("   00000002 ", "00000002"), ("85-2 ", "85000002"),
     ("2001-1114 /AC/r932", "2001001114")],
)  # fmt: skip
def test_lccn_normalisation(text, lccn):
    assert normalise_lccn(text) == lccn


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        ("(OCoLC)ocm00400866", ("OCoLC", "400866")),
        ("(OCoLC)12345", ("OCoLC", "12345")),
        ("(aleph)000218074BNU03", ("aleph", "000218074BNU03")),
        ("FNSP152225", ("", "FNSP152225")),
        ("()", None),
    ],
)
def test_system_numbers_keep_their_prefix(text, pair):
    assert split_system_number(text) == pair
