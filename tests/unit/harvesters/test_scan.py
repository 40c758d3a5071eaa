"""The token scan of plain ListRecords pages: the same answer as the parser, or no answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from harvesters.errors import HarvestError
from harvesters.pages import parse_page
from harvesters.scan import scan_list_page
from tests.unit.harvesters.loopback import OAI_DATA

HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"\n'
    b'         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    b"<responseDate>2026-11-21T10:00:00Z</responseDate>"
    b'<request verb="ListRecords" metadataPrefix="marc21">http://x.example/oai</request>'
    b"<ListRecords>"
)
RECORD = (
    b"<record><header><identifier>oai:x:1</identifier><datestamp>2026-01-01</datestamp>"
    b'</header><metadata><record xmlns="http://www.loc.gov/MARC21/slim">'
    b'<datafield tag="245" ind1="0" ind2="0"><subfield code="a">A &amp; B</subfield>'
    b"</datafield></record></metadata></record>"
)
TOKEN = b'<resumptionToken completeListSize="1200" cursor="0">p=2&amp;s=a</resumptionToken>'
END = b"</ListRecords></OAI-PMH>\n"


def page(*parts: bytes) -> bytes:
    return HEAD + b"".join(parts) + END


def test_a_plain_page_gives_its_date_token_and_record_count_as_the_parser_reads_them():
    body = page(RECORD, RECORD, TOKEN)
    date, token, count = scan_list_page(body)
    parsed = parse_page(body, verb="ListRecords")
    assert (date, token, count) == (parsed.response_date, parsed.token, len(parsed.items))
    assert token.value == "p=2&s=a" and token.complete_list_size == 1200 and token.cursor == 0


@pytest.mark.parametrize(
    "closing",
    [
        b"",
        b"<resumptionToken/>",
        b'<resumptionToken cursor="9"/>',
        b"<resumptionToken completeListSize='2'></resumptionToken>",
    ],
)
def test_the_last_page_of_a_list_has_no_token_to_follow(closing):
    body = page(RECORD, closing)
    scanned = scan_list_page(body)
    parsed = parse_page(body, verb="ListRecords")
    if scanned is not None:  # single-quoted attributes are left to the parser
        assert scanned[1] == parsed.token
    assert parse_page(body, verb="ListRecords").next_token is None


@pytest.mark.parametrize(
    "body",
    [
        page(TOKEN, RECORD),  # the token is not last: only a parser finds it
        page(RECORD, b"<!-- a comment -->", TOKEN),
        page(RECORD, b"<![CDATA[x]]>", TOKEN),
        page(RECORD, TOKEN).replace(b"\n", b"\r\n"),
        b"\xef\xbb\xbf" + page(RECORD, TOKEN),  # a byte order mark
        page(RECORD, TOKEN).replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"'),
        page(RECORD, TOKEN).replace(b"<?xml", b"<!DOCTYPE x [<!ENTITY e 'v'>]><?xml"),
        page(RECORD, b"<resumptionToken>a&#38;b</resumptionToken>"),
        page(RECORD, TOKEN).replace(b"<OAI-PMH xmlns=", b"<OAI-PMH xmlns:oai="),
        page(RECORD, TOKEN).replace(b"</request>", b'</request><error code="x">y</error>'),
        page(RECORD, TOKEN)[:-30],  # cut off
        b"<html><body>Service unavailable</body></html>",
    ],
)
def test_anything_but_a_plain_page_is_left_to_the_parser(body):
    assert scan_list_page(body) is None


def recorded_list_pages() -> list[Path]:
    return sorted(p for p in OAI_DATA.rglob("*.xml") if b"<ListRecords>" in p.read_bytes())


@pytest.mark.parametrize("path", recorded_list_pages(), ids=lambda p: p.name)
def test_recorded_pages_scan_to_what_the_parser_reads_or_not_at_all(path):
    body = path.read_bytes()
    scanned = scan_list_page(body)
    if scanned is None:
        return
    try:
        parsed = parse_page(body, verb="ListRecords")
    except HarvestError:
        pytest.fail(f"{path.name} was scanned but does not parse")
    assert scanned[:2] == (parsed.response_date, parsed.token)


def test_most_recorded_pages_are_plain_enough_to_be_scanned():
    scanned = [p for p in recorded_list_pages() if scan_list_page(p.read_bytes()) is not None]
    assert len(scanned) >= 8  # the cross-check above is not empty
