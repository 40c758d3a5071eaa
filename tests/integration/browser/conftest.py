"""A served demo alliance for browser tests: three members harvested over loopback OAI-PMH,
indexed, the Flask app on a free loopback port, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import DEMO_ALLIANCE

CHROMIUM = Path("/usr/bin/chromium")
MISSING = (
    "Debian chromium or playwright missing: .ci/run installs them "
    "(apt-get install chromium; pip install playwright)"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MEMBERS = ("ytu", "ytlib", "xingfu-cl")  # MARC 21, UNIMARC/CNMARC, Dublin Core


def browser_missing() -> bool:
    """Say whether Debian's chromium or the playwright package is absent (then tests skip)."""
    return not CHROMIUM.exists() or importlib.util.find_spec("playwright") is None


def _harvest(db, overrides: dict) -> None:
    """Serve three demo members over loopback OAI-PMH and harvest them fully."""
    from federation.alliance import load_alliance
    from federation.demo import build_corpus
    from federation.members import import_alliance
    from federation.settings import load_settings
    from harvesters.services import harvest_all
    from web.demo import member_profiles, member_repositories
    from web.oai.provider import OAIProvider
    from web.oai.server import EndpointServer

    alliance = load_alliance(DEMO_ALLIANCE)
    with db.session() as s:
        import_alliance(s, alliance)
    repos = member_repositories(alliance, build_corpus(member_profiles(alliance), seed=2026))
    settings = load_settings(overrides, environ={})
    with EndpointServer() as server:
        members = []
        for m in map(alliance.member, MEMBERS):
            url = server.start(OAIProvider(repos[m.code]).wsgi_app())
            members.append(dataclasses.replace(m, oai=dataclasses.replace(m.oai, base_url=url)))
        summaries = harvest_all(db, members, full=True, settings=settings)
    assert all(s.ok for s in summaries), [s.error for s in summaries]


def _index(app) -> None:
    """Build the search index of what was harvested."""
    from search.indexing import rebuild_index

    assert rebuild_index(app.extensions["federation.db"], app.extensions["federation.search"]) > 100


@contextmanager
def serve_instance(
    tmp_path_factory, name: str, prepare: Callable, after_app: Callable | None = None
) -> Iterator[str]:
    """Serve the app on a fresh SQLite instance of the demo alliance; yield its base URL.

    ``prepare(db, overrides)`` fills the database before the app starts (harvest, seed);
    ``after_app(app)`` runs once the app exists (accounts made through it).
    """
    from federation.db import Database
    from web import create_app
    from web.oai.server import EndpointServer

    root = tmp_path_factory.mktemp(name)
    overrides = {
        "INSTANCE_PATH": str(root / "instance"),
        "DATABASE_URL": f"sqlite:///{root / 'instance' / 'test.sqlite3'}",
        "ALLIANCE_FILE": str(DEMO_ALLIANCE),
        "SECRET_KEY": "test-secret",
    }
    db = Database(overrides["DATABASE_URL"])
    db.upgrade()
    app = None
    try:
        prepare(db, overrides)
        app = create_app(dict(overrides))
        if after_app is not None:
            after_app(app)
        with EndpointServer() as server:
            yield server.start(app).rstrip("/")
    finally:
        if app is not None:
            app.extensions["federation.db"].dispose()
        db.dispose()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[str]:
    """Return the base URL (no trailing slash) of the app serving a harvested, indexed store."""
    with serve_instance(tmp_path_factory, "browser", _harvest, _index) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Launch Debian's chromium headless (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, site):
    """A fresh page in a new context whose browser prefers Simplified Chinese."""
    context = browser.new_context(
        base_url=site, locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()
