"""Fixtures of the ILL tests (imported by conftest files): demo members, a cluster, a clock."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.fernet import Fernet

from federation.alliance import load_alliance
from federation.members import import_alliance
from ill.context import make_context
from ill.notify import ConsoleMailer
from tests.conftest import DEMO_ALLIANCE
from tests.support.ill import Clock, add_cluster

# Tuesday 10 March 2026, 10:00 in Yantai: every demo library is open.
TUESDAY_MORNING = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture(scope="session")
def alliance():
    return load_alliance(DEMO_ALLIANCE)


@pytest.fixture
def clock() -> Clock:
    return Clock(TUESDAY_MORNING.astimezone(dt.UTC))


@pytest.fixture
def ctx(alliance, clock):
    context = make_context(alliance, Fernet.generate_key().decode("ascii"), clock)
    context.mailer = ConsoleMailer()
    return context


@pytest.fixture
def ill_db(db, alliance):
    """A migrated database holding the demo alliance's regions and members."""
    with db.session() as session:
        import_alliance(session, alliance)
    return db


@pytest.fixture
def cluster(ill_db) -> str:
    """A title held by three universities (on the shelf) and a public library (on loan)."""
    return add_cluster(
        ill_db,
        "c-ill-1",
        "数据结构",
        {"ytu": ["在架"], "ldu": ["available"], "sdtbu": ["available"], "ytlib": ["借出"]},
    )
