"""The OAI-PMH data provider: every verb, every error, paging, dates, hostile text.

Every response is validated against the official OAI-PMH 2.0 XSD (strict: payloads must
validate against their own schemas too), through tests/data/schemas/oai-pmh-federation.xsd.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from lxml import etree

from web.oai.provider import MemoryRecord, MemoryRepository, MetadataFormat, OAIProvider, SetSpec

SCHEMAS = Path(__file__).resolve().parents[2] / "data" / "schemas"
SCHEMA = etree.XMLSchema(etree.parse(str(SCHEMAS / "oai-pmh-federation.xsd")))
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)

OAI = "http://www.openarchives.org/OAI/2.0/"
MARC = "http://www.loc.gov/MARC21/slim"
UNIMARC = "http://www.bncf.firenze.sbn.it/unimarc/slim"
DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
NS = {"o": OAI, "marc": MARC, "u": UNIMARC, "dc": "http://purl.org/dc/elements/1.1/"}

MARC21 = MetadataFormat(
    "marc21", "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd", MARC
)
OAI_DC = MetadataFormat("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", DC_NS)
UNIMARC_FMT = MetadataFormat("unimarc", "http://www.bncf.firenze.sbn.it/unimarc/slim.xsd", UNIMARC)
FORMATS = (MARC21, OAI_DC, UNIMARC_FMT)
SETS = (
    SetSpec("public", "Public libraries"),
    SetSpec("university", "University libraries"),
    SetSpec("university:science", "Science libraries"),
)

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
START = datetime(2024, 1, 1, 8, 0, 0, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script> \"' onmouseover=alert(2) & &amp;"


# -- payload builders ------------------------------------------------------------------------------


def marcxml(control: str, title: str) -> bytes:
    """Return a MARCXML record (MARC21slim-valid) with a 001 and a 245 $a."""
    return (
        f'<record xmlns="{MARC}"><leader>00000nam a2200000 a 4500</leader>'
        f'<controlfield tag="001">{escape(control)}</controlfield>'
        f'<datafield tag="245" ind1="1" ind2="0"><subfield code="a">{escape(title)}</subfield>'
        f'</datafield><datafield tag="500" ind1=" " ind2=" "><subfield code="a">note</subfield>'
        "</datafield></record>"
    ).encode()


def oai_dc(title: str) -> bytes:
    """Return an oai_dc record with one title."""
    return (
        f'<oai_dc:dc xmlns:oai_dc="{DC_NS}" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>{escape(title)}</dc:title><dc:type>Text</dc:type></oai_dc:dc>"
    ).encode()


def unimarc(control: str, title: str) -> bytes:
    """Return a UNIMARC slim record (unimarcslim-valid) with a 001 and a 200 $a."""
    return (
        f'<rec xmlns="{UNIMARC}"><lab>00000nam  2200000   450 </lab>'
        f'<cf t="001">{escape(control)}</cf>'
        f'<df t="200" i1="1" i2=" "><sf c="a">{escape(title)}</sf></df></rec>'
    ).encode()


def record(n: int, *, deleted: bool = False, sets: tuple[str, ...] = (), **kw) -> MemoryRecord:
    """Return record ``n``: one every 6 hours from START, in all three formats."""
    title = kw.pop("title", f"Title {n}")
    payloads = kw.pop("payloads", None)
    if payloads is None:
        payloads = {
            "marc21": marcxml(f"c{n}", title),
            "oai_dc": oai_dc(title),
            "unimarc": unimarc(f"c{n}", title),
        }
    return MemoryRecord(
        identifier=kw.pop("identifier", f"oai:lib.example.org:{n:04d}"),
        datestamp=kw.pop("datestamp", START + timedelta(hours=6 * n)),
        payloads=payloads,
        deleted=deleted,
        sets=sets,
    )


def sample_records(count: int = 12) -> list[MemoryRecord]:
    """Return ``count`` records: every 5th deleted; public / university / university:science."""
    spec_cycle = (("public",), ("university",), ("university:science",))
    return [record(n, deleted=n % 5 == 4, sets=spec_cycle[n % 3]) for n in range(count)]


def make_repo(records=None, **kw) -> MemoryRepository:
    kw.setdefault("formats", FORMATS)
    kw.setdefault("sets", SETS)
    return MemoryRepository(
        kw.pop("name", "Example City Library"),
        kw.pop("base_url", "http://127.0.0.1:9999/oai"),
        sample_records() if records is None else records,
        **kw,
    )


class Clock:
    """A settable clock (the provider's ``clock`` argument)."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_provider(repo=None, **kw) -> OAIProvider:
    kw.setdefault("clock", Clock())
    return OAIProvider(make_repo() if repo is None else repo, **kw)


# -- response helpers ------------------------------------------------------------------------------


def oai(provider: OAIProvider, **params) -> etree._Element:
    """Send a request; check the response is schema-valid OAI-PMH and return its root."""
    params = {("from" if k == "from_" else k): v for k, v in params.items()}
    body = provider.handle(params)
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = etree.fromstring(body, PARSER)
    assert SCHEMA.validate(root), f"{SCHEMA.error_log}\n{body.decode()[:3000]}"
    return root


def error_code(root) -> str | None:
    errors = root.findall("o:error", NS)
    return errors[0].get("code") if errors else None


def expect_error(provider, code: str, **params) -> etree._Element:
    root = oai(provider, **params)
    assert error_code(root) == code, etree.tostring(root).decode()
    assert root.findtext("o:error", namespaces=NS).strip()  # a message a person can read
    return root


def identifiers(root) -> list[str]:
    return [e.text for e in root.iterfind(".//o:header/o:identifier", NS)]


def token_of(root):
    return root.find(".//o:resumptionToken", NS)


def harvest(provider, verb="ListRecords", **params) -> tuple[list[str], list[etree._Element]]:
    """Follow resumption tokens to the end; return all identifiers and every page's token."""
    root = oai(provider, verb=verb, **params)
    ids, tokens = identifiers(root), []
    while (tok := token_of(root)) is not None:
        tokens.append(tok)
        if not tok.text:
            break
        root = oai(provider, verb=verb, resumptionToken=tok.text)
        assert error_code(root) is None
        ids += identifiers(root)
    return ids, tokens


def expected_ids(records, predicate=lambda r: True) -> list[str]:
    return [
        r.identifier
        for r in sorted(records, key=lambda r: (r.datestamp, r.identifier))
        if predicate(r)
    ]


# -- Identify --------------------------------------------------------------------------------------


def test_identify_describes_the_repository():
    root = oai(make_provider(), verb="Identify")
    ident = root.find("o:Identify", NS)
    assert ident.findtext("o:repositoryName", namespaces=NS) == "Example City Library"
    assert ident.findtext("o:baseURL", namespaces=NS) == "http://127.0.0.1:9999/oai"
    assert ident.findtext("o:protocolVersion", namespaces=NS) == "2.0"
    assert ident.findtext("o:adminEmail", namespaces=NS) == "admin@example.org"
    assert ident.findtext("o:earliestDatestamp", namespaces=NS) == "2024-01-01T08:00:00Z"
    assert ident.findtext("o:deletedRecord", namespaces=NS) == "persistent"
    assert ident.findtext("o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    desc = ident.find("o:description/{*}oai-identifier", NS)
    assert desc.findtext("{*}repositoryIdentifier") == "lib.example.org"
    assert desc.findtext("{*}sampleIdentifier").startswith("oai:lib.example.org:")
    request = root.find("o:request", NS)
    assert dict(request.attrib) == {"verb": "Identify"}
    assert request.text == "http://127.0.0.1:9999/oai"


def test_identify_at_day_granularity_without_oai_identifiers():
    records = [record(1, identifier="http://lib.example.org/rec/1")]
    repo = make_repo(
        records,
        granularity="YYYY-MM-DD",
        deleted_record="no",
        admin_emails=("a@lib.example.org", "b@lib.example.org"),
    )
    ident = oai(make_provider(repo), verb="Identify").find("o:Identify", NS)
    assert ident.findtext("o:earliestDatestamp", namespaces=NS) == "2024-01-01"
    assert ident.findtext("o:granularity", namespaces=NS) == "YYYY-MM-DD"
    assert ident.findtext("o:deletedRecord", namespaces=NS) == "no"
    assert [e.text for e in ident.findall("o:adminEmail", NS)] == [
        "a@lib.example.org",
        "b@lib.example.org",
    ]
    assert ident.find("o:description", NS) is None


def test_response_date_is_now_in_utc_at_seconds():
    shanghai = timezone(timedelta(hours=8))
    clock = Clock(datetime(2025, 3, 1, 20, 30, 15, 987654, tzinfo=shanghai))
    root = oai(make_provider(clock=clock), verb="Identify")
    assert root.findtext("o:responseDate", namespaces=NS) == "2025-03-01T12:30:15Z"


def test_base_url_comes_from_the_request_when_the_repository_names_none():
    provider = make_provider(make_repo(base_url=""))
    root = etree.fromstring(provider.handle({"verb": "Identify"}, base_url="http://h:1/oai"))
    assert root.findtext("o:Identify/o:baseURL", namespaces=NS) == "http://h:1/oai"


# -- ListMetadataFormats ---------------------------------------------------------------------------


def test_list_metadata_formats_of_the_repository():
    root = oai(make_provider(), verb="ListMetadataFormats")
    found = [
        (
            f.findtext("o:metadataPrefix", namespaces=NS),
            f.findtext("o:schema", namespaces=NS),
            f.findtext("o:metadataNamespace", namespaces=NS),
        )
        for f in root.iterfind("o:ListMetadataFormats/o:metadataFormat", NS)
    ]
    assert found == [(f.prefix, f.schema, f.namespace) for f in FORMATS]


def test_list_metadata_formats_of_one_item_lists_only_its_formats():
    only_dc = record(1, payloads={"oai_dc": oai_dc("x")})
    provider = make_provider(make_repo([only_dc]))
    root = oai(provider, verb="ListMetadataFormats", identifier=only_dc.identifier)
    prefixes = [e.text for e in root.iterfind(".//o:metadataPrefix", NS)]
    assert prefixes == ["oai_dc"]
    assert root.find("o:request", NS).get("identifier") == only_dc.identifier


def test_list_metadata_formats_errors():
    empty = record(1, payloads={})
    provider = make_provider(make_repo([empty]))
    root = expect_error(
        provider,
        "idDoesNotExist",
        verb="ListMetadataFormats",
        identifier="oai:lib.example.org:nope",
    )
    assert root.find("o:request", NS).get("identifier") == "oai:lib.example.org:nope"
    expect_error(
        provider, "noMetadataFormats", verb="ListMetadataFormats", identifier=empty.identifier
    )
    no_formats = make_provider(make_repo([], formats=()))
    expect_error(no_formats, "noMetadataFormats", verb="ListMetadataFormats")
    expect_error(provider, "badArgument", verb="ListMetadataFormats", metadataPrefix="oai_dc")


# -- ListSets --------------------------------------------------------------------------------------


def test_list_sets_in_one_response():
    root = oai(make_provider(), verb="ListSets")
    sets = [
        (s.findtext("o:setSpec", namespaces=NS), s.findtext("o:setName", namespaces=NS))
        for s in root.iterfind("o:ListSets/o:set", NS)
    ]
    assert sets == [(s.spec, s.name) for s in SETS]
    assert token_of(root) is None


def test_list_sets_pages_with_tokens():
    provider = make_provider(page_size=2)
    first = oai(provider, verb="ListSets")
    tok = token_of(first)
    assert tok.get("completeListSize") == "3" and tok.get("cursor") == "0"
    second = oai(provider, verb="ListSets", resumptionToken=tok.text)
    last = token_of(second)
    assert last.text is None and last.get("cursor") == "2"
    specs = [e.text for r in (first, second) for e in r.iterfind(".//o:setSpec", NS)]
    assert specs == ["public", "university", "university:science"]


def test_list_sets_errors():
    expect_error(make_provider(make_repo(sets=())), "noSetHierarchy", verb="ListSets")
    expect_error(make_provider(), "badResumptionToken", verb="ListSets", resumptionToken="nope")
    expect_error(make_provider(), "badArgument", verb="ListSets", set="public")


# -- GetRecord -------------------------------------------------------------------------------------


def test_get_record_embeds_marcxml_as_xml():
    rec = record(3, sets=("public", "university"))
    root = oai(
        make_provider(make_repo([rec])),
        verb="GetRecord",
        identifier=rec.identifier,
        metadataPrefix="marc21",
    )
    header = root.find("o:GetRecord/o:record/o:header", NS)
    assert header.get("status") is None
    assert header.findtext("o:identifier", namespaces=NS) == rec.identifier
    assert header.findtext("o:datestamp", namespaces=NS) == "2024-01-02T02:00:00Z"
    assert [e.text for e in header.findall("o:setSpec", NS)] == ["public", "university"]
    marc = root.find("o:GetRecord/o:record/o:metadata/marc:record", NS)
    assert marc.findtext("marc:datafield[@tag='245']/marc:subfield", namespaces=NS) == "Title 3"
    request = root.find("o:request", NS)
    assert request.get("identifier") == rec.identifier
    assert request.get("metadataPrefix") == "marc21"


def test_get_record_in_unimarc_and_oai_dc():
    rec = record(1, title="中华人民共和国图书馆法")
    provider = make_provider(make_repo([rec]))
    uni = oai(provider, verb="GetRecord", identifier=rec.identifier, metadataPrefix="unimarc")
    assert uni.findtext(".//u:rec/u:df[@t='200']/u:sf", namespaces=NS) == "中华人民共和国图书馆法"
    dc = oai(provider, verb="GetRecord", identifier=rec.identifier, metadataPrefix="oai_dc")
    assert dc.findtext(".//dc:title", namespaces=NS) == "中华人民共和国图书馆法"


def test_get_record_of_a_deleted_item_has_header_only():
    rec = record(2, deleted=True, sets=("public",))
    root = oai(
        make_provider(make_repo([rec])),
        verb="GetRecord",
        identifier=rec.identifier,
        metadataPrefix="oai_dc",
    )
    assert root.find(".//o:record/o:header", NS).get("status") == "deleted"
    assert root.find(".//o:record/o:metadata", NS) is None
    assert root.findtext(".//o:header/o:setSpec", namespaces=NS) == "public"


def test_get_record_errors():
    only_dc = record(1, payloads={"oai_dc": oai_dc("x")})
    provider = make_provider(make_repo([only_dc]))
    ident = only_dc.identifier
    expect_error(
        provider,
        "idDoesNotExist",
        verb="GetRecord",
        identifier="oai:x.org:9",
        metadataPrefix="oai_dc",
    )
    root = expect_error(
        provider,
        "cannotDisseminateFormat",
        verb="GetRecord",
        identifier=ident,
        metadataPrefix="mods",
    )
    assert root.find("o:request", NS).get("metadataPrefix") == "mods"  # echoed on this error
    expect_error(
        provider,
        "cannotDisseminateFormat",
        verb="GetRecord",
        identifier=ident,
        metadataPrefix="marc21",
    )
    expect_error(provider, "badArgument", verb="GetRecord", identifier=ident)
    expect_error(provider, "badArgument", verb="GetRecord", metadataPrefix="oai_dc")
    expect_error(
        provider, "badArgument", verb="GetRecord", identifier=ident, metadataPrefix="<oai_dc>"
    )
    expect_error(
        provider, "badArgument", verb="GetRecord", identifier="oai:x:%zz", metadataPrefix="oai_dc"
    )
    expect_error(
        provider, "badArgument", verb="GetRecord", identifier="a b", metadataPrefix="oai_dc"
    )


# -- ListRecords / ListIdentifiers: paging ---------------------------------------------------------


@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
def test_full_harvest_pages_through_every_record_once(verb):
    records = sample_records(23)
    provider = make_provider(make_repo(records), page_size=5)
    ids, tokens = harvest(provider, verb, metadataPrefix="marc21")
    assert ids == expected_ids(records)
    assert [t.get("cursor") for t in tokens] == ["0", "5", "10", "15", "20"]
    assert {t.get("completeListSize") for t in tokens} == {"23"}
    assert all(t.text for t in tokens[:-1]) and tokens[-1].text is None
    expiry = (NOW + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert {t.get("expirationDate") for t in tokens[:-1]} == {expiry}
    assert tokens[-1].get("expirationDate") is None


def test_list_records_carries_metadata_and_deleted_headers():
    records = sample_records(10)
    root = oai(make_provider(make_repo(records)), verb="ListRecords", metadataPrefix="oai_dc")
    for rec_el in root.iterfind("o:ListRecords/o:record", NS):
        ident = rec_el.findtext("o:header/o:identifier", namespaces=NS)
        source = next(r for r in records if r.identifier == ident)
        if source.deleted:
            assert rec_el.find("o:header", NS).get("status") == "deleted"
            assert rec_el.find("o:metadata", NS) is None
        else:
            assert rec_el.findtext(".//dc:title", namespaces=NS) == f"Title {int(ident[-4:])}"
    assert token_of(root) is None  # a complete list in one response has no token
    deleted = [h for h in root.iterfind(".//o:header", NS) if h.get("status") == "deleted"]
    assert len(deleted) == 2


def test_list_identifiers_shows_deleted_status_and_sets():
    root = oai(make_provider(), verb="ListIdentifiers", metadataPrefix="unimarc")
    headers = root.findall("o:ListIdentifiers/o:header", NS)
    assert len(headers) == 12
    assert headers[4].get("status") == "deleted" and headers[3].get("status") is None
    assert headers[2].findtext("o:setSpec", namespaces=NS) == "university:science"
    assert root.find(".//o:metadata", NS) is None


def test_tokens_without_ttl_carry_no_expiration_date():
    provider = make_provider(token_ttl=None, page_size=4)
    _, tokens = harvest(provider, metadataPrefix="oai_dc")
    assert tokens and all(t.get("expirationDate") is None for t in tokens)


def test_records_added_during_a_harvest_are_neither_skipped_nor_doubled():
    records = sample_records(12)
    repo = make_repo(records)
    clock = Clock()
    provider = make_provider(repo, page_size=4, clock=clock)
    first = oai(provider, verb="ListIdentifiers", metadataPrefix="oai_dc")
    # Meanwhile: one new record, one updated record (moves to the end), one deleted record.
    added = record(100, datestamp=NOW)
    updated = record(1, datestamp=NOW + timedelta(seconds=1), title="Updated")
    repo.put(added)
    repo.put(updated)
    repo.put(record(9, deleted=True, datestamp=NOW + timedelta(seconds=2)))
    ids = identifiers(first)
    root = first
    while (tok := token_of(root)) is not None and tok.text:
        root = oai(provider, verb="ListIdentifiers", resumptionToken=tok.text)
        ids += identifiers(root)
    # Record 1 was delivered before it changed and again after: that is the protocol's
    # incremental-harvest semantics (it has a new datestamp), not a duplicate page.
    assert ids[:4] == expected_ids(records)[:4]
    assert ids[4:] == [
        r.identifier for r in records[4:] if r.identifier != records[9].identifier
    ] + [added.identifier, updated.identifier, records[9].identifier]
    assert len(ids[4:]) == len(set(ids[4:]))


def test_a_shared_secret_makes_tokens_work_across_provider_instances():
    repo = make_repo(sample_records(9))
    first = make_provider(repo, page_size=4, secret=b"0123456789abcdef-shared")
    other = make_provider(repo, page_size=4, secret=b"0123456789abcdef-shared")
    tok = token_of(oai(first, verb="ListRecords", metadataPrefix="marc21"))
    root = oai(other, verb="ListRecords", resumptionToken=tok.text)
    assert identifiers(root) == expected_ids(repo.list("marc21", None, None, None, None, 99))[4:8]


# -- resumption-token errors -----------------------------------------------------------------------


def _first_token(provider, verb="ListRecords") -> str:
    return token_of(oai(provider, verb=verb, metadataPrefix="marc21")).text


def test_expired_token_is_bad_resumption_token():
    clock = Clock()
    provider = make_provider(page_size=4, clock=clock, token_ttl=timedelta(minutes=10))
    token = _first_token(provider)
    clock.now = NOW + timedelta(minutes=10)
    assert error_code(oai(provider, verb="ListRecords", resumptionToken=token)) is None
    clock.now = NOW + timedelta(minutes=10, seconds=1)
    root = expect_error(provider, "badResumptionToken", verb="ListRecords", resumptionToken=token)
    assert "expired" in root.findtext("o:error", namespaces=NS)
    assert root.find("o:request", NS).get("resumptionToken") == token  # echoed on this error


def test_forged_and_garbled_tokens_are_bad_resumption_token():
    provider = make_provider(page_size=4)
    token = _first_token(provider)
    payload, signature = token.split(".")
    state = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    state["c"] = 0
    state["k"] = ["1970-01-01T00:00:00+00:00", ""]
    forged = base64.urlsafe_b64encode(json.dumps(state).encode()).rstrip(b"=").decode()
    stranger = _first_token(make_provider(page_size=4))  # another provider's secret
    for bad in (
        f"{forged}.{signature}",
        token[:-2],
        token + "A",
        "nope",
        stranger,
        "\u4e2d\u6587",
        "a" * 5000,
        "x.y.z",
        "<token>&amp;",
    ):
        expect_error(provider, "badResumptionToken", verb="ListRecords", resumptionToken=bad)
    expect_error(provider, "badResumptionToken", verb="ListRecords", resumptionToken="")


def test_token_of_another_verb_is_bad_resumption_token():
    provider = make_provider(page_size=4)
    token = _first_token(provider, "ListRecords")
    expect_error(provider, "badResumptionToken", verb="ListIdentifiers", resumptionToken=token)
    expect_error(provider, "badResumptionToken", verb="ListSets", resumptionToken=token)


def test_resumption_token_is_exclusive():
    provider = make_provider(page_size=4)
    token = _first_token(provider)
    root = expect_error(
        provider, "badArgument", verb="ListRecords", resumptionToken=token, metadataPrefix="marc21"
    )
    assert dict(root.find("o:request", NS).attrib) == {}  # no echo after badArgument
    expect_error(
        provider, "badArgument", verb="ListIdentifiers", resumptionToken=token, set="public"
    )


# -- selective harvesting --------------------------------------------------------------------------


def test_set_selects_its_records_and_its_child_sets():
    records = sample_records(30)
    provider = make_provider(make_repo(records), page_size=4)
    ids, _ = harvest(provider, "ListIdentifiers", metadataPrefix="oai_dc", set="public")
    assert ids == expected_ids(records, lambda r: "public" in r.sets)
    ids, _ = harvest(provider, "ListIdentifiers", metadataPrefix="oai_dc", set="university")
    assert ids == expected_ids(records, lambda r: r.sets[0].startswith("university"))
    ids, _ = harvest(provider, "ListRecords", metadataPrefix="oai_dc", set="university:science")
    assert ids == expected_ids(records, lambda r: r.sets == ("university:science",))
    expect_error(
        provider, "noRecordsMatch", verb="ListRecords", metadataPrefix="oai_dc", set="school"
    )


def test_set_on_a_repository_without_sets_is_no_set_hierarchy():
    provider = make_provider(make_repo(sets=()))
    expect_error(
        provider, "noSetHierarchy", verb="ListRecords", metadataPrefix="oai_dc", set="public"
    )
    expect_error(
        provider, "badArgument", verb="ListRecords", metadataPrefix="oai_dc", set="bad set"
    )


def test_from_until_at_day_granularity_is_inclusive_of_whole_days():
    records = sample_records(12)  # every 6 hours from 2024-01-01T08:00Z
    provider = make_provider(make_repo(records))
    root = oai(
        provider,
        verb="ListIdentifiers",
        metadataPrefix="marc21",
        from_="2024-01-02",
        until="2024-01-02",
    )
    assert identifiers(root) == expected_ids(
        records, lambda r: r.datestamp.date().isoformat() == "2024-01-02"
    )
    assert [r.get("from") for r in root.iterfind("o:request", NS)] == ["2024-01-02"]
    root = oai(provider, verb="ListIdentifiers", metadataPrefix="marc21", from_="2024-01-03")
    assert identifiers(root) == expected_ids(
        records, lambda r: r.datestamp >= datetime(2024, 1, 3, tzinfo=UTC)
    )
    root = oai(provider, verb="ListIdentifiers", metadataPrefix="marc21", until="2024-01-01")
    assert len(identifiers(root)) == 3


def test_from_until_at_seconds_granularity_is_inclusive():
    records = sample_records(12)
    provider = make_provider(make_repo(records))
    root = oai(
        provider,
        verb="ListRecords",
        metadataPrefix="marc21",
        from_="2024-01-01T14:00:00Z",
        until="2024-01-02T08:00:00Z",
    )
    assert identifiers(root) == [r.identifier for r in records[1:5]]
    root = oai(
        provider,
        verb="ListRecords",
        metadataPrefix="marc21",
        from_="2024-01-01T14:00:01Z",
        until="2024-01-02T07:59:59Z",
    )
    assert identifiers(root) == [r.identifier for r in records[2:4]]


def test_until_covers_the_whole_second_of_a_finer_datestamp():
    rec = record(1, datestamp=datetime(2024, 5, 1, 10, 0, 0, 700000, tzinfo=UTC))
    provider = make_provider(make_repo([rec]))
    root = oai(
        provider,
        verb="ListIdentifiers",
        metadataPrefix="marc21",
        from_="2024-05-01T10:00:00Z",
        until="2024-05-01T10:00:00Z",
    )
    assert identifiers(root) == [rec.identifier]
    assert root.findtext(".//o:datestamp", namespaces=NS) == "2024-05-01T10:00:00Z"


def test_day_granularity_repository():
    records = sample_records(12)
    repo = make_repo(records, granularity="YYYY-MM-DD")
    provider = make_provider(repo, page_size=5)
    ids, _ = harvest(provider, "ListRecords", metadataPrefix="oai_dc", from_="2024-01-02")
    assert ids == expected_ids(records, lambda r: r.datestamp >= datetime(2024, 1, 2, tzinfo=UTC))
    root = oai(provider, verb="ListIdentifiers", metadataPrefix="oai_dc")
    assert root.findtext(".//o:datestamp", namespaces=NS) == "2024-01-01"
    expect_error(
        provider,
        "badArgument",
        verb="ListRecords",
        metadataPrefix="oai_dc",
        from_="2024-01-02T00:00:00Z",
    )


@pytest.mark.parametrize(
    ("from_", "until"),
    [
        ("2024-01-01", "2024-01-02T00:00:00Z"),  # mixed granularities
        ("2024-01-03", "2024-01-02"),  # from after until
        ("2024-01-02T10:00:01Z", "2024-01-02T10:00:00Z"),
        ("2024-02-30", None),  # no such day
        ("2024-01-01T10:00:00", None),  # no Z
        ("2024-01-01T10:00:00+08:00", None),
        ("2024-1-1", None),
        ("yesterday", None),
        (None, "2024-01-01T25:00:00Z"),
        ("", None),
    ],
)
def test_bad_dates_are_bad_argument(from_, until):
    params = {"from_": from_, "until": until}
    params = {k: v for k, v in params.items() if v is not None}
    root = expect_error(
        make_provider(), "badArgument", verb="ListRecords", metadataPrefix="marc21", **params
    )
    assert dict(root.find("o:request", NS).attrib) == {}


def test_list_errors():
    provider = make_provider()
    expect_error(
        provider, "noRecordsMatch", verb="ListRecords", metadataPrefix="marc21", from_="2030-01-01"
    )
    expect_error(
        provider,
        "noRecordsMatch",
        verb="ListIdentifiers",
        metadataPrefix="marc21",
        until="2000-01-01",
    )
    root = expect_error(
        provider,
        "cannotDisseminateFormat",
        verb="ListRecords",
        metadataPrefix="mods",
        from_="2024-01-01",
    )
    assert root.find("o:request", NS).get("from") == "2024-01-01"
    expect_error(provider, "badArgument", verb="ListRecords")
    expect_error(provider, "badArgument", verb="ListIdentifiers", set="public")
    expect_error(
        provider,
        "badArgument",
        verb="ListRecords",
        metadataPrefix="marc21",
        identifier="oai:lib.example.org:0001",
    )
    expect_error(
        make_provider(make_repo([])), "noRecordsMatch", verb="ListRecords", metadataPrefix="marc21"
    )


# -- verbs and arguments ---------------------------------------------------------------------------


def test_bad_verbs():
    provider = make_provider()
    for params in (
        {},
        {"verb": "Nonsense"},
        {"verb": "listrecords"},
        {"verb": ["Identify", "Identify"]},
        {"metadataPrefix": "marc21"},
    ):
        root = oai(provider, **params)
        assert error_code(root) == "badVerb", params
        assert dict(root.find("o:request", NS).attrib) == {}


def test_repeated_and_illegal_arguments_are_bad_argument():
    provider = make_provider()
    expect_error(provider, "badArgument", verb="ListRecords", metadataPrefix=["marc21", "oai_dc"])
    expect_error(provider, "badArgument", verb="ListRecords", metadataPrefix=["marc21", "marc21"])
    expect_error(provider, "badArgument", verb="Identify", foo="bar")
    expect_error(provider, "badArgument", verb="ListRecords", metadataPrefix="")
    expect_error(
        provider, "badArgument", verb="GetRecord", identifier="x\x01y", metadataPrefix="marc21"
    )
    expect_error(
        provider,
        "badArgument",
        verb="ListRecords",
        metadataPrefix="marc21",
        **{"<evil attr='1'>": "x"},
    )


# -- hostile content -------------------------------------------------------------------------------


def test_hostile_text_from_records_comes_out_as_escaped_text():
    rec = record(1, title=HOSTILE, identifier="oai:lib.example.org:a<b>&\"'c", sets=("public",))
    repo = make_repo([rec], name=HOSTILE, sets=(SetSpec("public", HOSTILE),))
    provider = make_provider(repo)
    for verb, params in (
        ("ListRecords", {"metadataPrefix": "marc21"}),
        ("GetRecord", {"metadataPrefix": "oai_dc", "identifier": rec.identifier}),
        ("ListSets", {}),
        ("Identify", {}),
    ):
        body = provider.handle({"verb": verb, **params})
        assert b"<script>" not in body and b"onmouseover=alert(2) & " not in body
        root = oai(provider, verb=verb, **params)
        texts = {e.text for e in root.iter() if isinstance(e.tag, str)}
        assert HOSTILE in texts, verb
    root = oai(provider, verb="GetRecord", identifier=rec.identifier, metadataPrefix="oai_dc")
    assert root.find("o:request", NS).get("identifier") == rec.identifier


def test_hostile_text_inside_metadata_stays_text():
    payload = (
        f'<record xmlns="{MARC}"><leader>00000nam a2200000 a 4500</leader>'
        f'<datafield tag="245" ind1="1" ind2="0"><subfield code="a"><![CDATA[{HOSTILE}]]>'
        f'</subfield></datafield><datafield tag="500" ind1=" " ind2=" ">'
        f"<subfield code={quoteattr('b')}>{escape(HOSTILE)}</subfield></datafield></record>"
    ).encode()
    rec = record(1, payloads={"marc21": payload})
    provider = make_provider(make_repo([rec]))
    root = oai(provider, verb="ListRecords", metadataPrefix="marc21")
    assert [e.text for e in root.iterfind(".//marc:subfield", NS)] == [HOSTILE, HOSTILE]
    assert not root.xpath("//*[local-name()='script']")  # no markup crept out of the text
    assert root.xpath("count(//@onmouseover)") == 0


def test_arguments_with_markup_are_escaped_in_the_echo():
    provider = make_provider()
    ident = "oai:lib.example.org:<script>alert(1)</script>"
    root = expect_error(
        provider, "idDoesNotExist", verb="GetRecord", identifier=ident, metadataPrefix="marc21"
    )
    assert root.find("o:request", NS).get("identifier") == ident
    assert b"<script>" not in provider.handle(
        {"verb": "GetRecord", "identifier": ident, "metadataPrefix": "marc21"}
    )


BROKEN_PAYLOADS = {
    "not well-formed": b"<record xmlns='http://www.loc.gov/MARC21/slim'><leader>",
    "entity from a DOCTYPE": (
        b'<!DOCTYPE r [<!ENTITY x "boom">]><record xmlns="http://www.loc.gov/MARC21/slim">'
        b"&x;</record>"
    ),
    "external entity": (
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<record xmlns="http://www.loc.gov/MARC21/slim">&x;</record>'
    ),
    "wrong namespace": b'<record xmlns="urn:not-marc"/>',
    "no namespace": b"<record/>",
    "two roots": marcxml("a", "b") + marcxml("c", "d"),
    "not xml": b"\x00\xff\xfe",
    "child in no namespace under a prefixed root": (
        f'<m:record xmlns:m="{MARC}"><m:leader>x</m:leader><datafield/></m:record>'.encode()
    ),
    "namespace undeclared on a child": (
        f'<record xmlns="{MARC}"><leader xmlns="">x</leader></record>'.encode()
    ),
    "unbound prefix": f'<record xmlns="{MARC}"><x:leader/></record>'.encode(),
    "control character": f'<record xmlns="{MARC}">\x01</record>'.encode(),
    "invalid UTF-8": f'<record xmlns="{MARC}">'.encode() + b"\xff</record>",
    "declared and still in no namespace": b'<?xml version="1.0"?><record/>',
}


@pytest.mark.parametrize("reason", sorted(BROKEN_PAYLOADS))
def test_record_with_broken_metadata_is_skipped_and_logged(reason, caplog):
    records = sample_records(4)
    broken = record(2, payloads={"marc21": BROKEN_PAYLOADS[reason]})
    repo = make_repo([records[0], records[1], broken, records[3]])
    provider = make_provider(repo)
    with caplog.at_level(logging.WARNING, logger="web.oai"):
        root = oai(provider, verb="ListRecords", metadataPrefix="marc21")
    assert identifiers(root) == [
        records[0].identifier,
        records[1].identifier,
        records[3].identifier,
    ]
    assert broken.identifier in caplog.text
    assert b"boom" not in etree.tostring(root) and b"root:" not in etree.tostring(root)
    expect_error(
        provider,
        "cannotDisseminateFormat",
        verb="GetRecord",
        identifier=broken.identifier,
        metadataPrefix="marc21",
    )
    # The header is still listed: ListIdentifiers does not read the metadata.
    assert broken.identifier in identifiers(
        oai(provider, verb="ListIdentifiers", metadataPrefix="marc21")
    )


def test_unusual_but_sound_metadata_is_embedded():
    latin1 = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>'
        f'<oai_dc:dc xmlns:oai_dc="{DC_NS}" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<dc:title>Libert\xe9</dc:title></oai_dc:dc>"
    ).encode("latin-1")
    prefixed = (
        f'<marc:record xmlns:marc="{MARC}"><marc:leader>00000nam a2200000 a 4500</marc:leader>'
        '<marc:controlfield tag="001">p1</marc:controlfield></marc:record>'
    ).encode()
    records = [
        record(1, payloads={"oai_dc": latin1, "marc21": prefixed}),
        record(2, payloads={"oai_dc": b"\xef\xbb\xbf" + oai_dc("With a BOM")}),
        record(3, payloads={"oai_dc": "<!-- exported -->" + oai_dc("Str, comment").decode()}),
    ]
    provider = make_provider(make_repo(records, formats=(MARC21, OAI_DC)))
    root = oai(provider, verb="ListRecords", metadataPrefix="oai_dc")
    titles = [e.text for e in root.iterfind(".//dc:title", NS)]
    assert titles == ["Libert\xe9", "With a BOM", "Str, comment"]
    root = oai(provider, verb="ListRecords", metadataPrefix="marc21")
    assert root.findtext(".//marc:controlfield", namespaces=NS) == "p1"


def test_a_page_of_only_broken_records_moves_on_to_the_next_records():
    good = sample_records(8)
    broken = [record(n, payloads={"marc21": b"<oops>"}) for n in range(3)]
    repo = make_repo(broken + good[3:])
    ids, tokens = harvest(make_provider(repo, page_size=2), metadataPrefix="marc21")
    assert ids == [r.identifier for r in good[3:]]
    assert tokens[-1].text is None


def test_header_text_xml_cannot_carry_skips_the_record():
    bad = record(1, sets=("bad\x00set",))
    repo = make_repo([record(0), bad, record(2)])
    root = oai(make_provider(repo), verb="ListIdentifiers", metadataPrefix="marc21")
    assert identifiers(root) == [record(0).identifier, record(2).identifier]


# -- the in-memory repository ----------------------------------------------------------------------


def test_memory_repository_keyset_order_and_count():
    records = sample_records(10)
    repo = make_repo(list(reversed(records)))
    page = repo.list("marc21", None, None, None, None, 3)
    assert [r.identifier for r in page] == [r.identifier for r in records[:3]]
    after = (page[-1].datestamp, page[-1].identifier)
    assert [r.identifier for r in repo.list("marc21", None, None, None, after, 3)] == [
        r.identifier for r in records[3:6]
    ]
    assert repo.count("marc21", None, None, "public") == 4
    assert repo.count("marc21", START, START + timedelta(hours=6), None) == 2
