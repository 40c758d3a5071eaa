"""One harvest per member at a time, across threads, processes and (PostgreSQL) machines.

A harvest, a reconciliation and a reparse of one member all write its records; this lock
keeps them apart. It is held by the operating system (flock, SQLite) or the database server
(advisory lock, PostgreSQL), so a process killed even with SIGKILL releases it at once.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from federation.db import Database
from harvesters.errors import HarvestLocked

_thread_locks: dict[tuple[str, str], threading.Lock] = {}
_thread_locks_guard = threading.Lock()


@contextmanager
def member_lock(db: Database, member_code: str) -> Iterator[None]:
    """Hold the member's harvest lock, across processes; raise HarvestLocked if it is taken.

    PostgreSQL: a session advisory lock. SQLite: flock on a file beside the database. Both
    are released by the operating system or the server when the holder dies, even by SIGKILL,
    so a killed harvest never blocks the next one.
    """
    url = db.engine.url
    if url.get_backend_name() == "postgresql":
        with _advisory_lock(db, member_code):
            yield
    elif url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        with _file_lock(Path(url.database), member_code):
            yield
    else:
        with _thread_lock(str(url), member_code):
            yield


def _lock_key(member_code: str) -> int:
    digest = hashlib.blake2b(f"federation-harvest:{member_code}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def _advisory_lock(db: Database, member_code: str) -> Iterator[None]:
    key = _lock_key(member_code)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            raise HarvestLocked(f"another harvest of {member_code} is running; try again later")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})


@contextmanager
def _file_lock(database: Path, member_code: str) -> Iterator[None]:
    import fcntl

    folder = database.with_name(database.name + ".locks")
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"harvest-{member_code}.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise HarvestLocked(
                f"another harvest of {member_code} is running ({holder}); try again later"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _thread_lock(url: str, member_code: str) -> Iterator[None]:
    with _thread_locks_guard:
        lock = _thread_locks.setdefault((url, member_code), threading.Lock())
    if not lock.acquire(blocking=False):
        raise HarvestLocked(f"another harvest of {member_code} is running; try again later")
    try:
        yield
    finally:
        lock.release()
