"""Reading recorded OAI-PMH pages: records, deletions, tokens, errors, hostile XML."""

from __future__ import annotations

import pytest
from lxml import etree

from harvesters.errors import BadResumptionToken, MalformedResponse, NoRecordsMatch, OAIError
from harvesters.pages import parse_page, read_identify, read_sets
from harvesters.parsers import parse_metadata
from tests.unit.harvesters.loopback import oai_file

MARC_NS = "{http://www.loc.gov/MARC21/slim}"
DC_NS = "{http://www.openarchives.org/OAI/2.0/oai_dc/}"


def test_a_page_of_real_alma_marc21_records_feeds_the_metadata_parser():
    page = parse_page(oai_file("vufindharvest/marc.xml"), verb="ListRecords")
    assert len(page.items) == 100
    assert page.response_date == "2016-06-01T07:57:34Z"
    first = page.items[0]
    assert first.header.identifier == "oai:urm_publish:9925821506101791"
    assert first.header.sets == ("TESTING_DIGI_TEST", "TESTING_DIGI")
    assert all(item.metadata.tag == f"{MARC_NS}record" for item in page.items)
    titles = [parse_metadata("marc21", item.metadata).title for item in page.items]
    assert sum(1 for t in titles if t) == 100
    assert page.next_token == "fakeresumptiontoken"


def test_deleted_records_carry_no_metadata_even_when_the_server_sends_some():
    page = parse_page(oai_file("zenodo-scythe/list_records__09_ListRecords.xml"))
    deleted = [i for i in page.items if i.header.deleted]
    assert [i.header.identifier for i in deleted] == ["oai:zenodo.org:8433364"]
    assert deleted[0].metadata is None  # Zenodo sends the old metadata with the tombstone
    assert all(i.metadata.tag == f"{DC_NS}dc" for i in page.items if not i.header.deleted)


def test_dspace_page_with_deletions_from_2004():
    page = parse_page(oai_file("pyoai-eur-dspace/fake2-00002-ListRecords.xml"))
    assert len(page.items) == 81
    assert sum(1 for i in page.items if i.header.deleted) == 2
    assert sum(1 for i in page.items if i.metadata is not None) == 79


def test_arxiv_set_page_and_inspire_marcxml():
    page = parse_page(
        oai_file("invenio-oaiharvester-arxiv/sample_arxiv_response_listrecords_cs.xml")
    )
    assert len(page.items) == 46
    inspire = parse_page(
        oai_file("invenio-oaiharvester-arxiv/sample_inspire_response_listrecords.xml")
    )
    assert [i.metadata.tag for i in inspire.items] == [f"{MARC_NS}record"] * 2


def test_a_header_without_identifier_is_read_as_empty_not_an_error():
    page = parse_page(oai_file("sickle/ListRecords4.xml"))
    assert [i.header.identifier for i in page.items] == ["", "oai:test.example.com:1585322"]
    assert page.next_token is None


ZENODO = "zenodo-scythe/"
ERRORS = [
    (ZENODO + "list_records__02_ListRecords_noRecordsMatch.xml", NoRecordsMatch),
    ("invenio-oaiharvester-arxiv/sample_empty_response.xml", NoRecordsMatch),
    (ZENODO + "list_records__10_ListRecords_badResumptionToken.xml", BadResumptionToken),
    ("vufindharvest/token_error_response.xml", BadResumptionToken),
    (ZENODO + "list_records__03_ListRecords_badArgument.xml", OAIError),
    (ZENODO + "id_does_not_exist__00_GetRecord_idDoesNotExist.xml", OAIError),
]
CODES = [
    "noRecordsMatch",
    "noRecordsMatch",
    "badResumptionToken",
    "badResumptionToken",
    "badArgument",
    "idDoesNotExist",
]


@pytest.mark.parametrize(
    ("relative", "error", "code"), [(*e, c) for e, c in zip(ERRORS, CODES, strict=True)]
)
def test_oai_errors_become_the_matching_error(relative, error, code):
    with pytest.raises(error) as caught:
        parse_page(oai_file(relative), "https://zenodo.org/oai2d", "ListRecords")
    assert caught.value.code == code
    assert "https://zenodo.org/oai2d answered to ListRecords" in str(caught.value)


def test_identify_of_zenodo_and_e_periodica():
    zenodo = read_identify(parse_page(oai_file("zenodo-scythe/identify__02_Identify.xml")))
    # Zenodo says "no" yet sends deleted headers: reconciliation still runs for it.
    assert (zenodo.granularity, zenodo.deleted_record) == ("YYYY-MM-DDThh:mm:ssZ", "no")
    assert zenodo.response_date == "2026-08-10T08:56:30Z"
    periodica = read_identify(parse_page(oai_file("zenodo-scythe/identify__01_Identify.xml")))
    assert (periodica.granularity, periodica.deleted_record) == ("YYYY-MM-DDThh:mm:ssZ", "no")
    assert periodica.repository_name == "repository.prod"


def test_list_sets():
    sets = read_sets(parse_page(oai_file("sickle/ListSets.xml")))
    assert len(sets) == 131


def test_illegal_characters_are_removed_and_counted():
    body = oai_file("sickle/ListRecords4.xml")
    dirty = body.replace(b"1585322</identifier>", b"1585322\x0b</identifier>", 1)
    dirty = dirty.replace(b"<dc:title>", b"<dc:title>&#x1;\x1f", 1)
    page = parse_page(dirty)
    assert page.illegal_chars == 3
    assert page.items[1].header.identifier == "oai:test.example.com:1585322"


def test_illegal_characters_in_a_latin1_page_are_removed_too():
    body = oai_file("sickle/ListRecords4.xml").replace(
        b'encoding="UTF-8"', b'encoding="ISO-8859-1"'
    )
    dirty = body.replace(b"<dc:title>", b"<dc:title>\xe9\x0c", 1)
    page = parse_page(dirty)
    assert page.illegal_chars == 1
    title = page.items[1].metadata.find("{http://purl.org/dc/elements/1.1/}title").text
    assert title.startswith("é")


def test_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    body = (
        oai_file("sickle/ListRecords4.xml")
        .replace(
            b"<OAI-PMH",
            f'<!DOCTYPE OAI-PMH [<!ENTITY xxe SYSTEM "file://{secret}">]><OAI-PMH'.encode(),
            1,
        )
        .replace(b"<dc:title>", b"<dc:title>&xxe;", 1)
    )
    body = body.replace(b'<?xml version="1.0" encoding="UTF-8"?>', b"", 1)
    page = parse_page(body)
    assert b"TOP-SECRET" not in etree.tostring(page.root)
    assert page.items[1].metadata.find("{http://purl.org/dc/elements/1.1/}title").text is None


def test_a_billion_laughs_document_is_not_expanded():
    laughs = (
        b'<!DOCTYPE OAI-PMH [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
            for i in range(1, 10)
        )
        + b"]>"
    )
    body = laughs + oai_file("sickle/ListRecords4.xml").split(b"?>", 1)[1].replace(
        b"<dc:title>", b"<dc:title>&lol9;", 1
    )
    try:
        page = parse_page(body)
    except MalformedResponse:
        return  # libxml2 refuses the amplification outright: as safe as not expanding
    assert len(etree.tostring(page.root)) < 100_000


def test_xml_that_is_not_oai_pmh_is_refused_without_retry():
    with pytest.raises(MalformedResponse, match="not an OAI-PMH 2.0 response") as caught:
        parse_page(b"<rss><channel/></rss>", "http://example.org/feed", "Identify")
    assert caught.value.retriable is False


def test_broken_xml_is_reported_as_retriable():
    with pytest.raises(MalformedResponse, match="malformed XML") as caught:
        parse_page(
            oai_file("sickle/ListRecordsBroken.xml"), "http://example.org/oai", "ListRecords"
        )
    assert caught.value.retriable is True
