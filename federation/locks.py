"""Named locks that hold across threads and processes, and die with their holder.

PostgreSQL: a session advisory lock (held by the server). SQLite: flock on a file beside the
database (held by the operating system). Either way a process killed even with SIGKILL
releases it at once, so a crash never blocks the next run. An in-memory database lives in one
process, so a thread lock is enough there.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from federation.db import Database

# `busy(holder)` builds the exception to raise when the lock is taken; holder says by whom.
Busy = Callable[[str], Exception]

_thread_locks: dict[tuple[str, str], threading.Lock] = {}
_thread_locks_guard = threading.Lock()


@contextmanager
def process_lock(db: Database, name: str, busy: Busy) -> Iterator[None]:
    """Hold the lock called ``name`` on this database; raise ``busy(holder)`` if it is taken."""
    url = db.engine.url
    if url.get_backend_name() == "postgresql":
        with _advisory_lock(db, name, busy):
            yield
    elif url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        with _file_lock(Path(url.database), name, busy):
            yield
    else:
        with _thread_lock(str(url), name, busy):
            yield


def _advisory_key(name: str) -> int:
    digest = hashlib.blake2b(f"federation:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def _advisory_lock(db: Database, name: str, busy: Busy) -> Iterator[None]:
    key = _advisory_key(name)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            raise busy("another process")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})


@contextmanager
def _file_lock(database: Path, name: str, busy: Busy) -> Iterator[None]:
    import fcntl

    folder = database.with_name(database.name + ".locks")
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{name}.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise busy(handle.read().strip() or "another process") from None
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
def _thread_lock(url: str, name: str, busy: Busy) -> Iterator[None]:
    with _thread_locks_guard:
        lock = _thread_locks.setdefault((url, name), threading.Lock())
    if not lock.acquire(blocking=False):
        raise busy("another thread")
    try:
        yield
    finally:
        lock.release()
