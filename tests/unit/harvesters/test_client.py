"""The OAI-PMH client over real loopback HTTP: retries, back-off, OAI errors in 4xx, paging."""

from __future__ import annotations

import random
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from harvesters.client import OAIClient, RetryPolicy, retry_after_seconds, server_key
from harvesters.errors import (
    HTTPStatusError,
    MalformedResponse,
    NetworkError,
    OAIError,
    RepeatedTokenError,
)
from tests.unit.harvesters.loopback import KeepAliveServer, Reply, Routed, Scripted, oai_file
from web.oai.server import EndpointServer

LIST_RECORDS = oai_file("sickle/ListRecords4.xml")  # two records (one without identifier)


@pytest.fixture
def server():
    with EndpointServer() as endpoints:
        yield endpoints


def client_for(
    url: str, waits: list[float], retries: int = 3, cap: float = 10.0, **kw
) -> OAIClient:
    """A client whose sleeps are recorded, not slept, with a seeded random source."""
    return OAIClient(
        url,
        timeout=kw.pop("timeout", 5.0),
        retry=RetryPolicy(retries, cap),
        sleep=waits.append,
        rng=random.Random(7),
        **kw,
    )


def test_a_503_with_retry_after_is_retried_after_exactly_that_wait(server):
    app = Scripted([Reply(b"busy", 503, (("Retry-After", "4"),)), Reply(LIST_RECORDS)])
    waits: list[float] = []
    page = client_for(server.start(app), waits).fetch("ListRecords", metadataPrefix="oai_dc")
    assert waits == [4.0]
    assert [i.header.identifier for i in page.items] == ["", "oai:test.example.com:1585322"]


def test_retry_after_longer_than_the_cap_waits_only_the_cap(server):
    app = Scripted([Reply(b"", 429, (("Retry-After", "3600"),)), Reply(LIST_RECORDS)])
    waits: list[float] = []
    client_for(server.start(app), waits, cap=30.0).fetch("ListRecords", metadataPrefix="oai_dc")
    assert waits == [30.0]


def test_retry_after_as_an_http_date_is_honoured():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds(header, now) == 90.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_server_errors_back_off_exponentially_with_full_jitter_then_fail(server):
    app = Scripted([Reply(b"oops", 500)])
    waits: list[float] = []
    client = client_for(server.start(app), waits, retries=4, cap=5.0)
    with pytest.raises(NetworkError, match="HTTP 500 after 4 retries"):
        client.fetch("Identify")
    assert len(app.seen.params) == 5  # the first request and four retries
    expected_rng = random.Random(7)
    assert waits == [expected_rng.uniform(0, min(5.0, 2**i)) for i in range(4)]
    assert all(0 <= w <= min(5.0, 2**i) for i, w in enumerate(waits))
    assert client.retries == 4


def test_oai_errors_sent_with_http_422_are_read_as_oai_errors_and_not_retried(server):
    app = Scripted(
        [Reply(oai_file("zenodo-scythe/list_records__03_ListRecords_badArgument.xml"), 422)]
    )
    waits: list[float] = []
    with pytest.raises(OAIError) as caught:
        client_for(server.start(app), waits).fetch("ListRecords", metadataPrefix="XXX")
    assert caught.value.code == "badArgument"
    assert waits == []
    assert len(app.seen.params) == 1


def test_no_records_match_with_http_422_is_an_empty_list_not_a_failure(server):
    body = oai_file("zenodo-scythe/list_records__02_ListRecords_noRecordsMatch.xml")
    app = Scripted([Reply(body, 422)])
    waits: list[float] = []
    client = client_for(server.start(app), waits)
    assert (
        list(client.list_pages("ListRecords", metadataPrefix="oai_dc", **{"from": "2030-01-01"}))
        == []
    )
    assert waits == []


def test_an_http_404_without_oai_body_says_so(server):
    app = Scripted([Reply(b"<html><body>Not here</body></html>", 404)])
    with pytest.raises(HTTPStatusError, match="HTTP 404") as caught:
        client_for(server.start(app), []).fetch("Identify")
    assert caught.value.status == 404


def test_an_html_page_is_not_retried_and_points_at_the_base_url(server):
    app = Scripted([Reply(oai_file("zenodo-scythe/identify__00_Identify.xml"))])
    waits: list[float] = []
    with pytest.raises(MalformedResponse, match="HTML page.*check the base URL"):
        client_for(server.start(app), waits).identify()
    assert waits == []


def test_malformed_xml_is_retried_and_then_fails_with_a_clear_message(server):
    app = Scripted([Reply(oai_file("sickle/ListRecordsBroken.xml"))])
    waits: list[float] = []
    with pytest.raises(MalformedResponse, match="malformed XML"):
        client_for(server.start(app), waits, retries=2).fetch(
            "ListRecords", metadataPrefix="oai_dc"
        )
    assert len(waits) == 2


def test_malformed_xml_that_heals_on_retry_is_harvested(server):
    app = Scripted([Reply(oai_file("sickle/ListRecordsBroken.xml")), Reply(LIST_RECORDS)])
    waits: list[float] = []
    page = client_for(server.start(app), waits).fetch("ListRecords", metadataPrefix="oai_dc")
    assert len(page.items) == 2
    assert len(waits) == 1


def test_a_refused_connection_is_retried_then_reported_in_plain_words():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    waits: list[float] = []
    with pytest.raises(NetworkError, match="cannot connect"):
        client_for(f"http://127.0.0.1:{port}/oai", waits, retries=2).identify()
    assert len(waits) == 2


def test_a_server_slower_than_the_timeout_is_retried_then_reported(server):
    app = Scripted([Reply(LIST_RECORDS, delay=1.0)])
    waits: list[float] = []
    client = client_for(server.start(app), waits, retries=1, timeout=0.2)
    with pytest.raises(NetworkError, match="did not answer"):
        client.fetch("ListRecords", metadataPrefix="oai_dc")
    assert len(waits) == 1


def _sickle_paging(params: dict[str, str]) -> Reply:
    """sickle's fixtures: the resumption token is the name of the next file."""
    return Reply(oai_file(f"sickle/{params.get('resumptionToken', 'ListRecords.xml')}"))


def test_list_pages_follows_resumption_tokens_over_one_connection():
    with KeepAliveServer(_sickle_paging) as app:
        pages = list(client_for(app.url, []).list_pages("ListRecords", metadataPrefix="oai_dc"))
    assert len(pages) == 4  # ListRecords.xml -> ListRecords2.xml -> 3 -> 4 (no token)
    assert [p.get("resumptionToken") for p in app.seen.params] == [
        None,
        "ListRecords2.xml",
        "ListRecords3.xml",
        "ListRecords4.xml",
    ]
    assert app.seen.params[1] == {"verb": "ListRecords", "resumptionToken": "ListRecords2.xml"}
    assert len(set(app.seen.ports)) == 1, "every page should reuse the first connection"


def test_the_same_token_twice_in_a_row_stops_the_list(server):
    def loop(params: dict[str, str]) -> Reply:
        name = "ListRecords2.xml" if "resumptionToken" in params else "ListRecords.xml"
        return Reply(oai_file(f"sickle/{name}").replace(b"ListRecords3.xml", b"ListRecords2.xml"))

    pages = client_for(server.start(Routed(loop)), []).list_pages(
        "ListRecords", metadataPrefix="oai_dc"
    )
    assert next(pages).next_token == "ListRecords2.xml"
    with pytest.raises(RepeatedTokenError, match="twice in a row"):
        list(pages)


def test_identify_formats_and_sets_are_read(server):
    def route(params: dict[str, str]) -> Reply:
        return Reply(oai_file(f"sickle/{params['verb']}.xml"))

    client = client_for(server.start(Routed(route)), [])
    identity = client.identify()
    assert identity.granularity == "YYYY-MM-DD"
    assert identity.deleted_record == "persistent"
    assert client.metadata_formats() == ["epicur", "xMetaDissPlus", "oai_dc", "mods", "swepub_mods"]
    sets = client.sets()
    assert len(sets) == 131
    assert sets[0] == ("bi", "All BI publications (already published)")


def test_server_key_is_host_and_port():
    assert server_key("http://Example.org/oai") == "example.org:80"
    assert server_key("https://example.org/oai") == "example.org:443"
    assert server_key("http://127.0.0.1:5101/oai") == "127.0.0.1:5101"
