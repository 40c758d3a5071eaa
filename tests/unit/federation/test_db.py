"""The pool's liveness checks on PostgreSQL: a dead pooled connection is never handed out."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from federation import db as dbmod


@pytest.fixture
def pg(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (TEST_DATABASE_URL)")
    return db


def _backend_pid(database) -> int:
    with database.session() as session:
        return session.execute(text("SELECT pg_backend_pid()")).scalar()


def _terminate(database, pid: int) -> None:
    from sqlalchemy import create_engine

    other = create_engine(database.engine.url, poolclass=None)
    with other.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()


def test_connection_the_driver_knows_broken_is_not_handed_out(pg):
    pid = _backend_pid(pg)
    _terminate(pg, pid)
    conn = pg.engine.raw_connection()  # used a moment ago: not pinged
    driver = conn.driver_connection
    with pytest.raises(psycopg.OperationalError):
        driver.execute("SELECT 1")  # outside SQLAlchemy: only the driver learns it is dead
    assert driver.broken
    conn.close()  # back in the pool, broken
    assert _backend_pid(pg) != pid  # refused at checkout, replaced: no error for the caller


def test_idle_connection_is_pinged_and_a_dead_one_replaced(pg, monkeypatch):
    pid = _backend_pid(pg)
    _terminate(pg, pid)
    monkeypatch.setattr(dbmod, "PING_AFTER_IDLE_S", 0.0)  # every pooled connection counts as idle
    new_pid = _backend_pid(pg)  # the ping fails, the pool connects afresh: no error here
    assert new_pid != pid
    with pg.session() as session:
        assert session.execute(text("SELECT 1")).scalar() == 1


def test_connection_used_a_moment_ago_is_not_pinged(pg):
    pid = _backend_pid(pg)
    _terminate(pg, pid)
    # Not pinged, so the next statement on it fails (the server went away); SQLAlchemy
    # invalidates the pool on that error: the session after it gets a new connection.
    with pytest.raises(OperationalError), pg.session() as session:
        session.execute(text("SELECT 1"))
    new_pid = _backend_pid(pg)
    assert new_pid != pid


def test_ping_leaves_no_transaction_open(pg, monkeypatch):
    _backend_pid(pg)
    monkeypatch.setattr(dbmod, "PING_AFTER_IDLE_S", 0.0)
    conn = pg.engine.raw_connection()
    try:
        assert conn.driver_connection.info.transaction_status == 0  # IDLE
        assert conn.driver_connection.autocommit is False
    finally:
        conn.close()
