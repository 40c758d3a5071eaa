"""Every real record file either parses or is rejected with a reason; nothing else escapes."""

from __future__ import annotations

import pytest

from harvesters.bibrecord import BibRecord, RecordRejected
from harvesters.parsers import iter_iso2709, parse_metadata

from .conftest import RECORDS, payloads

ISO_SUFFIXES = (".mrc", ".dat")
RECORD_FILES = sorted(
    p.relative_to(RECORDS).as_posix()
    for p in RECORDS.rglob("*")
    if p.suffix in (*ISO_SUFFIXES, ".xml")
)
# Files whose payloads are in no format we parse: every parser must reject them.
FOREIGN = {
    "cnmarc/dp2-sru-samples/sample_mods.xml",
    "cnmarc/dp2-sru-samples/sample_isohold.xml",
}
# Known outcomes, counted once by hand and with pymarc: a change here is a regression.
EXPECTED = {
    "marc21/rero-ils/documents_small.xml": (442, 0),
    "marc21/qa-catalogue/BooksAll.2014.part01-0001.mrc": (100, 0),
    "marc21/pymarc/marc.dat": (20, 0),
    # 17 of the 383 are UNIMARC records from a Taiwanese library: rejected as not MARC 21
    "marc21/marc4j/pride-and-prejudice-fixed.mrc": (366, 17),
    # the same 17, plus the 16 records pymarc cannot read either
    "marc21/marc4j/pride-and-prejudice-with-many-errors.mrc": (350, 33),
    "unimarc/sciencespo/periouni.mrc": (3064, 0),
    "unimarc/qa-catalogue/short.firenze.1977.mrc": (0, 10),  # MARC 21 in the unimarc folder
    "cnmarc/dp2-sru-samples/sample_cnmarcxml.xml": (10, 0),
    "cnmarc/dp2-sru-samples/sample_marcxml.xml": (10, 0),
    "oai-pmh-responses/vufindharvest/marc.xml": (100, 0),
    "oai-pmh-responses/sciencespo-spire/oaipmh_oai_dc.xml": (100, 0),
}


def file_format(relative: str) -> str:
    """Return the format a member serving this file would be configured with."""
    name = relative.rsplit("/", 1)[-1]
    if relative.startswith("cnmarc/"):
        return {
            "sample_cnmarcxml.xml": "cnmarc",
            "sample_unimarcxml.xml": "unimarc",
            "sample_kormarcxml.xml": "unimarc",
            "sample_marcxml.xml": "marc21",
            "sample_dc.xml": "oai_dc",
            "sample_dcx.xml": "oai_dc",
        }[name]
    if relative.startswith("unimarc/"):
        return "unimarc"
    if relative.startswith("oai-pmh-responses/"):
        return "marc21" if name == "marc.xml" else "oai_dc"
    return "marc21"


def outcomes(relative: str, fmt: str) -> list[BibRecord | RecordRejected]:
    if relative.endswith(ISO_SUFFIXES):
        return list(iter_iso2709((RECORDS / relative).read_bytes(), fmt))
    results: list[BibRecord | RecordRejected] = []
    for element in payloads(relative):
        try:
            results.append(parse_metadata(fmt, element))
        except RecordRejected as rejected:
            results.append(rejected)
    return results


def test_the_walk_covers_every_copied_record_file():
    assert len(RECORD_FILES) >= 150
    assert set(EXPECTED) | FOREIGN <= set(RECORD_FILES)


@pytest.mark.parametrize("relative", RECORD_FILES)
def test_record_file_parses_or_is_rejected_with_a_reason(relative):
    formats = ["marc21", "unimarc", "oai_dc"] if relative in FOREIGN else [file_format(relative)]
    for fmt in formats:
        results = outcomes(relative, fmt)  # any exception other than RecordRejected fails here
        assert results, f"{relative}: no record found"
        for result in results:
            if isinstance(result, RecordRejected):
                assert result.reason and "\n" not in result.reason
                assert not result.reason.startswith("parser error"), result.reason
            else:
                assert result.title or result.deleted
                assert result.source_format in ("marc21", "unimarc", "cnmarc", "oai_dc")
        if relative in FOREIGN:
            assert all(isinstance(r, RecordRejected) for r in results)
        if relative in EXPECTED:
            parsed = sum(isinstance(r, BibRecord) for r in results)
            assert (parsed, len(results) - parsed) == EXPECTED[relative]
