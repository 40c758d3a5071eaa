"""Backup, then restore into a fresh instance: every member, record, cluster, account and
token is there, the search index is rebuilt and searching works (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from federation.accounts import create_token, create_user
from federation.alliance import load_alliance
from federation.backup import table_rows
from federation.cli import main
from federation.db import Database
from federation.demo import build_corpus
from federation.members import import_alliance
from federation.privacy import ensure_reader_key
from federation.settings import load_settings
from harvesters.services import harvest_all
from ill import services as ill_services
from ill.context import make_context
from ill.simulate import clusters_with_holders
from tests.conftest import DEMO_ALLIANCE
from tests.support.accounts import PASSWORD, sign_in
from tests.support.ill import staff
from web import create_app
from web.demo import member_profiles, member_repositories
from web.oai.provider import OAIProvider
from web.oai.server import EndpointServer

pytestmark = pytest.mark.integration
MEMBERS = ("ytu", "ytlib")
READER, CARD = "欧阳娜娜", "YT-2026-0042"


def _place_request(db: Database, key: str) -> int:
    """ytlib's staff ask ytu for a title only ytu holds, for a reader; return the request id."""
    ctx = make_context(load_alliance(DEMO_ALLIANCE), key)
    with db.session() as s:
        held = clusters_with_holders(s, minimum=1)
        wanted = next(c for c, who in sorted(held.items()) if who == {"ytu"})
        request = ill_services.create_request(
            s, staff("ytlib"), ctx=ctx, cluster_id=wanted, patron_name=READER, patron_card=CARD
        )
        return request.id


def _harvest(db: Database, overrides: dict) -> None:
    """Serve two demo members over loopback OAI-PMH and harvest them fully into ``db``."""
    alliance = load_alliance(DEMO_ALLIANCE)
    with db.session() as s:
        import_alliance(s, alliance)
    repos = member_repositories(alliance, build_corpus(member_profiles(alliance), seed=2026))
    with EndpointServer() as server:
        members = []
        for m in map(alliance.member, MEMBERS):
            url = server.start(OAIProvider(repos[m.code]).wsgi_app())
            members.append(dataclasses.replace(m, oai=dataclasses.replace(m.oai, base_url=url)))
        summaries = harvest_all(
            db, members, full=True, settings=load_settings(overrides, environ={})
        )
    assert all(s.ok for s in summaries), [s.error for s in summaries]


def _fresh_instance(tmp_path: Path, source: dict) -> dict:
    """Settings of a second, empty instance (a second PostgreSQL database when on PostgreSQL)."""
    folder = tmp_path / "restored"
    url = source["DATABASE_URL"]
    if url.startswith("postgresql"):
        parsed = make_url(url)
        name = f"{parsed.database}_restored"
        admin = create_engine(
            parsed.set(drivername="postgresql+psycopg", database="postgres"),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = parsed.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{folder / 'fresh.sqlite3'}"
    return {**source, "INSTANCE_PATH": str(folder), "DATABASE_URL": url}


def _use(monkeypatch, settings: dict) -> None:
    for key, value in settings.items():
        monkeypatch.setenv(f"FEDERATION_{key}", value)


def test_a_backup_restored_into_a_fresh_instance_holds_everything_and_search_works(
    db, settings_overrides, runner, monkeypatch, tmp_path
):
    _harvest(db, settings_overrides)
    with db.session() as s:
        create_user(s, "ytu.wang", PASSWORD, "ill_staff", "ytu")
        secret = create_token(s, "ytlib", "ILS", "read").secret
    indexed = runner.invoke(main, ["index", "rebuild"])
    assert indexed.exit_code == 0, indexed.output
    key = ensure_reader_key(load_settings(settings_overrides, environ={}))
    rid = _place_request(db, key)
    before = table_rows(db)
    assert before["records"] > 100 and before["members"] > 10 and before["users"] == 1
    assert before["ill_requests"] == 1 and before["ill_events"] >= 1
    assert before["clusters"] > 100

    archive = tmp_path / "alliance.backup"
    made = runner.invoke(main, ["backup", str(archive)])
    assert made.exit_code == 0, made.output
    assert "READER_DATA_KEY" in made.output

    fresh = {**_fresh_instance(tmp_path, settings_overrides), "READER_DATA_KEY": key}
    _use(monkeypatch, fresh)
    restored = runner.invoke(main, ["restore", str(archive)])
    assert restored.exit_code == 0, restored.output
    assert "Search index rebuilt" in restored.output

    fresh_db = Database(fresh["DATABASE_URL"])
    try:
        after = table_rows(fresh_db)
        ctx = make_context(load_alliance(DEMO_ALLIANCE), key)
        with fresh_db.session() as s:  # the borrower's staff can still read their reader's name
            patron = ill_services.open_patron(s, staff("ytlib"), rid, ctx=ctx)
        assert (patron["name"], patron["card"]) == (READER, CARD)
    finally:
        fresh_db.dispose()
    assert {k: v for k, v in after.items() if k != "scheduler_jobs"} == {
        k: v for k, v in before.items() if k != "scheduler_jobs"
    }

    app = create_app(fresh)
    try:
        client = app.test_client()
        hits = client.get("/api/v1/search?q=中国发展报告").get_json()
        assert hits["total"] >= 1
        assert sign_in(client, "ytu.wang").status_code == 302
        api = client.get("/api/v1/members", headers={"Authorization": f"Bearer {secret}"})
        assert api.status_code == 200
    finally:
        app.extensions["federation.db"].dispose()


def test_restore_refuses_a_file_that_is_not_a_backup_and_keeps_the_database(db, runner, tmp_path):
    with db.session() as s:
        import_alliance(s, load_alliance(DEMO_ALLIANCE))
    before = table_rows(db)
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup", encoding="utf-8")
    result = runner.invoke(main, ["restore", "--yes", str(junk)])
    assert result.exit_code == 2
    assert result.output.strip().startswith("Error: ") and "Traceback" not in result.output
    assert "neither an SQLite backup nor a pg_dump" in result.output
    missing = runner.invoke(main, ["restore", "--yes", str(tmp_path / "nothing.backup")])
    assert "no backup file" in missing.output
    assert table_rows(db) == before


def test_backup_never_overwrites_a_file(db, runner, tmp_path):
    existing = tmp_path / "keep.me"
    existing.write_text("precious", encoding="utf-8")
    result = runner.invoke(main, ["backup", str(existing)])
    assert result.exit_code == 2 and "exists already" in result.output
    assert existing.read_text(encoding="utf-8") == "precious"


def test_restore_asks_before_replacing_a_database(db, runner, tmp_path):
    archive = tmp_path / "a.backup"
    assert runner.invoke(main, ["backup", str(archive)]).exit_code == 0
    answer_no = runner.invoke(main, ["restore", str(archive)], input="n\n")
    assert answer_no.exit_code == 1 and "Aborted" in answer_no.output


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL only")
def test_an_sqlite_backup_is_not_restored_into_postgresql(db, runner, tmp_path):
    fake = tmp_path / "x.sqlite3"
    Database(f"sqlite:///{fake}").upgrade()
    result = runner.invoke(main, ["restore", "--yes", str(fake)])
    assert (
        result.exit_code == 2 and "sqlite backup but this instance uses postgresql" in result.output
    )


def _sqlite_only():
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("SQLite backups restore into SQLite instances")


def test_an_older_backup_is_migrated_to_the_newest_schema(db, runner, tmp_path):
    _sqlite_only()
    old = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    old.upgrade("0006")  # before accounts existed
    with old.session() as s:
        import_alliance(s, load_alliance(DEMO_ALLIANCE))
    archive = tmp_path / "old.backup"
    from federation.backup import backup

    backup(old, archive)
    old.dispose()
    result = runner.invoke(main, ["restore", "--yes", str(archive)])
    assert result.exit_code == 0, result.output
    db.dispose()
    rows = table_rows(db)
    assert rows["members"] > 10 and rows["users"] == 0
    assert db.current_revision() != "0006"


def test_a_backup_from_a_newer_version_is_refused_before_anything_changes(db, runner, tmp_path):
    _sqlite_only()
    with db.session() as s:
        import_alliance(s, load_alliance(DEMO_ALLIANCE))
    before = table_rows(db)
    newer = Database(f"sqlite:///{tmp_path / 'newer.sqlite3'}")
    newer.upgrade()
    with newer.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    newer.dispose()
    result = runner.invoke(main, ["restore", "--yes", str(tmp_path / "newer.sqlite3")])
    assert result.exit_code == 2 and "unknown to this version" in result.output
    assert table_rows(db) == before
