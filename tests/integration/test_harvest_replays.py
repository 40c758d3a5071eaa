"""Harvesting replays of real repositories' recorded responses, served over HTTP on loopback.

Zenodo (2026, HTTP 422 on OAI errors), an anonymised Ex Libris Alma (VuFindHarvest), INSPIRE-HEP
and arXiv (invenio-oaiharvester), Erasmus University's DSpace (pyoai) and sickle's own fixtures
are replayed byte for byte from tests/data/oai/ (see PROVENANCE.md there); the recordings'
resumption tokens chain their pages. Sickle reads each replay first (the replays are sound),
then the harvest engine: every recorded record lands once, deletions are applied, an OAI
error sent with HTTP 422 is read as that error and noRecordsMatch means zero records.
"""

from __future__ import annotations

import re

import pytest
from sickle import Sickle

from tests.conftest import TEST_DATA
from tests.integration.servers.harness import (
    harvest,
    harvest_settings,
    import_members,
    member_at,
    stored,
    stored_rows,
)
from tests.integration.servers.replay import (
    REPLAYS,
    Replay,
    ReplayServer,
    listed,
    zenodo,
    zenodo_expired,
)
from tests.integration.servers.replay import sickle as sickle_replay
from web.oai.server import EndpointServer

pytestmark = pytest.mark.integration
CODE = "ytu"


@pytest.fixture
def endpoints():
    with EndpointServer() as server:
        yield server


@pytest.fixture
def store(db):
    import_members(db)
    return db


def serve(endpoints, replay: Replay) -> ReplayServer:
    server = ReplayServer(replay.routes)
    server.start(endpoints)
    return server


def member_for(server: ReplayServer, replay: Replay, **changes):
    values = {"prefix": replay.prefix, "record_format": replay.record_format, "sets": replay.sets}
    return member_at(server.base_url, **{**values, **changes})


def list_sources(server: ReplayServer) -> list[str | None]:
    return [r.source for r in server.log.all("ListRecords")]


@pytest.mark.parametrize("name", REPLAYS)
def test_sickle_follows_every_recorded_page_of_each_replay(endpoints, name):
    replay = REPLAYS[name]()
    server = serve(endpoints, replay)
    client = Sickle(server.base_url, timeout=5)
    headers = []
    for set_spec in replay.sets or (None,):
        extra = {"set": set_spec} if set_spec else {}
        headers += [r.header for r in client.ListRecords(metadataPrefix=replay.prefix, **extra)]
    expected = replay.expected()
    assert {h.identifier for h in headers if h.identifier} == expected.identifiers
    assert {h.identifier for h in headers if h.deleted and h.identifier} == expected.deleted
    assert list_sources(server) == list(replay.pages)
    assert server.unmatched() == []


# What the metadata parsers make of records that carry metadata (everything else is active).
REJECTED_BECAUSE = {
    "inspire": "no 245 title field",  # conference records: the name is in 111, there is no 245
    "arxiv": "no Dublin Core elements",  # arXiv's own format, which no parser of ours reads
}


def _rejected(name: str, replay: Replay) -> set[str]:
    if name in REJECTED_BECAUSE:
        return replay.expected().with_metadata
    if name == "vufind":  # VuFindHarvest's hand-made pages hold <foo/> instead of MARC
        return listed(*replay.pages[1:]).with_metadata
    return set()


@pytest.mark.parametrize("name", REPLAYS)
def test_each_replayed_repository_lands_in_the_store_exactly(store, endpoints, name):
    replay = REPLAYS[name]()
    server = serve(endpoints, replay)
    summary = harvest(store, member_for(server, replay))
    assert summary.ok, summary.error
    assert server.unmatched() == []
    assert list_sources(server) == list(replay.pages)
    expected = replay.expected()
    rejected = _rejected(name, replay)
    want = {i: "deleted" for i in expected.deleted}
    want |= {i: "rejected" if i in rejected else "active" for i in expected.with_metadata}
    assert stored(store) == want
    for row in stored_rows(store):
        if row.status == "rejected":  # kept with its payload, so a better parser can re-run
            assert row.raw and REJECTED_BECAUSE.get(name, "") in row.reject_reason


def test_records_repeated_on_several_pages_are_stored_once_with_their_last_status(store, endpoints):
    replay = sickle_replay()  # both records appear on each of the four pages
    server = serve(endpoints, replay)
    assert harvest(store, member_for(server, replay)).ok
    assert len(stored_rows(store)) == 2
    assert stored(store) == {
        "oai:test.example.com:1585310": "deleted",
        "oai:test.example.com:1585322": "active",
    }


def test_zenodo_no_records_match_sent_with_422_is_zero_records(store, endpoints):
    replay = zenodo()
    server = serve(endpoints, replay)
    assert harvest(store, member_for(server, replay)).ok
    before = stored(store)
    again = harvest(store, member_for(server, replay))
    assert (again.kind, again.status, again.error) == ("incremental", "completed", None)
    last = server.log.all("ListRecords")[-1]
    assert last.status == 422 and "noRecordsMatch" in last.source and "from" in last.params
    assert stored(store) == before


def test_arxiv_no_records_match_in_every_set_is_zero_records(store, endpoints):
    replay = REPLAYS["arxiv"]()
    server = serve(endpoints, replay)
    assert harvest(store, member_for(server, replay)).ok
    before = stored(store)
    server.log.clear()
    again = harvest(store, member_for(server, replay))
    assert (again.kind, again.status) == ("incremental", "completed"), again.error
    asked = server.log.all("ListRecords")
    assert [r.params["set"] for r in asked] == ["cs", "physics"]
    assert all(r.source.endswith("sample_empty_response.xml") for r in asked)
    assert stored(store) == before


def test_zenodo_refused_token_sent_with_422_restarts_from_the_newest_committed_datestamp(
    store, endpoints
):
    replay = zenodo_expired()
    server = serve(endpoints, replay)
    summary = harvest(store, member_for(server, replay))
    assert summary.ok, summary.error
    asked = server.log.all("ListRecords")
    assert [r.status for r in asked] == [200, 422, 200, 200]
    page_one = (TEST_DATA / "oai" / replay.pages[0]).read_text("utf-8")
    newest = max(re.findall(r"<datestamp>([^<]+)</datestamp>", page_one))
    assert asked[2].params == {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": newest}
    expected = replay.expected()
    assert set(stored(store)) == expected.identifiers
    assert {i for i, s in stored(store).items() if s == "deleted"} == expected.deleted


def test_zenodo_errors_sent_with_422_are_read_as_oai_errors(store, endpoints):
    from harvesters.services import refresh_record

    replay = zenodo()
    server = serve(endpoints, replay)
    settings = harvest_settings(store.url)
    refused = refresh_record(
        store, member_for(server, replay, prefix="XXX"), "oai:zenodo.org:10357859",
        settings=settings, sleep=lambda _s: None,
    )  # fmt: skip
    assert refused.status == "failed"
    assert "badArgument" in refused.error and "HTTP 422" not in refused.error
    missing = refresh_record(
        store, member_for(server, replay), "oai:zenodo.org:XXX",
        settings=settings, sleep=lambda _s: None,
    )  # fmt: skip
    assert missing.status == "completed", missing.error  # idDoesNotExist: the record is gone
    assert [r.status for r in server.log.all("GetRecord")] == [422, 422]


def test_recorded_page_that_is_not_xml_is_retried_then_fails_the_run_keeping_earlier_pages(
    store, endpoints
):
    replay = sickle_replay(broken=True)
    server = serve(endpoints, replay)
    summary = harvest(store, member_for(server, replay))
    assert summary.status == "failed"
    assert "malformed XML" in summary.error and "\n" not in summary.error
    broken = [r for r in server.log.all("ListRecords") if r.source.endswith("Broken.xml")]
    assert len(broken) == 1 + 3, "asked once and retried HARVEST_MAX_RETRIES (3) times"
    expected = replay.expected()  # the two pages before the broken one
    assert set(stored(store)) == expected.identifiers


def test_every_recorded_file_is_listed_in_provenance():
    folder = TEST_DATA / "oai"
    provenance = (folder / "PROVENANCE.md").read_text("utf-8")
    listed_files = set()
    for section in re.split(r"\n## ", provenance)[1:]:
        source = section.split("/", 1)[0]  # "## zenodo-scythe/  <-  github.com/..."
        for line in section.splitlines():
            if line.startswith("| ") and not line.startswith("| file"):
                listed_files.add(f"{source}/{line.split('|')[1].strip()}")
    present = {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != "PROVENANCE.md"
    }
    assert present - listed_files == set()
