"""Harvesting services against our own OAI-PMH provider over real loopback HTTP.

Every test serves a MemoryRepository through OAIProvider on a free port and harvests it the
way the scheduler or the CLI would; faults are injected by wrapping the provider's WSGI app.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from federation.alliance import load_alliance
from federation.members import import_alliance
from federation.models import Record
from federation.settings import load_settings
from harvesters.errors import HarvestLocked
from harvesters.locks import member_lock
from harvesters.runs import get_run
from harvesters.scan import scan_list_page
from harvesters.services import (
    harvest_all,
    harvest_member,
    harvest_status,
    reconcile_member,
    refresh_record,
    reparse,
)
from tests.conftest import DEMO_ALLIANCE
from tests.unit.harvesters.loopback import Switch
from web.oai.provider import MemoryRecord, MemoryRepository, MetadataFormat, OAIProvider, SetSpec
from web.oai.server import EndpointServer

MARC = "http://www.loc.gov/MARC21/slim"
MARC21 = MetadataFormat(
    "marc21", "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd", MARC
)
T0 = datetime(2025, 1, 1, tzinfo=UTC)
ALLIANCE = load_alliance(DEMO_ALLIANCE)


class Kill(BaseException):  # noqa: N818 - stands for the process being killed
    """Raised from a progress callback: the harvest stops dead, as if the process died."""


def marc(n: int, title: str | None = None) -> bytes:
    return (
        f'<record xmlns="{MARC}"><leader>00000nam a2200000 a 4500</leader>'
        f'<controlfield tag="001">{n}</controlfield>'
        f'<datafield tag="245" ind1="0" ind2="0"><subfield code="a">{title or f"Title {n}"}'
        "</subfield></datafield></record>"
    ).encode()


def rec(n: int, stamp: datetime, *, title=None, deleted=False, sets=(), payload=None):
    payloads = {} if deleted else {"marc21": payload or marc(n, title)}
    return MemoryRecord(f"oai:test.example:{n}", stamp, payloads, deleted, tuple(sets))


def catalogue(count: int = 25, deleted=(3, 17)) -> list[MemoryRecord]:
    return [rec(n, T0 + timedelta(hours=n), deleted=n in deleted) for n in range(count)]


class Clock:
    """The provider's clock: what it says in responseDate."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclasses.dataclass
class Endpoint:
    """One served repository: its URL, the switchable app in front, its clock."""

    url: str
    app: Switch
    repo: MemoryRepository
    clock: Clock

    def serve(self, repo: MemoryRepository, page_size: int = 10) -> None:
        """Put another repository (or a provider with fresh token secrets) behind the URL."""
        self.repo = repo
        self.app.inner = OAIProvider(repo, page_size=page_size, clock=self.clock).wsgi_app()


@pytest.fixture
def store(db):
    with db.session() as session:
        import_alliance(session, ALLIANCE)
    return db


@pytest.fixture
def settings(settings_overrides):
    return load_settings({**settings_overrides, "HARVEST_MAX_RETRIES": 2, "HARVEST_TIMEOUT": 5})


@pytest.fixture
def servers():
    with EndpointServer() as endpoints:
        yield endpoints


@pytest.fixture
def endpoint(servers):
    return start(servers, MemoryRepository("Test", "", catalogue(), [MARC21]))


def start(servers: EndpointServer, repo: MemoryRepository, page_size: int = 10) -> Endpoint:
    clock = Clock(T0 + timedelta(days=30))
    app = Switch(OAIProvider(repo, page_size=page_size, clock=clock).wsgi_app())
    return Endpoint(servers.start(app), app, repo, clock)


def member(url: str, code: str = "ytu", sets=(), prefix="marc21", fmt="marc21"):
    base = ALLIANCE.member(code)
    oai = dataclasses.replace(
        base.oai, base_url=url, sets=tuple(sets), metadata_prefix=prefix, record_format=fmt
    )
    return dataclasses.replace(base, oai=oai)


def harvest(db, settings, m, waits=None, **kw):
    waits = [] if waits is None else waits
    return harvest_member(db, m, settings=settings, sleep=waits.append, rng=random.Random(1), **kw)


def stored(db, code: str = "ytu") -> dict[str, tuple[str, str]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(Record.oai_identifier, Record.datestamp, Record.status).where(
                Record.member_code == code
            )
        )
        return {i: (d, s) for i, d, s in rows}


def served(repo: MemoryRepository, set_spec: str | None = None) -> dict[str, tuple[str, str]]:
    records = repo.list("marc21", None, None, set_spec, None, 10**6)
    return {
        r.identifier: (
            r.datestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "deleted" if r.deleted else "active",
        )
        for r in records
    }


def list_requests(app: Switch) -> list[dict[str, str]]:
    return [p for p in app.seen.params if p.get("verb") == "ListRecords"]


# -- full and incremental ------------------------------------------------------------------------


def test_a_first_harvest_stores_exactly_the_servers_records(store, settings, endpoint):
    summary = harvest(store, settings, member(endpoint.url))
    assert summary.ok, summary.error
    assert (summary.kind, summary.new, summary.deleted, summary.pages) == ("full", 23, 2, 3)
    assert stored(store) == served(endpoint.repo)
    assert summary.response_date == "2025-01-31T00:00:00Z"
    assert list_requests(endpoint.app)[0] == {"verb": "ListRecords", "metadataPrefix": "marc21"}


def test_an_incremental_harvest_picks_up_exactly_the_changes(store, settings, endpoint):
    harvest(store, settings, member(endpoint.url))
    later = T0 + timedelta(days=31)
    endpoint.repo.put(rec(100, later))  # new
    endpoint.repo.put(rec(5, later, title="Title 5, revised"))  # updated
    endpoint.repo.put(rec(6, later, deleted=True))  # deleted
    endpoint.clock.now = T0 + timedelta(days=32)
    summary = harvest(store, settings, member(endpoint.url))
    assert summary.ok, summary.error
    assert summary.kind == "incremental"
    assert summary.from_date == "2025-01-31T00:00:00Z"  # the last run's own responseDate
    assert (summary.new, summary.updated, summary.deleted, summary.unchanged) == (1, 1, 1, 0)
    assert stored(store) == served(endpoint.repo)
    assert list_requests(endpoint.app)[-1]["from"] == "2025-01-31T00:00:00Z"


def test_each_run_counts_the_records_it_added_for_the_members_statistics(
    store, settings, endpoint
):
    from federation.models import UsageEvent
    from federation.usage import RECORDS_CONTRIBUTED

    first = harvest(store, settings, member(endpoint.url))
    endpoint.repo.put(rec(100, T0 + timedelta(days=31)))
    endpoint.clock.now = T0 + timedelta(days=32)
    second = harvest(store, settings, member(endpoint.url))
    quiet = harvest(store, settings, member(endpoint.url))  # nothing new: nothing counted
    with store.session() as s:
        events = s.scalars(select(UsageEvent).where(UsageEvent.kind == RECORDS_CONTRIBUTED)).all()
        counted = sorted((e.member_code, e.quantity, e.ref) for e in events)
    assert quiet.ok and quiet.new == 0
    assert counted == sorted(
        [("ytu", 23, f"harvest_run:{first.run_id}"), ("ytu", 1, f"harvest_run:{second.run_id}")]
    )


def test_incremental_from_is_cut_to_a_day_granularity_server(store, settings, servers):
    repo = MemoryRepository("Day", "", catalogue(), [MARC21], granularity="YYYY-MM-DD")
    endpoint = start(servers, repo)
    endpoint.clock.now = T0 + timedelta(hours=13)  # responseDate 2025-01-01T13:00:00Z
    harvest(store, settings, member(endpoint.url))
    summary = harvest(store, settings, member(endpoint.url))
    assert summary.from_date == "2025-01-01"
    assert summary.ok and summary.unchanged == 25 and summary.new == 0  # that whole day again


def test_nothing_new_is_an_empty_completed_run(store, settings, endpoint):
    harvest(store, settings, member(endpoint.url))
    summary = harvest(store, settings, member(endpoint.url))
    assert summary.ok and summary.kind == "incremental"
    assert (summary.pages, summary.new, summary.updated) == (0, 0, 0)
    assert summary.response_date == "2025-01-31T00:00:00Z"  # from Identify: no page came
    endpoint.repo.put(rec(200, T0 + timedelta(days=31)))
    endpoint.clock.now = T0 + timedelta(days=32)
    after_empty = harvest(store, settings, member(endpoint.url))
    assert (after_empty.kind, after_empty.new) == ("incremental", 1)


def test_full_harvests_everything_again_and_counts_it_unchanged(store, settings, endpoint):
    harvest(store, settings, member(endpoint.url))
    summary = harvest(store, settings, member(endpoint.url), full=True)
    assert (summary.kind, summary.unchanged, summary.new, summary.from_date) == (
        "full",
        25,
        0,
        None,
    )


def test_only_the_configured_sets_are_harvested(store, settings, servers):
    records = [rec(n, T0 + timedelta(hours=n), sets=[("a", "b", "c")[n % 3]]) for n in range(30)]
    sets = [SetSpec("a", "A"), SetSpec("b", "B"), SetSpec("c", "C")]
    endpoint = start(servers, MemoryRepository("Sets", "", records, [MARC21], sets))
    summary = harvest(store, settings, member(endpoint.url, sets=("a", "c")))
    assert summary.ok and summary.new == 20
    assert stored(store) == served(endpoint.repo, "a") | served(endpoint.repo, "c")
    again = harvest(store, settings, member(endpoint.url, sets=("a", "c")))
    assert again.kind == "incremental"
    widened = harvest(store, settings, member(endpoint.url, sets=("a", "b", "c")))
    assert widened.kind == "full", "a set added in the alliance file needs its older records"
    assert widened.ok and (widened.new, widened.unchanged) == (10, 20)
    missing = harvest(store, settings, member(endpoint.url, sets=("medicine",)))
    assert missing.status == "failed"
    assert "has no set 'medicine' named in the alliance file; its sets: a, b, c" in missing.error


def test_a_format_the_server_does_not_offer_fails_with_what_it_offers(store, settings, endpoint):
    summary = harvest(store, settings, member(endpoint.url, prefix="unimarc", fmt="unimarc"))
    assert summary.status == "failed"
    assert "does not offer the metadata format 'unimarc'" in summary.error
    assert "it offers: marc21" in summary.error


def test_a_record_that_cannot_be_parsed_is_kept_rejected_and_the_run_goes_on(
    store, settings, servers
):
    records = catalogue(10, deleted=())
    records[4] = rec(4, T0, payload=f'<record xmlns="{MARC}"><leader>x</leader></record>'.encode())
    endpoint = start(servers, MemoryRepository("Bad", "", records, [MARC21]))
    summary = harvest(store, settings, member(endpoint.url))
    assert summary.ok and (summary.new, summary.rejected) == (9, 1)
    with store.engine.connect() as conn:
        status, reason, raw = conn.execute(
            select(Record.status, Record.reject_reason, Record.raw).where(
                Record.oai_identifier == "oai:test.example:4"
            )
        ).one()
    assert status == "rejected" and "245" in reason and raw is not None


def test_illegal_xml_characters_are_removed_and_counted_on_the_run(store, settings, endpoint):
    endpoint.app.rewrite = lambda _params, body: body.replace(b"Title 7<", b"Title\x0b 7<")
    summary = harvest(store, settings, member(endpoint.url))
    assert summary.ok and summary.illegal_chars == 1
    with store.engine.connect() as conn:
        normalised = conn.execute(
            select(Record.normalised).where(Record.oai_identifier == "oai:test.example:7")
        ).scalar()
    assert normalised["title"] == "Title 7"


# -- interruptions -------------------------------------------------------------------------------


def killed_after(pages: int):
    def progress(_code: str, done: int, _expected) -> None:
        if done >= pages * 10:
            raise Kill

    return progress


def test_a_killed_harvest_resumes_from_its_checkpoint(store, settings, endpoint):
    m = member(endpoint.url)
    with pytest.raises(Kill):
        harvest(store, settings, m, progress=killed_after(1))
    [killed] = harvest_status(store, ["ytu"])
    assert (killed.last_run.status, killed.last_run.pages) == ("running", 1)
    asked_before = len(list_requests(endpoint.app))
    summary = harvest(store, settings, m)
    assert summary.ok, summary.error
    assert summary.run_id == killed.last_run.run_id and summary.pages == 3
    resumed = list_requests(endpoint.app)[asked_before]
    assert set(resumed) == {"verb", "resumptionToken"}
    assert stored(store) == served(endpoint.repo)
    assert (summary.new, summary.deleted) == (23, 2)  # counted once across both processes


def test_an_expired_token_restarts_from_the_last_committed_datestamp(store, settings, endpoint):
    m = member(endpoint.url)
    with pytest.raises(Kill):
        harvest(store, settings, m, progress=killed_after(2))
    last = get_run(store, harvest_status(store, ["ytu"])[0].last_run.run_id).last_datestamp
    endpoint.serve(endpoint.repo)  # a restarted server: its old tokens are now bad
    summary = harvest(store, settings, m)
    assert summary.ok, summary.error
    assert last == "2025-01-01T19:00:00Z"
    restarts = [p for p in list_requests(endpoint.app) if "from" in p]
    assert restarts == [{"verb": "ListRecords", "metadataPrefix": "marc21", "from": last}]
    assert stored(store) == served(endpoint.repo)


def test_the_same_token_twice_fails_the_run_and_keeps_what_was_committed(store, settings, endpoint):
    def repeat(params, body):
        token = params.get("resumptionToken")
        if token is None:
            return body
        start = body.index(b">", body.index(b"<resumptionToken")) + 1
        return body[:start] + token.encode() + body[body.index(b"</resumptionToken>") :]

    endpoint.app.rewrite = repeat
    summary = harvest(store, settings, member(endpoint.url))
    assert summary.status == "failed"
    assert "twice in a row" in summary.error
    assert summary.pages == 2 and len(stored(store)) == 20


def test_malformed_xml_is_retried_then_fails_keeping_what_was_committed(store, settings, endpoint):
    endpoint.app.rewrite = lambda p, body: b"<OAI-PMH><broken" if "resumptionToken" in p else body
    waits: list[float] = []
    summary = harvest(store, settings, member(endpoint.url), waits)
    assert summary.status == "failed"
    assert "malformed XML" in summary.error
    assert len(waits) == 2 and summary.retries == 2
    assert summary.pages == 1 and len(stored(store)) == 10
    endpoint.app.rewrite = None  # the server is mended: the next harvest starts again
    again = harvest(store, settings, member(endpoint.url))
    assert again.ok and again.run_id != summary.run_id
    assert stored(store) == served(endpoint.repo)


def broken_inside(times: int | None):
    """Break a tag inside the second page (its head and its token stay intact)."""
    broken: list[str] = []

    def rewrite(params, body):
        if "resumptionToken" not in params or (times is not None and len(broken) >= times):
            return body
        body = body.replace(b"</datestamp>", b"</datestamps>", 1)
        assert scan_list_page(body) is not None  # only the scan read it before normalising
        broken.append(params["resumptionToken"])
        return body

    return rewrite, broken


def test_a_page_broken_inside_is_asked_for_again(store, settings, endpoint):
    endpoint.app.rewrite, broken = broken_inside(times=1)
    waits: list[float] = []
    summary = harvest(store, settings, member(endpoint.url), waits)
    assert summary.ok, summary.error
    assert summary.retries == 1 and len(waits) == 1
    assert [p.get("resumptionToken") for p in list_requests(endpoint.app)].count(broken[0]) == 2
    assert stored(store) == served(endpoint.repo)


def test_a_page_broken_inside_every_time_fails_keeping_what_was_committed(
    store, settings, endpoint
):
    endpoint.app.rewrite, _broken = broken_inside(times=None)
    summary = harvest(store, settings, member(endpoint.url))
    assert summary.status == "failed" and "malformed XML" in summary.error
    assert summary.retries == 2 and summary.pages == 1 and len(stored(store)) == 10


def test_a_member_being_harvested_is_not_harvested_twice(store, settings, endpoint):
    m = member(endpoint.url)
    with member_lock(store, "ytu"):
        with pytest.raises(HarvestLocked):
            harvest(store, settings, m)
        [skipped] = harvest_all(store, [m], settings=settings)
    assert skipped.status == "skipped" and "running" in skipped.error


def test_members_on_one_server_share_at_most_two_streams(store, settings, servers):
    repos = {c: MemoryRepository(c, "", catalogue(30), [MARC21]) for c in ("ytu", "ldu", "sdtbu")}
    apps = {c: OAIProvider(r, page_size=5).wsgi_app() for c, r in repos.items()}

    def by_path(environ, start_response):
        return apps[environ["PATH_INFO"].strip("/")](environ, start_response)

    def slow(_params, body):
        import time

        time.sleep(0.05)  # keep requests in flight long enough to overlap
        return body

    front = Switch(by_path)
    front.rewrite = slow
    url = servers.start(front)
    members = [member(f"{url}{c}", c) for c in repos]
    summaries = harvest_all(store, members, workers=3, settings=settings)
    assert [s.ok for s in summaries] == [True, True, True]
    assert front.most_in_flight <= 2
    for code, repo in repos.items():
        assert stored(store, code) == served(repo)


# -- reconciliation, single records, reparse, status ----------------------------------------------


def test_reconcile_marks_records_the_server_dropped_without_saying(store, settings, servers):
    repo = MemoryRepository("No", "", catalogue(deleted=()), [MARC21], deleted_record="no")
    endpoint = start(servers, repo)
    m = member(endpoint.url)
    harvest(store, settings, m)
    kept = [
        r
        for r in catalogue(deleted=())
        if r.identifier not in {"oai:test.example:2", "oai:test.example:9"}
    ]
    endpoint.serve(MemoryRepository("No", "", kept, [MARC21], deleted_record="no"))
    summary = reconcile_member(store, m, settings=settings, sleep=lambda _s: None)
    assert summary.ok and summary.deleted == 2 and summary.kind == "reconcile"
    statuses = {i: s for i, (_d, s) in stored(store).items()}
    assert statuses["oai:test.example:2"] == statuses["oai:test.example:9"] == "deleted"
    assert sum(1 for s in statuses.values() if s == "active") == 23


def test_reconcile_leaves_persistent_servers_alone_and_refuses_to_empty_the_store(
    store, settings, servers
):
    repo = MemoryRepository("P", "", catalogue(deleted=()), [MARC21])  # persistent
    endpoint = start(servers, repo)
    m = member(endpoint.url)
    harvest(store, settings, m)
    endpoint.serve(MemoryRepository("P", "", [], [MARC21]))
    assert reconcile_member(store, m, settings=settings).deleted == 0
    assert all(s == "active" for _d, s in stored(store).values())
    forced = reconcile_member(store, m, settings=settings, force=True)
    assert forced.ok and forced.deleted == 25  # forced: the user said so


def test_reconcile_refuses_to_delete_everything_unless_forced(store, settings, servers):
    repo = MemoryRepository("N", "", catalogue(deleted=()), [MARC21], deleted_record="no")
    endpoint = start(servers, repo)
    m = member(endpoint.url)
    harvest(store, settings, m)
    endpoint.serve(MemoryRepository("N", "", [], [MARC21], deleted_record="no"))
    summary = reconcile_member(store, m, settings=settings)
    assert summary.status == "failed" and "refusing to mark 25 as deleted" in summary.error
    assert all(s == "active" for _d, s in stored(store).values())


def test_refresh_record_fetches_one_record_again(store, settings, endpoint):
    m = member(endpoint.url)
    harvest(store, settings, m)
    endpoint.repo.put(rec(8, T0 + timedelta(days=40), title="Eight, corrected"))
    summary = refresh_record(store, m, "oai:test.example:8", settings=settings)
    assert summary.ok and summary.updated == 1 and summary.kind == "record"
    assert stored(store)["oai:test.example:8"] == ("2025-02-10T00:00:00Z", "active")
    gone = refresh_record(store, m, "oai:test.example:404", settings=settings)
    assert gone.ok and gone.deleted == 0
    endpoint.serve(MemoryRepository("T", "", catalogue()[:8], [MARC21]))
    vanished = refresh_record(store, m, "oai:test.example:8", settings=settings)
    assert vanished.deleted == 1 and stored(store)["oai:test.example:8"][1] == "deleted"


def test_reparse_rebuilds_normalised_records_from_stored_payloads(store, settings, endpoint):
    m = member(endpoint.url)
    harvest(store, settings, m)
    with store.engine.begin() as conn:
        conn.execute(
            update(Record).where(Record.status == "active").values(normalised={"stale": 1})
        )
    seen: list[tuple[int, int]] = []
    summary = reparse(
        store, [m], batch_size=7, progress=lambda done, total: seen.append((done, total))
    )
    assert (summary.records, summary.changed, summary.active) == (23, 23, 23)
    assert seen[-1] == (23, 23) and len(seen) == 4
    with store.engine.connect() as conn:
        titles = conn.execute(select(Record.normalised).where(Record.status == "active")).scalars()
        assert all(n["title"].startswith("Title") for n in titles)
    assert reparse(store, [m]).changed == 0


def test_status_shows_each_members_last_run_and_record_counts(store, settings, endpoint):
    harvest(store, settings, member(endpoint.url))
    [status] = harvest_status(store, ["ytu"])
    assert status.last_run.kind == "full" and status.last_run.ok
    assert status.last_run.duration is not None
    assert status.records == {"active": 23, "deleted": 2}
    assert harvest_status(store)[0].member_code == "ytu"


def test_a_member_not_yet_imported_is_refused_before_anything_is_asked(db, settings, endpoint):
    from harvesters.errors import UnknownMember

    with pytest.raises(UnknownMember, match="run `federation members import`"):
        harvest(db, settings, member(endpoint.url))
    assert endpoint.app.seen.params == []


def test_a_harvest_killed_between_sets_goes_on_with_the_next_set(store, settings, servers):
    records = [rec(n, T0 + timedelta(hours=n), sets=[("a", "b", "c")[n % 3]]) for n in range(30)]
    sets = [SetSpec("a", "A"), SetSpec("b", "B"), SetSpec("c", "C")]
    endpoint = start(servers, MemoryRepository("Sets", "", records, [MARC21], sets))
    m = member(endpoint.url, sets=("a", "b"))
    with pytest.raises(Kill):  # set a fits one page: killed right after committing it
        harvest(store, settings, m, progress=killed_after(1))
    asked_before = len(list_requests(endpoint.app))
    summary = harvest(store, settings, m)
    assert summary.ok and summary.new == 20
    after = list_requests(endpoint.app)[asked_before:]
    assert [p.get("set") for p in after] == ["b"], "set a must not be asked again"
    assert stored(store) == served(endpoint.repo, "a") | served(endpoint.repo, "b")
