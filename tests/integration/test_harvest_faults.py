"""Harvesting a misbehaving endpoint over real HTTP: every scenario ends with the store exact.

The fault-injection server (tests/integration/servers/fault.py) serves 240 generated MARC 21
records (26 deleted) in pages of 40 and breaks chosen answers on purpose. First the server
itself is checked with plain HTTP and sickle (the faults happen as scripted); then the harvest
engine is run against it: whatever the fault, the `records` table ends holding exactly the
server's records (same identifiers, same statuses: nothing lost, nothing doubled, deletions
applied), directly when the fault is worth retrying, or after a second run when it must stop
the first one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from email.utils import formatdate
from pathlib import Path

import pytest
import requests
from lxml import etree
from sickle import Sickle

from tests.conftest import DEMO_ALLIANCE, TEST_DATA
from tests.integration.servers import fault as f
from tests.integration.servers.harness import (
    Sleeps,
    harvest,
    harvest_when_unlocked,
    import_members,
    member_at,
    reconcile,
    runs,
    stored,
    stored_rows,
    wait_for_committed_pages,
)
from tests.integration.servers.marc import identifier, title
from web.oai.server import EndpointServer

pytestmark = pytest.mark.integration
OAI = "{http://www.openarchives.org/OAI/2.0/}"
YTU_DEMO_URL = "http://127.0.0.1:5101/oai"  # member ytu in config/demo/alliance.yaml
HARDENED = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@pytest.fixture
def endpoints():
    with EndpointServer() as server:
        yield server


@pytest.fixture
def server(endpoints):
    """The fault server on a free loopback port, no fault scripted yet."""
    fault_server = f.FaultServer()
    fault_server.start(endpoints)
    yield fault_server
    fault_server.stop_waiting()


@pytest.fixture
def store(db):
    """The test database with the demo alliance's members (records refer to them)."""
    import_members(db)
    return db


def list_requests(server: f.FaultServer) -> list:
    return server.log.all("ListRecords")


# -- the server itself -----------------------------------------------------------------------


def test_fault_server_serves_valid_pages_that_sickle_harvests_completely(server):
    xsd = etree.XMLSchema(etree.parse(str(TEST_DATA / "schemas" / "oai-pmh-federation.xsd")))
    params = {"verb": "ListRecords", "metadataPrefix": "marc21"}
    pages = 0
    while params:
        doc = etree.fromstring(requests.get(server.base_url, params=params, timeout=5).content)
        assert xsd.validate(doc), xsd.error_log.last_error
        token = doc.findtext(f"{OAI}ListRecords/{OAI}resumptionToken")
        params = {"verb": "ListRecords", "resumptionToken": token} if token else None
        pages += 1
    assert pages == 6
    client = Sickle(server.base_url, timeout=5)
    headers = [r.header for r in client.ListRecords(metadataPrefix="marc21")]
    harvested = {h.identifier: "deleted" if h.deleted else "active" for h in headers}
    assert harvested == server.expected()
    assert len(headers) == 240 and sum(h.deleted for h in headers) == 26


def _page_one(server: f.FaultServer) -> dict[str, str]:
    """Return the request arguments for page 1 (fetching page 0 for its token)."""
    first = requests.get(
        server.base_url, params={"verb": "ListRecords", "metadataPrefix": "marc21"}, timeout=5
    )
    token = etree.fromstring(first.content).findtext(f"{OAI}ListRecords/{OAI}resumptionToken")
    return {"verb": "ListRecords", "resumptionToken": token}


def _oai_error(response: requests.Response) -> tuple[str | None, str]:
    error = etree.fromstring(response.content, HARDENED).find(f"{OAI}error")
    return (error.get("code"), error.text or "") if error is not None else (None, "")


def _not_xml(answer: requests.Response) -> bool:
    try:
        etree.fromstring(answer.content, HARDENED)
    except etree.XMLSyntaxError:
        return True
    return False


def _token_sent_back(answer: requests.Response) -> bool:
    doc = etree.fromstring(answer.content)
    sent = answer.request.url.split("resumptionToken=")[1]
    return doc.findtext(f"{OAI}ListRecords/{OAI}resumptionToken") == sent and (
        len(doc.findall(f"{OAI}ListRecords/{OAI}record")) == 40
    )


# name: (fault on page 1, exception the client gets, or a check of the answer it gets)
SERVER_FAULTS = {
    "503 with Retry-After": (
        f.http_status(503, page=1, retry_after="1"),
        lambda a: (a.status_code, a.headers.get("Retry-After")) == (503, "1"),
    ),
    "429": (
        f.http_status(429, page=1),
        lambda a: a.status_code == 429 and "Retry-After" not in a.headers,
    ),
    "delay past the timeout": (f.delay(1.0, page=1), requests.ReadTimeout),
    "drop mid-body": (f.drop(page=1, keep=0.5), requests.exceptions.ChunkedEncodingError),
    "drop before the response": (f.drop(page=1, keep=0), requests.ConnectionError),
    "truncated XML": (
        f.truncate(page=1),
        lambda a: (
            a.status_code == 200
            and len(a.content) == int(a.headers["Content-Length"])
            and _not_xml(a)
        ),
    ),
    "illegal characters": (
        f.illegal_chars(page=1),
        lambda a: a.content.count(b"\x0b") == a.content.count(b"\x1a") == 3 and _not_xml(a),
    ),
    "badResumptionToken": (
        f.bad_token(page=1),
        lambda a: _oai_error(a)[0] == "badResumptionToken",
    ),
    "expired token": (
        f.expired_token(page=1),
        lambda a: _oai_error(a)[0] == "badResumptionToken" and "expired" in _oai_error(a)[1],
    ),
    "repeated token": (f.repeat_token(page=1), _token_sent_back),
    "OAI error with HTTP 422": (
        f.oai_error("badArgument", page=1),
        lambda a: a.status_code == 422 and _oai_error(a)[0] == "badArgument",
    ),
}


@pytest.mark.parametrize("name", SERVER_FAULTS)
def test_fault_server_injects_each_fault_as_scripted_then_answers_normally(server, name):
    fault, outcome = SERVER_FAULTS[name]
    params = _page_one(server)
    server.script(fault)
    if isinstance(outcome, type):
        with pytest.raises(outcome):
            requests.get(server.base_url, params=params, timeout=0.3)
    else:
        assert outcome(requests.get(server.base_url, params=params, timeout=5))
    logged = list_requests(server)[-1]
    assert (logged.page, logged.fault) == (1, fault.kind)
    again = requests.get(server.base_url, params=params, timeout=5)
    assert again.status_code == 200 and _oai_error(again)[0] is None
    assert len(etree.fromstring(again.content).findall(f"{OAI}ListRecords/{OAI}record")) == 40


# -- the harvest engine against it -----------------------------------------------------------

RECOVERABLE = {
    "503 with Retry-After, twice": [f.http_status(503, page=2, retry_after="1", times=2)],
    "429 without Retry-After": [f.http_status(429, page=1)],
    "500": [f.http_status(500, page=4)],
    "timeout": [f.delay(1.5, page=2)],
    "connection dropped before the response": [f.drop(page=1, keep=0)],
    "connection dropped mid-body": [f.drop(page=2, keep=0.5)],
    "truncated XML": [f.truncate(page=3)],
    "illegal XML characters": [f.illegal_chars(page=1)],
    "badResumptionToken": [f.bad_token(page=2)],
    "badResumptionToken sent with HTTP 422": [f.bad_token(page=3, status=422)],
    "expired resumption token": [f.expired_token(page=4)],
    "Identify and ListMetadataFormats refused once": [
        f.Fault("http_status", verb="Identify", status=503),
        f.Fault("drop", verb="ListMetadataFormats", keep=0),
    ],
    "a bit of everything": [
        f.http_status(503, page=0, retry_after="1"),
        f.drop(page=1, keep=0.3),
        f.truncate(page=2),
        f.illegal_chars(page=3),
        f.http_status(429, page=4, retry_after="1"),
        f.bad_token(page=5, status=422),  # last: a restarted list counts its pages from 0
    ],
}


@pytest.mark.parametrize("name", RECOVERABLE)
def test_harvest_recovers_from_fault_and_stores_exactly_the_servers_records(store, server, name):
    server.script(*RECOVERABLE[name])
    summary = harvest(store, member_at(server.base_url))
    assert summary.status == "completed", summary.error
    assert server.pending() == [], "every scripted fault must have happened"
    assert stored(store) == server.expected()
    for row in stored_rows(store):
        if row.status == "active":  # illegal characters removed, nothing else lost
            assert row.normalised["title"] == title(int(row.oai_identifier[-5:]))


def test_retry_after_is_honoured_and_capped(store, server):
    server.script(
        f.http_status(503, page=1, retry_after="1", times=2),
        f.http_status(429, page=3, retry_after="120"),
        f.http_status(503, page=4, retry_after=formatdate(time.time() + 600, usegmt=True)),
    )
    sleeps = Sleeps()
    summary = harvest(store, member_at(server.base_url), sleep=sleeps)
    assert summary.ok, summary.error
    assert sleeps == [1.0, 1.0, 2.0, 2.0]  # HARVEST_BACKOFF_CAP is 2 s in these tests
    assert summary.retries == 4
    asked = [(r.page, r.status) for r in list_requests(server)]
    assert asked[1:4] == [(1, 503), (1, 503), (1, 200)]


def test_back_off_without_retry_after_grows_exponentially_with_jitter(store, server):
    server.script(f.http_status(503, page=1, times=3))
    sleeps = Sleeps()
    summary = harvest(store, member_at(server.base_url), sleep=sleeps, HARVEST_BACKOFF_CAP=60.0)
    assert summary.ok, summary.error
    assert len(sleeps) == 3
    assert all(0 <= wait <= 2**attempt for attempt, wait in enumerate(sleeps)), sleeps
    assert sleeps != [1.0, 2.0, 4.0], "full jitter: waits are drawn below the ceiling"


@pytest.mark.parametrize("fault", ["bad", "expired"])
def test_refused_token_restarts_from_the_newest_committed_datestamp(store, server, fault):
    server.script(f.bad_token(page=3) if fault == "bad" else f.expired_token(page=3))
    summary = harvest(store, member_at(server.base_url))
    assert summary.ok, summary.error
    asked = list_requests(server)
    refused = next(i for i, r in enumerate(asked) if r.fault)
    restart = asked[refused + 1].params
    newest = max(server.record(i).datestamp for i in server.first_pages(3))
    assert restart == {
        "verb": "ListRecords",
        "metadataPrefix": "marc21",
        "from": newest.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert stored(store) == server.expected()


def test_illegal_characters_are_removed_and_counted(store, server):
    server.script(f.illegal_chars(page=1, records=4))
    summary = harvest(store, member_at(server.base_url))
    assert summary.ok, summary.error
    assert summary.illegal_chars == 8
    assert stored(store) == server.expected()


PERSISTENT = {
    "503 on every attempt": (f.http_status(503, page=3, times=None), "HTTP 503"),
    "429 on every attempt": (f.http_status(429, page=3, times=None), "HTTP 429"),
    "malformed XML on every attempt": (f.truncate(page=3, times=None), "malformed XML"),
    "connection dropped on every attempt": (f.drop(page=3, keep=0.5, times=None), "connect"),
}


@pytest.mark.parametrize("name", PERSISTENT)
def test_persistent_fault_fails_the_run_keeps_committed_pages_and_next_run_completes(
    store, server, name
):
    fault, says = PERSISTENT[name]
    server.script(fault)
    failed = harvest(store, member_at(server.base_url))
    assert failed.status == "failed"
    assert says in failed.error and server.base_url in failed.error
    assert "\n" not in failed.error and "Traceback" not in failed.error
    assert stored(store) == server.first_pages(3), "pages 0-2 stay committed"
    server.script()
    again = harvest(store, member_at(server.base_url))
    assert again.ok, again.error
    assert stored(store) == server.expected()


def test_same_token_twice_in_a_row_stops_the_run_then_a_new_run_completes(store, server):
    server.script(f.repeat_token(page=2))
    failed = harvest(store, member_at(server.base_url))
    assert failed.status == "failed"
    assert "twice" in failed.error
    assert len(list_requests(server)) == 3, "the repeated token is not followed"
    kept = stored(store)
    assert server.first_pages(2).items() <= kept.items() <= server.expected().items()
    again = harvest(store, member_at(server.base_url))
    assert again.ok, again.error
    assert stored(store) == server.expected()


def test_oai_error_sent_with_http_422_is_read_as_that_oai_error(store, server):
    server.script(f.oai_error("badArgument", page=0, status=422))
    failed = harvest(store, member_at(server.base_url))
    assert failed.status == "failed"
    assert "badArgument" in failed.error
    assert len(list_requests(server)) == 1, "an OAI error is an answer: not retried"
    assert stored(store) == {}


@pytest.mark.parametrize("status", [200, 422])
def test_no_records_match_is_zero_records_not_a_failure(store, endpoints, status):
    server = f.FaultServer(oai_error_status=status)  # 422: as Zenodo sends OAI errors
    server.start(endpoints)
    assert harvest(store, member_at(server.base_url)).ok
    second = harvest(store, member_at(server.base_url))
    assert (second.kind, second.status, second.error) == ("incremental", "completed", None)
    last = list_requests(server)[-1]
    assert "from" in last.params and last.status == status
    assert stored(store) == server.expected()


def test_incremental_harvest_applies_changes_and_deletions(store, server):
    assert harvest(store, member_at(server.base_url)).ok
    gone = [server.change(n, deleted=True) for n in (0, 1, 100, 239)]
    server.change(5, new_title="A corrected title")
    added = [server.change(n) for n in (240, 241)]
    server.log.clear()
    second = harvest(store, member_at(server.base_url))
    assert second.kind == "incremental" and second.ok, second.error
    assert "from" in list_requests(server)[0].params
    now = stored(store)
    assert now == server.expected()
    assert all(now[i] == "deleted" for i in gone) and all(now[i] == "active" for i in added)
    rows = {r.oai_identifier: r for r in stored_rows(store)}
    assert rows[identifier(5)].normalised["title"] == "A corrected title"


def test_run_after_an_empty_incremental_run_is_still_incremental(store, server):
    assert harvest(store, member_at(server.base_url)).ok
    assert harvest(store, member_at(server.base_url)).kind == "incremental"  # nothing new
    server.change(7, new_title="Changed after the empty run")
    server.log.clear()
    third = harvest(store, member_at(server.base_url))
    assert third.ok, third.error
    assert third.kind == "incremental", "a night with no changes must not force a full harvest"
    assert "from" in list_requests(server)[0].params
    assert stored(store) == server.expected()
    assert len(runs(store)) == 3


@pytest.mark.parametrize("fault", [None, f.http_status(503, page=1, retry_after="1")])
def test_reconciliation_marks_records_that_vanished_as_deleted(store, endpoints, fault):
    server = f.FaultServer(deleted_record="no")  # such servers drop deletions without a trace
    server.start(endpoints)
    assert harvest(store, member_at(server.base_url)).ok
    gone = server.remove(3, 60, 61, 230)
    server.script(*[replace(fault, verb="ListIdentifiers")] if fault else [])
    summary = reconcile(store, member_at(server.base_url))
    assert summary.ok and summary.deleted == 4, summary.error
    assert stored(store) == {**server.expected(), **dict.fromkeys(gone, "deleted")}
    assert server.pending() == []


def test_reconciliation_refuses_to_delete_everything_when_the_server_lists_nothing(
    store, endpoints
):
    server = f.FaultServer(deleted_record="no")
    server.start(endpoints)
    assert harvest(store, member_at(server.base_url)).ok
    before = stored(store)
    server.script(f.oai_error("noRecordsMatch", status=200, verb="ListIdentifiers"))
    summary = reconcile(store, member_at(server.base_url))
    assert summary.status == "failed" and "refusing" in summary.error
    assert stored(store) == before


# -- a harvester killed with SIGKILL mid-run, then resumed ------------------------------------


def _alliance_file_pointing_at(base_url: str, folder) -> str:
    """Write a copy of the demo alliance file whose member ytu is served at ``base_url``."""
    text = DEMO_ALLIANCE.read_text("utf-8")
    assert text.count(YTU_DEMO_URL) == 1
    path = folder / "alliance.yaml"
    path.write_text(text.replace(YTU_DEMO_URL, base_url), "utf-8")
    return str(path)


def test_harvest_killed_with_sigkill_resumes_where_it_stopped(
    store, endpoints, settings_overrides, tmp_path
):
    server = f.FaultServer(page_size=24, list_delay=0.4)  # 10 slow pages
    server.start(endpoints)
    env = {**os.environ, **{f"FEDERATION_{k}": v for k, v in settings_overrides.items()}}
    env["FEDERATION_ALLIANCE_FILE"] = _alliance_file_pointing_at(server.base_url, tmp_path)
    federation = Path(sys.executable).with_name("federation")
    proc = subprocess.Popen(
        [str(federation), "harvest", "--member", "ytu"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        killed_run = wait_for_committed_pages(store, proc, pages=3)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    committed = stored(store)
    assert server.first_pages(3).items() <= committed.items(), "committed pages stay stored"
    server.list_delay = 0
    server.log.clear()

    resumed = harvest_when_unlocked(store, member_at(server.base_url))
    assert resumed.ok, resumed.error
    assert resumed.run_id == runs(store)[0].id == killed_run.id, "the killed run is continued"
    asked = list_requests(server)
    assert "resumptionToken" in asked[0].params, "resumed from the checkpoint, not from scratch"
    assert len(asked) < 10, "fewer pages fetched than a full harvest"
    assert stored(store) == server.expected()
    assert len(runs(store)) == 1
