"""One harvest per member at a time, across threads, processes and (PostgreSQL) machines.

A harvest, a reconciliation and a reparse of one member all write its records; this lock
keeps them apart. It dies with its holder (see federation.locks), so a harvest killed even
with SIGKILL never blocks the next one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from federation.db import Database
from federation.locks import process_lock
from harvesters.errors import HarvestLocked


@contextmanager
def member_lock(db: Database, member_code: str) -> Iterator[None]:
    """Hold the member's harvest lock; raise HarvestLocked if another run holds it."""

    def busy(holder: str) -> HarvestLocked:
        return HarvestLocked(
            f"another harvest of {member_code} is running ({holder}); try again later"
        )

    with process_lock(db, f"harvest-{member_code}", busy):
        yield
