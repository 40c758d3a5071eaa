"""The scheduler's job bodies, end to end: settings and alliance from the environment, a real
OAI-PMH endpoint on loopback, the real harvest services, runs recorded in the database."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import select

from federation.alliance import load_alliance
from federation.members import import_alliance
from federation.models import HarvestRun, Record
from harvesters.locks import member_lock
from harvesters.services import harvest_member
from harvesters.tasks import harvest_job, reconcile_job, run_service
from tests.conftest import TEST_DATA
from web.oai.provider import MemoryRecord, MemoryRepository, MetadataFormat, OAIProvider
from web.oai.server import EndpointServer

DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC = MetadataFormat("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", DC_NS)
TITLES = ("海洋牧场建设研究", "Yantai apple orchards", "胶东半岛民俗志")


def dc_record(n: int) -> MemoryRecord:
    payload = (
        f'<oai_dc:dc xmlns:oai_dc="{DC_NS}" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>{escape(TITLES[n])}</dc:title><dc:type>Text</dc:type></oai_dc:dc>"
    ).encode()
    return MemoryRecord(
        f"oai:east-univ:{n}", datetime(2026, 1, 1 + n, tzinfo=UTC), {"oai_dc": payload}
    )


class Endpoint:
    """A member's OAI-PMH endpoint on loopback whose catalogue the test can shrink."""

    def __init__(self, server: EndpointServer) -> None:
        self.url = server.start(self._app) + "oai"
        self.serve(range(len(TITLES)))

    def serve(self, numbers) -> None:
        repo = MemoryRepository(
            "East University Library",
            self.url,
            [dc_record(n) for n in numbers],
            [OAI_DC],
            deleted_record="no",  # drops records without a trace: reconciliation's case
        )
        self._wsgi = OAIProvider(repo).wsgi_app()

    def _app(self, environ, start_response):
        return self._wsgi(environ, start_response)


@pytest.fixture
def endpoint():
    with EndpointServer() as server:
        yield Endpoint(server)


@pytest.fixture
def environment(settings_overrides, db, endpoint, tmp_path, monkeypatch):
    """FEDERATION_* variables as the scheduler process has them; members imported."""
    text = (TEST_DATA / "alliance" / "good" / "minimal.yaml").read_text(encoding="utf-8")
    text = text.replace("http://127.0.0.1:5101/oai", endpoint.url)
    text = text.replace("metadata_prefix: marc21", "metadata_prefix: oai_dc")
    path = tmp_path / "alliance.yaml"
    path.write_text(text, encoding="utf-8")
    settings = {**settings_overrides, "ALLIANCE_FILE": str(path), "HARVEST_MAX_RETRIES": "0"}
    for key, value in settings.items():
        monkeypatch.setenv(f"FEDERATION_{key}", value)
    alliance = load_alliance(path)
    with db.session() as session:
        import_alliance(session, alliance)
    return alliance


def runs(db) -> list[HarvestRun]:
    with db.session() as session:
        return list(session.scalars(select(HarvestRun).order_by(HarvestRun.id)))


def statuses(db) -> dict[str, str]:
    with db.session() as session:
        return {r.oai_identifier: r.status for r in session.scalars(select(Record))}


def test_harvest_then_reconcile_jobs_record_their_runs(db, environment, endpoint):
    harvest_job("east-univ")
    assert [(r.kind, r.status, r.new) for r in runs(db)] == [("full", "completed", 3)]
    endpoint.serve([0, 2])  # the library withdrew a title and its server kept no trace
    reconcile_job("east-univ")
    last = runs(db)[-1]
    assert (last.kind, last.status, last.deleted) == ("reconcile", "completed", 1)
    assert statuses(db) == {
        "oai:east-univ:0": "active",
        "oai:east-univ:1": "deleted",
        "oai:east-univ:2": "active",
    }


def test_a_job_waits_for_another_run_of_its_member(db, environment):
    held = ExitStack()
    held.enter_context(member_lock(db, "east-univ"))  # a harvest started by hand, say
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        held.close()  # the other run finishes while the job waits

    run_service("harvest", "east-univ", harvest_member, lock_wait=600, sleep=sleep)
    assert pauses == [60.0]
    assert [(r.kind, r.status) for r in runs(db)] == [("full", "completed")]


def test_a_job_gives_up_after_waiting_and_records_nothing(db, environment, caplog):
    pauses: list[float] = []
    with member_lock(db, "east-univ"):
        run_service("harvest", "east-univ", harvest_member, lock_wait=90, sleep=pauses.append)
    assert pauses == [60.0, 30.0]
    assert runs(db) == []
    assert "harvest of east-univ skipped after waiting 90 s" in caplog.text


def test_a_member_gone_from_the_alliance_file_is_skipped_with_a_warning(db, environment, caplog):
    with caplog.at_level(logging.WARNING, logger="harvesters.tasks"):
        harvest_job("retired-lib")
    assert runs(db) == []
    assert "no longer in" in caplog.text and "retired-lib" in caplog.text


def test_a_broken_setting_is_logged_on_one_line(db, environment, monkeypatch, caplog):
    monkeypatch.setenv("FEDERATION_HARVEST_TIMEOUT", "soon")
    with caplog.at_level(logging.ERROR, logger="harvesters.tasks"):
        harvest_job("east-univ")
    assert runs(db) == []
    [message] = [r.getMessage() for r in caplog.records if r.name == "harvesters.tasks"]
    assert "HARVEST_TIMEOUT must be a number" in message and "\n" not in message


def search_titles(settings_overrides, text: str) -> list[str]:
    from search.backends import backend_from_settings
    from search.query import SearchQuery

    backend = backend_from_settings(_settings(settings_overrides))
    try:
        return [hit.doc["title"] for hit in backend.search(SearchQuery(text=text)).hits]
    finally:
        backend.close()


def _settings(overrides):
    from federation.settings import load_settings

    return load_settings(overrides, environ={})


def test_each_run_brings_the_search_index_up_to_date(db, environment, endpoint, settings_overrides):
    harvest_job("east-univ")
    # Readers find the harvested titles at once, without anyone rebuilding the index.
    assert search_titles(settings_overrides, "海洋牧场") == ["海洋牧场建设研究"]
    assert search_titles(settings_overrides, "apple orchards") == ["Yantai apple orchards"]
    endpoint.serve([0, 2])  # the library withdrew the apple book
    reconcile_job("east-univ")
    assert search_titles(settings_overrides, "apple orchards") == []
    assert search_titles(settings_overrides, "胶东半岛") == ["胶东半岛民俗志"]


def test_a_member_removed_from_the_alliance_is_skipped_on_one_line(db, environment, caplog):
    from federation.models import Member

    with db.session() as session:  # the member was dropped from the alliance in the database
        session.delete(session.get(Member, "east-univ"))
        session.commit()
    with caplog.at_level(logging.WARNING, logger="harvesters.tasks"):
        harvest_job("east-univ")  # its job still fires until the scheduler restarts
    assert runs(db) == []
    [message] = [r.getMessage() for r in caplog.records if r.name == "harvesters.tasks"]
    assert "harvest of east-univ skipped" in message and "federation members import" in message
    assert "\n" not in message and not any(r.exc_info for r in caplog.records)
