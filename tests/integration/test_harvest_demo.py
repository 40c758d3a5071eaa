"""Harvest the demo alliance over real loopback HTTP: complete, then exactly the changes.

Also the `federation harvest`, `harvest status` and `reparse` commands, and a harvest killed
with SIGKILL that the next harvest resumes from its checkpoint.
"""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from federation.alliance import load_alliance
from federation.cli import main
from federation.demo import build_corpus
from federation.members import import_alliance
from federation.models import HarvestRun, Record
from federation.settings import load_settings
from harvesters.errors import HarvestLocked
from harvesters.services import harvest_all, harvest_member
from tests.conftest import DEMO_ALLIANCE, REPO_ROOT
from tests.unit.harvesters.loopback import Switch
from web.demo import member_profiles, member_repositories
from web.oai.provider import MemoryRecord, OAIProvider
from web.oai.server import EndpointServer

pytestmark = pytest.mark.integration

ALLIANCE = load_alliance(DEMO_ALLIANCE)


@pytest.fixture(scope="module")
def corpus():
    return build_corpus(member_profiles(ALLIANCE), seed=2026)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclasses.dataclass
class Demo:
    """The demo members' endpoints on free ports, their repositories and a shared clock."""

    repos: dict
    urls: dict[str, str]
    apps: dict[str, Switch]
    clock: Clock

    def members(self) -> list:
        out = []
        for m in ALLIANCE.members:
            oai = dataclasses.replace(m.oai, base_url=self.urls[m.code])
            out.append(dataclasses.replace(m, oai=oai))
        return out


@pytest.fixture
def demo(corpus):
    repos = member_repositories(ALLIANCE, corpus)
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    with EndpointServer() as server:
        urls, apps = {}, {}
        for code, repo in repos.items():
            apps[code] = Switch(OAIProvider(repo, page_size=100, clock=clock).wsgi_app())
            urls[code] = repo.base_url = server.start(apps[code])
        yield Demo(repos, urls, apps, clock)


@pytest.fixture
def store(db):
    with db.session() as session:
        import_alliance(session, ALLIANCE)
    return db


@pytest.fixture
def settings(settings_overrides):
    return load_settings({**settings_overrides, "HARVEST_MAX_RETRIES": 2})


def served(repo, member) -> dict[str, tuple[str, str]]:
    """What the endpoint serves for the member's harvest: identifier -> (datestamp, status)."""
    records = {}
    for set_spec in member.oai.sets or (None,):
        for r in repo.list(member.oai.metadata_prefix, None, None, set_spec, None, 10**7):
            stamp = r.datestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            records[r.identifier] = (stamp, "deleted" if r.deleted else "active")
    return records


def stored(db, code: str) -> dict[str, tuple[str, str]]:
    query = select(Record.oai_identifier, Record.datestamp, Record.status).where(
        Record.member_code == code
    )
    with db.engine.connect() as conn:
        return {i: (d, s) for i, d, s in conn.execute(query)}


def change(repo, member, when: datetime) -> tuple[int, int, int]:
    """Add two records, update three (one with new content) and delete two; return the counts."""
    prefix = member.oai.metadata_prefix
    live = [r for r in served_records(repo, member) if not r.deleted]
    picks = random.Random(member.code).sample(live, 7)
    for n, template in enumerate(picks[:2]):
        payload = template.metadata(prefix)
        repo.put(
            MemoryRecord(
                f"{template.identifier}-new{n}", when, {prefix: payload}, sets=template.sets
            )
        )
    for template in picks[2:5]:
        payload = template.metadata(prefix).replace(b"</", b" (rev.)</", 1)
        repo.put(MemoryRecord(template.identifier, when, {prefix: payload}, sets=template.sets))
    for template in picks[5:]:
        repo.put(MemoryRecord(template.identifier, when, {}, deleted=True, sets=template.sets))
    return 2, 3, 2


def served_records(repo, member) -> list:
    found = {}
    for set_spec in member.oai.sets or (None,):
        for r in repo.list(member.oai.metadata_prefix, None, None, set_spec, None, 10**7):
            found[r.identifier] = r
    return list(found.values())


def test_the_demo_alliance_is_harvested_completely_then_exactly_its_changes(store, settings, demo):
    members = demo.members()
    first = harvest_all(store, members, settings=settings)
    assert [(s.member_code, s.ok, s.error) for s in first if not s.ok] == []
    total = 0
    for m in members:
        expected = served(demo.repos[m.code], m)
        assert stored(store, m.code) == expected, m.code
        total += len(expected)
    assert total >= 4000

    when = demo.clock.now + timedelta(minutes=1)
    changes = {m.code: change(demo.repos[m.code], m, when) for m in members}
    first_response = demo.clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    demo.clock.now += timedelta(minutes=2)
    second = harvest_all(store, members, settings=settings)
    for summary in second:
        assert summary.ok, (summary.member_code, summary.error)
        assert summary.kind == "incremental"
        assert summary.from_date == first_response
        counts = (summary.new, summary.updated, summary.deleted)
        assert counts == changes[summary.member_code], summary.member_code
        assert (summary.unchanged, summary.rejected) == (0, 0)
    for m in members:
        assert stored(store, m.code) == served(demo.repos[m.code], m), m.code


# -- the command line ------------------------------------------------------------------------------


def alliance_file(tmp_path: Path, urls: dict[str, str]) -> Path:
    """Write the demo alliance file with each member's base URL pointing at a test endpoint."""
    text = DEMO_ALLIANCE.read_text(encoding="utf-8")
    for m in ALLIANCE.members:
        text = text.replace(f"base_url: {m.oai.base_url}\n", f"base_url: {urls[m.code]}\n")
    path = tmp_path / "alliance.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_harvest_commands(runner, monkeypatch, tmp_path, demo):
    monkeypatch.setenv("FEDERATION_ALLIANCE_FILE", str(alliance_file(tmp_path, demo.urls)))
    assert runner.invoke(main, ["members", "import"]).exit_code == 0
    result = runner.invoke(main, ["harvest", "--member", "ytu", "--member", "xingfu-cl"])
    assert result.exit_code == 0, result.output
    assert "ytu: full harvest completed" in result.output
    assert "xingfu-cl: full harvest completed" in result.output

    result = runner.invoke(main, ["harvest", "--member", "ytu"])
    assert "ytu: incremental harvest completed" in result.output and "0 new" in result.output

    status = runner.invoke(main, ["harvest", "status"])
    assert status.exit_code == 0, status.output
    lines = status.output.splitlines()
    assert lines[0].split()[:3] == ["member", "last", "run"]
    ytu = next(line for line in lines if line.startswith("ytu "))
    assert "incremental" in ytu and "completed" in ytu and "637/18/0" in ytu
    assert "never harvested" in next(line for line in lines if line.startswith("ldu "))
    assert "Times are in Asia/Shanghai." in status.output

    reparsed = runner.invoke(main, ["reparse", "--member", "ytu"])
    assert reparsed.exit_code == 0, reparsed.output
    assert "Reparsed 637 records: 0 changed; now 637 active" in reparsed.output

    unknown = runner.invoke(main, ["harvest", "--member", "nope"])
    assert unknown.exit_code == 2 and "unknown member code(s): nope" in unknown.output


def test_a_failed_harvest_exits_non_zero_and_says_why(runner, monkeypatch, tmp_path, demo):
    urls = {**demo.urls, "ytu": "http://127.0.0.1:9/oai"}  # the discard port: nothing answers
    monkeypatch.setenv("FEDERATION_ALLIANCE_FILE", str(alliance_file(tmp_path, urls)))
    monkeypatch.setenv("FEDERATION_HARVEST_MAX_RETRIES", "0")
    runner.invoke(main, ["members", "import"])
    result = runner.invoke(main, ["harvest", "--member", "ytu"])
    assert result.exit_code == 1
    assert "ytu: full harvest FAILED" in result.output and "cannot connect" in result.output
    assert "Traceback" not in result.output


# -- a harvest killed with SIGKILL -----------------------------------------------------------------


def test_a_harvest_killed_with_sigkill_is_resumed_by_the_next_one(
    store, settings, settings_overrides, tmp_path, demo
):
    member = next(m for m in demo.members() if m.code == "ytu")
    slow = demo.apps["ytu"]
    slow.inner = OAIProvider(demo.repos["ytu"], page_size=40, clock=demo.clock).wsgi_app()

    def pause(_params, body):
        time.sleep(0.3)  # slow pages, so the kill lands mid-harvest
        return body

    slow.rewrite = pause
    env = {**os.environ, **{f"FEDERATION_{k}": v for k, v in settings_overrides.items()}}
    env["FEDERATION_ALLIANCE_FILE"] = str(alliance_file(tmp_path, demo.urls))
    federation = Path(sys.executable).with_name("federation")
    child = subprocess.Popen(
        [str(federation), "harvest", "--member", "ytu"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        run = wait_for_pages(store, 2, child)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    slow.rewrite = None
    summary = once_unlocked(lambda: harvest_member(store, member, settings=settings))
    assert summary.ok, summary.error
    assert summary.run_id == run.id
    assert summary.pages == 17  # 655 records, 40 a page, counted across both processes
    assert stored(store, "ytu") == served(demo.repos["ytu"], member)


def once_unlocked(harvest, seconds: float = 15):
    """Run ``harvest`` once the killed process's member lock is gone.

    On PostgreSQL the lock is the killed client's session lock: the server releases it when
    its backend sees the connection close, a moment after the kill (longer on a loaded
    machine). It must go by itself; the test only does not race it.
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            return harvest()
        except HarvestLocked:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def wait_for_pages(db, pages: int, child: subprocess.Popen, seconds: float = 60) -> HarvestRun:
    """Wait until the child's run has committed ``pages`` pages; return that run."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert child.poll() is None, "the harvest ended before it could be killed"
        with db.session() as session:
            run = session.scalars(select(HarvestRun).where(HarvestRun.member_code == "ytu")).first()
            if run is not None and run.pages >= pages:
                session.expunge(run)
                return run
        time.sleep(0.1)
    pytest.fail("the harvest did not commit its first pages in time")


def test_harvest_demo_harvests_every_member_and_says_so(store, settings, demo):
    from harvesters.services import harvest_demo

    class Ctx:  # what web/demo.py passes: the CLI context
        db, settings = store, None

        def alliance(self):
            return dataclasses.replace(ALLIANCE, members=tuple(demo.members()))

    ctx = Ctx()
    ctx.settings = settings
    lines: list[str] = []
    summaries = harvest_demo(ctx, echo=lines.append)
    assert [s.ok for s in summaries] == [True] * len(ALLIANCE.members)
    assert all(s.kind == "full" for s in summaries)
    assert lines[-1].startswith("Harvested ") and f"{len(ALLIANCE.members)} of" in lines[-1]
    assert any(line.strip().startswith("ytu: full harvest completed") for line in lines)
