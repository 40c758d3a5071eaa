"""From harvest to search: the demo members harvested, clustered, indexed and searched; an
indexer killed mid-batch leaves a queue that brings store and index back together."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from federation.alliance import load_alliance
from federation.demo import build_corpus
from federation.members import import_alliance
from federation.models import Cluster, HarvestRun, IndexQueue, utcnow
from harvesters.services import harvest_all
from search.backends import backend_from_settings
from search.dedup.services import ClusterChanges
from search.indexing import drain_queue, enqueue, index_changes_since, queued, rebuild_index
from search.query import SearchQuery
from tests.conftest import DEMO_ALLIANCE
from web.demo import member_profiles, member_repositories
from web.oai.provider import OAIProvider
from web.oai.server import EndpointServer

pytestmark = pytest.mark.integration


@pytest.fixture
def harvested(db, settings_overrides):
    """Three demo members (MARC 21, UNIMARC, Dublin Core) harvested into the store."""
    import dataclasses

    alliance = load_alliance(DEMO_ALLIANCE)
    with db.session() as s:
        import_alliance(s, alliance)
    chosen = [alliance.member("ytu"), alliance.member("ytlib"), alliance.member("xingfu-cl")]
    corpus = build_corpus(member_profiles(alliance), seed=2026)
    repos = member_repositories(alliance, corpus)
    settings = {**settings_overrides, **_settings(settings_overrides)}
    with EndpointServer() as server:
        members = []
        for m in chosen:
            url = server.start(OAIProvider(repos[m.code]).wsgi_app())
            members.append(dataclasses.replace(m, oai=dataclasses.replace(m.oai, base_url=url)))
        summaries = harvest_all(db, members, full=True, settings=settings)
    assert all(s.ok for s in summaries), [s.error for s in summaries]
    return settings, corpus


def _settings(overrides):
    from federation.settings import load_settings

    return load_settings(overrides, environ={})


def test_harvested_records_become_searchable_clusters(db, harvested):
    settings, _corpus = harvested
    backend = backend_from_settings(settings)
    try:
        written = rebuild_index(db, backend)
        with db.session() as s:
            clusters = s.scalar(select(func.count()).select_from(Cluster))
        assert written == clusters == backend.count() > 100
        # A Chinese title from the real BNU CNMARC seed, searched without spaces.
        result = backend.search(SearchQuery(text="中国发展报告", facets=["member"]))
        assert result.total >= 1
        assert "中国发展报告" in result.hits[0].doc["title"]
        members = {value for value, _count in result.facets["member"]}
        assert members <= {"ytu", "ytlib", "xingfu-cl"} and members
    finally:
        backend.close()


def test_killed_indexer_converges_on_the_next_run(db, harvested, settings_overrides, tmp_path):
    settings, _corpus = harvested
    backend = backend_from_settings(settings)
    rebuild_index(db, backend)
    backend.close()
    with db.session() as s:
        ids = list(s.scalars(select(Cluster.id)))
        enqueue(s, ClusterChanges(upserted=ids))
    assert queued(db) == len(ids)

    env = {**os.environ, **{f"FEDERATION_{k}": str(v) for k, v in settings_overrides.items()}}
    federation = Path(sys.executable).with_name("federation")
    proc = subprocess.Popen(
        [str(federation), "index", "update", "--batch-size", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while queued(db) > len(ids) - 10 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    left = queued(db)
    assert 0 < left < len(ids), "the indexer should have been killed mid-way"

    backend = backend_from_settings(settings)
    try:
        report = drain_queue(db, backend)
        assert report.upserted == left
        assert queued(db) == 0
        assert backend.count() == len(ids)
        for cid in ids[:50]:
            assert backend.get(cid) is not None
    finally:
        backend.close()
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(IndexQueue)) == 0


def test_a_harvest_whose_index_step_never_ran_is_caught_up_by_the_next_one(db, harvested):
    """The fixture's harvests committed their records and stopped before their index step
    (as a process killed right after its harvest would): the next run's step, for whatever
    member and with its own later start, clusters and indexes them too; once only."""
    settings, _corpus = harvested
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Cluster)) == 0
        assert s.scalar(select(func.count()).where(HarvestRun.clustered_at.is_(None))) == 3
    backend = backend_from_settings(settings)
    try:
        report = index_changes_since(db, backend, utcnow())  # a later run that changed nothing
        with db.session() as s:
            clusters = s.scalar(select(func.count()).select_from(Cluster))
            assert s.scalar(select(func.count()).where(HarvestRun.clustered_at.is_(None))) == 0
        assert report.upserted == clusters == backend.count() > 100
        assert backend.search(SearchQuery(text="中国发展报告")).total >= 1
        assert index_changes_since(db, backend, utcnow()).upserted == 0
    finally:
        backend.close()
