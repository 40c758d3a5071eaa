"""Backup and restore of the record store, whole: every table, whatever area added it.

- SQLite: the online backup API copies a consistent snapshot while the platform keeps running,
  and copies a backup back the same way.
- PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore`` (the client tools of the server's
  version must be installed), wrapped by the same two commands.

A backup holds reader data only sealed: the key (READER_DATA_KEY) is not in it, and must be
kept apart, or restored reader names and card numbers cannot be read. The search index is not
in the backup either: it is derived, and the CLI rebuilds it after a restore.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import MetaData, func, inspect, select
from sqlalchemy.engine import make_url

from federation.db import Database

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
PG_TIMEOUT = 3600  # seconds; a dump of a large alliance takes minutes, not hours


class BackupError(Exception):
    """A backup or restore cannot be done; the message says what to fix."""


@dataclass
class BackupReport:
    """What a backup or restore covered: the file, its size and rows per table."""

    path: Path
    engine: str
    size: int
    revision: str | None
    rows: dict[str, int] = field(default_factory=dict)


def _engine_name(db: Database) -> str:
    return db.engine.dialect.name


def _sqlite_path(db: Database) -> Path:
    database = make_url(db.url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _libpq(db: Database) -> tuple[str, dict[str, str]]:
    """Return a libpq URL without the password, and an environment carrying it (not argv)."""
    url = make_url(db.url).set(drivername="postgresql")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(password=None).render_as_string(hide_password=False), env


def table_rows(db: Database) -> dict[str, int]:
    """Return how many rows every table of the database holds (the tables it has now)."""
    metadata = MetaData()
    metadata.reflect(db.engine)
    with db.engine.connect() as conn:
        return {
            name: conn.scalar(select(func.count()).select_from(table)) or 0
            for name, table in sorted(metadata.tables.items())
        }


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    tool = command[0]
    if shutil.which(tool) is None:
        raise BackupError(
            f"{tool} is not installed; install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client) of the server's version"
        )
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=PG_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise BackupError(f"{what} took longer than {PG_TIMEOUT} seconds and was stopped") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise BackupError(f"{what} failed: {last}")


def backup(db: Database, path: str | Path) -> BackupReport:
    """Write a consistent copy of the whole database to ``path`` (not overwriting a file)."""
    target = Path(path)
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name")
    if not target.parent.is_dir():
        raise BackupError(f"folder {target.parent} does not exist")
    revision = db.current_revision()
    if revision is None:
        raise BackupError("the database has never been set up (run: federation db upgrade)")
    rows = table_rows(db)
    if _engine_name(db) == "sqlite":
        source = sqlite3.connect(_sqlite_path(db))
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy)
        finally:
            copy.close()
            source.close()
    elif _engine_name(db) == "postgresql":
        url, env = _libpq(db)
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", url], env, "pg_dump")
    else:
        raise BackupError(f"backups of {_engine_name(db)} databases are not supported")
    return BackupReport(target, _engine_name(db), target.stat().st_size, revision, rows)


def _kind_of(path: Path) -> str:
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    with path.open("rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is neither an SQLite backup nor a pg_dump custom-format file")


def _check_sqlite_backup(path: Path) -> str:
    """Check an SQLite backup is whole and of this platform; return its schema revision."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError(f"{path} is damaged (SQLite quick_check failed)")
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" not in names:
            raise BackupError(f"{path} is an SQLite file but not a backup of this platform")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        if row is None:
            raise BackupError(f"{path} holds no schema revision: not a backup of this platform")
        return row[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} cannot be read as SQLite: {exc}") from None
    finally:
        conn.close()


def _drop_everything(db: Database) -> None:
    """Drop every table of the target, so the restored copy is exactly the backup."""
    metadata = MetaData()
    metadata.reflect(db.engine)
    metadata.drop_all(db.engine)


def restore(db: Database, path: str | Path) -> BackupReport:
    """Replace the whole database with the backup at ``path``, then migrate it to the newest schema.

    The caller rebuilds the search index afterwards (the CLI does).
    """
    source = Path(path)
    kind = _kind_of(source)
    if kind != _engine_name(db):
        raise BackupError(
            f"{source} is a {kind} backup but this instance uses {_engine_name(db)}; "
            f"restore it into a {kind} instance"
        )
    if kind == "sqlite":
        _check_known_revision(db, _check_sqlite_backup(source))  # before anything is replaced
        db.dispose()  # no pooled connection may hold the old file's pages
        backup_conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_path(db))
        try:
            with target:
                backup_conn.backup(target)
        finally:
            target.close()
            backup_conn.close()
    else:
        url, env = _libpq(db)
        _drop_everything(db)
        db.dispose()
        command = ["pg_restore", "--no-owner", "--single-transaction", f"--dbname={url}"]
        _run([*command, str(source)], env, "pg_restore")
    db.dispose()
    revision = db.current_revision()
    if revision is None:
        raise BackupError(f"{source} holds no schema revision: not a backup of this platform")
    _check_known_revision(db, revision)
    db.upgrade()
    return BackupReport(source, kind, source.stat().st_size, revision, table_rows(db))


def _check_known_revision(db: Database, revision: str) -> None:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    scripts = ScriptDirectory.from_config(db.alembic_config())
    try:
        known = scripts.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(
            f"the backup is at schema revision {revision}, unknown to this version of the "
            "platform; restore it with the version that made it"
        )


def has_tables(db: Database) -> bool:
    """Return True if the database holds any table (restoring would replace them)."""
    return bool(inspect(db.engine).get_table_names())
