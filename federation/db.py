"""The record store's connection: engine, sessions and migrations (SQLAlchemy 2 + Alembic)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class Base(DeclarativeBase):
    """Base class of every table of the platform."""


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Turn on WAL and foreign keys on every SQLite connection (readers never block writers)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``; SQLite files get their folder, WAL and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed, pool_size=10, max_overflow=20)
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _check_alive)
    return engine


# A pooled PostgreSQL connection is pinged (``SELECT 1``, one round trip) before it is handed
# out only when it has been idle this long; one used a moment ago is checked with the driver's
# own state, which costs nothing. (``pool_pre_ping`` pinged on every checkout: one extra round
# trip per transaction.) A server that goes away within this window shows as one failed
# statement, after which SQLAlchemy invalidates the pool and the next checkout reconnects.
PING_AFTER_IDLE_S = 10.0


def _note_checkin(_dbapi_connection, record) -> None:
    record.info["idle_since"] = time.monotonic()


def _check_alive(dbapi_connection, record, _proxy) -> None:
    """Refuse a dead connection at checkout; the pool then connects afresh (up to 3 tries)."""
    if dbapi_connection.closed or getattr(dbapi_connection, "broken", False):
        raise exc.DisconnectionError("the pooled connection was closed")
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
        return  # new, or used a moment ago
    record.info.pop("idle_since", None)
    autocommit = dbapi_connection.autocommit
    try:
        dbapi_connection.autocommit = True  # the ping opens no transaction
        dbapi_connection.execute("SELECT 1")
        dbapi_connection.autocommit = autocommit
    except Exception as error:  # any failure: this connection is not to be used
        raise exc.DisconnectionError(f"the pooled connection did not answer: {error}") from error


class Database:
    """An engine and its session factory; one per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Yield a session that commits on success and rolls back on any error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def upgrade(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to ``revision``."""
        from alembic import command

        command.upgrade(self.alembic_config(), revision)

    def current_revision(self) -> str | None:
        """Return the revision the database is at, or None when never migrated."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def alembic_config(self):
        """Build the Alembic configuration for this database (no alembic.ini needed)."""
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        cfg.attributes["engine"] = self.engine
        return cfg

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
