"""Harvest a test server into the test database, and read back what the store holds."""

from __future__ import annotations

import dataclasses
import functools
import random
import subprocess
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from federation.alliance import load_alliance
from federation.db import Database
from federation.models import HarvestRun, Record
from tests.conftest import DEMO_ALLIANCE

DEFAULT_MEMBER = "ytu"  # a university of the demo alliance: MARC 21, no sets
FAST = {"HARVEST_TIMEOUT": 0.5, "HARVEST_MAX_RETRIES": 3, "HARVEST_BACKOFF_CAP": 2.0}


@functools.cache
def demo_alliance():
    """Return the demo alliance (read once: the YAML takes a noticeable part of a second)."""
    return load_alliance(DEMO_ALLIANCE)


def import_members(db: Database):
    """Load the demo alliance's regions and members (records refer to them); return it."""
    from federation.members import import_alliance

    alliance = demo_alliance()
    with db.session() as session:
        import_alliance(session, alliance)
    return alliance


def member_at(
    base_url: str,
    *,
    code: str = DEFAULT_MEMBER,
    prefix: str = "marc21",
    record_format: str = "marc21",
    sets: tuple[str, ...] = (),
):
    """Return a demo member whose catalogue is harvested from ``base_url`` instead."""
    member = next(m for m in demo_alliance().members if m.code == code)
    oai = dataclasses.replace(
        member.oai,
        base_url=base_url,
        metadata_prefix=prefix,
        record_format=record_format,
        sets=tuple(sets),
    )
    return dataclasses.replace(member, oai=oai)


def harvest_settings(database_url: str, **overrides: Any) -> dict[str, Any]:
    """Return checked settings for the test database with short timeouts and few retries."""
    from federation.settings import load_settings

    return load_settings({"DATABASE_URL": database_url, **FAST, **overrides}, environ={})


class Sleeps(list):
    """A stand-in for time.sleep that records each wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def harvest(db: Database, member, *, full: bool = False, sleep: Callable | None = None, **settings):
    """Run harvest_member against a test server with fast settings; return its RunSummary."""
    from harvesters.services import harvest_member

    return harvest_member(
        db,
        member,
        full=full,
        settings=harvest_settings(db.url, **settings),
        sleep=sleep if sleep is not None else Sleeps(),
        rng=random.Random(2026),
    )


def reconcile(db: Database, member, *, force: bool = False, sleep: Callable | None = None):
    """Run reconcile_member against a test server with fast settings; return its RunSummary."""
    from harvesters.services import reconcile_member

    return reconcile_member(
        db,
        member,
        force=force,
        settings=harvest_settings(db.url),
        sleep=sleep if sleep is not None else Sleeps(),
        rng=random.Random(2026),
    )


def stored(db: Database, member_code: str = DEFAULT_MEMBER) -> dict[str, str]:
    """Return the member's stored records as identifier -> status."""
    rows = stored_rows(db, member_code)
    return {r.oai_identifier: r.status for r in rows}


def stored_rows(db: Database, member_code: str = DEFAULT_MEMBER) -> list[Record]:
    """Return the member's record rows, ordered by identifier."""
    query = select(Record).where(Record.member_code == member_code).order_by(Record.oai_identifier)
    with db.session() as session:
        rows = list(session.scalars(query))
        session.expunge_all()
    return rows


def runs(db: Database, member_code: str = DEFAULT_MEMBER) -> list[HarvestRun]:
    """Return the member's harvest runs, oldest first."""
    query = select(HarvestRun).where(HarvestRun.member_code == member_code).order_by(HarvestRun.id)
    with db.session() as session:
        found = list(session.scalars(query))
        session.expunge_all()
    return found


def wait_for_committed_pages(db: Database, proc: subprocess.Popen, pages: int, seconds=60.0):
    """Wait until a running harvest has committed ``pages`` pages; return its run row."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [r for r in runs(db) if r.status == "running" and r.pages >= pages]
        if found:
            return found[0]
        if proc.poll() is not None:
            raise AssertionError(
                f"the harvester ended before it could be killed:\n{proc.stdout.read()}"
            )
        time.sleep(0.05)
    raise AssertionError(f"the harvester committed fewer than {pages} pages in {seconds} s")


def harvest_when_unlocked(db: Database, member, seconds: float = 10.0):
    """Harvest; a killed holder's lock may take the database a moment to release."""
    from harvesters.errors import HarvestLocked

    deadline = time.monotonic() + seconds
    while True:
        try:
            return harvest(db, member)
        except HarvestLocked:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
