"""ISO 18626 messages to XML and back: every kind round-trips and is valid against the XSD."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import xmlschema
from hypothesis import given, settings
from hypothesis import strategies as st

from ill.iso18626.messages import Bibliographic, Confirmation, Request
from ill.iso18626.schema import WireError
from ill.iso18626.xml import from_xml, to_xml, xml_safe

from .messages import copy_request, every_message, loan_request, supplier_message

SCHEMAS = Path(__file__).resolve().parents[4] / "ill" / "iso18626" / "schemas"


@pytest.fixture(scope="module")
def xsd_2021():
    """The 2021-2 schema, loaded by a second, independent validator (xmlschema)."""
    return xmlschema.XMLSchema(str(SCHEMAS / "ISO-18626-2021-2.xsd"))


def _name(message) -> str:
    return getattr(message, "kind", type(message).__name__)


@pytest.mark.parametrize("message", every_message(), ids=_name)
def test_every_message_kind_survives_a_round_trip(message):
    assert from_xml(to_xml(message)) == message


@pytest.mark.parametrize("message", every_message(), ids=_name)
def test_every_message_written_is_valid_for_an_independent_validator(message, xsd_2021):
    xsd_2021.validate(to_xml(message).decode("utf-8"))


def test_text_with_markup_characters_is_escaped_not_interpreted():
    xml = to_xml(loan_request())
    assert b"for a thesis &lt;chapter 3&gt; &amp; notes" in xml
    assert from_xml(xml).note == "for a thesis <chapter 3> & notes"


def test_chinese_titles_travel_as_utf8():
    xml = to_xml(loan_request())
    assert "三体".encode() in xml
    assert from_xml(xml).bibliographic.publisher == "重庆出版社"


def test_a_copy_citation_keeps_article_details():
    parsed = from_xml(to_xml(copy_request()))
    assert parsed.bibliographic.title_of_component == "Resource sharing in regional alliances"
    assert parsed.bibliographic.pages_requested == "45-60"
    assert parsed.header.supplying_agency is None  # a request may leave the supplier open


def test_no_patron_name_is_ever_written():
    xml = to_xml(loan_request())
    assert b"patronInfo" not in xml and b"surname" not in xml


def test_building_an_invalid_message_is_refused_before_it_leaves():
    bad = dataclasses.replace(supplier_message(), status="Shipped")
    with pytest.raises(ValueError, match="not valid.*Shipped"):
        to_xml(bad)


def test_control_characters_from_catalogue_text_are_dropped():
    bib = Bibliographic(title="Title\x00 with\x1b control\x0b characters")
    message = dataclasses.replace(loan_request(), bibliographic=bib)
    assert from_xml(to_xml(message)).bibliographic.title == "Title with control characters"


V12_SUPPLYING = b"""<?xml version="1.0" encoding="UTF-8"?>
<ISO18626Message xmlns="http://illtransactions.org/2013/iso18626"
    xmlns:ill="http://illtransactions.org/2013/iso18626" ill:version="1.2">
  <supplyingAgencyMessage>
    <header>
      <supplyingAgencyId><agencyIdType>FEDERATION</agencyIdType><agencyIdValue>ext-univ</agencyIdValue></supplyingAgencyId>
      <requestingAgencyId><agencyIdType>FEDERATION</agencyIdType><agencyIdValue>ytu</agencyIdValue></requestingAgencyId>
      <multipleItemRequestId></multipleItemRequestId>
      <timestamp>2026-11-21T08:30:00Z</timestamp>
      <requestingAgencyRequestId>R-42</requestingAgencyRequestId>
    </header>
    <messageInfo><reasonForMessage>StatusChange</reasonForMessage></messageInfo>
    <statusInfo><status>Loaned</status><lastChange>2026-11-21T08:30:00</lastChange></statusInfo>
    <deliveryInfo><dateSent>2026-11-21T08:30:00Z</dateSent><sentVia>Mail</sentVia></deliveryInfo>
  </supplyingAgencyMessage>
</ISO18626Message>"""


def test_a_version_1_2_message_is_checked_against_the_2017_schema_and_read():
    message = from_xml(V12_SUPPLYING)
    assert message.status == "Loaned"
    assert message.delivery_method == "Mail"  # 2017's sentVia
    assert message.last_change.tzinfo is not None  # a time without zone is taken as UTC


def test_a_2021_element_in_a_version_1_2_message_is_refused():
    body = V12_SUPPLYING.replace(
        b"<sentVia>Mail</sentVia>", b"<deliveryMethod>Mail</deliveryMethod>"
    )
    with pytest.raises(WireError) as info:
        from_xml(body)
    assert info.value.error_type == "UnrecognisedDataElement"  # 2017 has no such element
    assert "deliveryMethod" in info.value.message


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "empty message"),
        (b"<ISO18626Message", "not well-formed"),
        (b"\xff\xfe<a/>", "not well-formed"),
        (b"<html><body>hello</body></html>", "html"),
        (
            b'<ISO18626Message xmlns="http://illtransactions.org/2013/iso18626" '
            b'xmlns:ill="http://illtransactions.org/2013/iso18626" ill:version="2021-2">'
            b"<request/></ISO18626Message>",
            "Missing child element",
        ),
        (  # a known element in the wrong place (reasonForMessage is missing before it)
            to_xml(supplier_message()).replace(
                b"<reasonForMessage>StatusChange</reasonForMessage>", b""
            ),
            "note",
        ),
    ],
)
def test_a_bad_message_is_refused_as_badly_formed_with_the_reason(body, fragment):
    with pytest.raises(WireError) as info:
        from_xml(body)
    assert info.value.error_type == "BadlyFormedMessage"
    assert fragment in info.value.message
    assert "\n" not in info.value.message


@pytest.mark.parametrize(
    ("body", "error_type", "fragment"),
    [
        (
            to_xml(supplier_message()).replace(b">Loaned<", b">Shipped<"),
            "UnrecognisedDataValue",
            "'Shipped' is not an element of the set",
        ),
        (
            to_xml(supplier_message()).replace(
                b"2026-11-21T08:30:00Z</lastChange>", b"yesterday</lastChange>"
            ),
            "UnrecognisedDataValue",
            "'yesterday' is not a valid value",
        ),
        (
            to_xml(loan_request())
            .replace(b"<title>", b"<titel>")
            .replace(b"</title>", b"</titel>"),
            "UnrecognisedDataElement",
            "titel",
        ),
    ],
    ids=["unknown-status", "not-a-date", "unknown-element"],
)
def test_a_schema_fault_gets_the_error_type_the_standard_names(body, error_type, fragment):
    with pytest.raises(WireError) as info:
        from_xml(body)
    assert info.value.error_type == error_type
    assert fragment in info.value.message


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE ISO18626Message [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<ISO18626Message xmlns="http://illtransactions.org/2013/iso18626">&secret;</ISO18626Message>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<ISO18626Message>&lol3;</ISO18626Message>"""


@pytest.mark.parametrize("body", [XXE, LAUGHS], ids=["external-entity", "entity-expansion"])
def test_documents_with_a_dtd_are_refused_without_resolving_anything(body):
    with pytest.raises(WireError) as info:
        from_xml(body)
    assert info.value.error_type == "BadlyFormedMessage"
    assert "root:" not in info.value.message  # /etc/passwd was not read into the answer


def test_a_message_far_larger_than_any_ill_message_is_refused():
    body = to_xml(loan_request()).replace(b"<note>", b"<note>" + b"x" * 300_000)
    with pytest.raises(WireError, match="larger than"):
        from_xml(body)


def test_a_date_python_cannot_represent_is_an_unrecognised_value():
    body = to_xml(supplier_message()).replace(
        b"2026-11-21T08:30:00Z</lastChange>", b"-0044-03-15T12:00:00Z</lastChange>"
    )
    with pytest.raises(WireError) as info:
        from_xml(body)
    assert info.value.error_type == "UnrecognisedDataValue"
    assert "lastChange" in info.value.message


_text = st.text(max_size=60)


def _expected(text: str) -> str | None:
    return xml_safe(text).strip() or None


@settings(max_examples=150, deadline=None)
@given(title=_text, author=_text, note=_text, pickup=_text)
def test_any_text_in_a_request_comes_back_as_sent_minus_what_xml_cannot_carry(
    title, author, note, pickup
):
    base = loan_request()
    message = dataclasses.replace(
        base,
        bibliographic=dataclasses.replace(base.bibliographic, title=title, author=author),
        note=note,
        pickup_location=pickup,
    )
    parsed = from_xml(to_xml(message))
    assert isinstance(parsed, Request)
    assert parsed.bibliographic.title == _expected(title)
    assert parsed.bibliographic.author == _expected(author)
    assert parsed.note == _expected(note)
    assert parsed.pickup_location == _expected(pickup)


@settings(max_examples=100, deadline=None)
@given(value=st.text(max_size=500), request_id=st.text(min_size=1, max_size=40))
def test_any_error_reason_makes_a_valid_confirmation(value, request_id):
    from .messages import confirmations

    base = confirmations()[1]
    confirmation = dataclasses.replace(
        base,
        requesting_request_id=request_id,
        errors=(base.errors[0].__class__("BadlyFormedMessage", value),),
    )
    parsed = from_xml(to_xml(confirmation))
    assert isinstance(parsed, Confirmation) and parsed.status == "ERROR"
    assert parsed.errors[0].value == (xml_safe(value).strip())
