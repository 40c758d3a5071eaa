"""Shared fixtures: a temporary instance with a migrated database, the app, a client, a runner.

The database is SQLite in a temporary folder unless TEST_DATABASE_URL names a
PostgreSQL server (as .ci/run does for its second pass); each test then gets its own schema
wiped clean.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = REPO_ROOT / "tests" / "data"
DEMO_ALLIANCE = REPO_ROOT / "config" / "demo" / "alliance.yaml"


def _postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def _reset_postgres(url: str) -> None:
    """Drop every table so each test starts from an empty database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        # An earlier test's app may still hold a connection (a usage-event flush thread, an
        # unclosed pool): end them, or DROP SCHEMA can deadlock against their writes.
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def settings_overrides(tmp_path) -> dict:
    """Settings for a throw-away instance: its own folder and database, the demo alliance."""
    url = _postgres_url()
    if url:
        _reset_postgres(url)
    return {
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": url or f"sqlite:///{tmp_path / 'instance' / 'test.sqlite3'}",
        "ALLIANCE_FILE": str(DEMO_ALLIANCE),
        "SECRET_KEY": "test-secret",
    }


@pytest.fixture
def db(settings_overrides):
    """A migrated, empty database."""
    from federation.db import Database

    database = Database(settings_overrides["DATABASE_URL"])
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def app(settings_overrides, db):
    """The Flask app on the temporary instance."""
    from web import create_app

    application = create_app({**settings_overrides})
    application.config["TESTING"] = True
    yield application
    # Write this test's usage events now and stop the buffer's timer: a flush coming later
    # would land in the next test's database (the same one, on PostgreSQL).
    application.extensions["federation.usage"].close()
    application.extensions["federation.db"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(settings_overrides, monkeypatch):
    """Run the `federation` CLI with the temporary instance's settings in the environment."""
    from click.testing import CliRunner

    for key, value in settings_overrides.items():
        monkeypatch.setenv(f"FEDERATION_{key}", value)
    return CliRunner()
