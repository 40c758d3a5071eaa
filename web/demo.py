"""The one-command demo: member endpoints on loopback, the web app, and what to open."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

import click
import requests

from federation.alliance import Alliance

log = logging.getLogger("federation.demo")

# The alliance file says which parser reads a member's records; the demo serves that format.
NATIVE_FORMATS = {"marc21": "marc21", "unimarc": "unimarc", "cnmarc": "unimarc", "dc": "oai_dc"}


def member_profiles(alliance: Alliance):
    """Describe each member to the corpus generator: its kind, format and rough size."""
    from federation.demo.corpus import MemberProfile

    weights = {"university": 1.6, "public": 1.0, "research": 0.8, "school": 0.4, "community": 0.3}
    return [
        MemberProfile(
            code=m.code,
            kind=m.type,
            native_format=NATIVE_FORMATS.get(m.oai.record_format, "marc21"),
            size_weight=weights.get(m.type, 0.5),
        )
        for m in alliance.members
    ]


def member_repositories(alliance: Alliance, corpus) -> dict[str, object]:
    """Build one in-memory OAI-PMH repository per member from the generated corpus."""
    from web.oai.provider import MemoryRepository, MetadataFormat, SetSpec

    repos = {}
    for m in alliance.members:
        repos[m.code] = MemoryRepository(
            name=f"{m.name_zh} / {m.name_en} (demo)",
            base_url=m.oai.base_url,
            records=corpus.records[m.code],
            formats=[MetadataFormat(*f) for f in corpus.formats(m.code)],
            sets=[SetSpec(*s) for s in corpus.sets(m.code)],
            admin_emails=(m.liaison.email,)
            if getattr(m.liaison, "email", None)
            else ("admin@example.org",),
        )
    return repos


def start_member_endpoints(alliance: Alliance, corpus):
    """Serve every member's catalogue on the loopback port named by its base URL."""
    from web.oai.provider import OAIProvider
    from web.oai.server import EndpointServer

    server = EndpointServer()
    for code, repo in member_repositories(alliance, corpus).items():
        url = urlsplit(repo.base_url)
        try:
            server.start(OAIProvider(repo).wsgi_app(), host=url.hostname, port=url.port or 80)
        except OSError as exc:
            server.stop()
            raise click.ClickException(
                f"cannot serve the demo endpoint of {code} on {url.hostname}:{url.port} "
                f"({exc.strerror}); is another demo still running?"
            ) from None
    return server


def start_web(app, host: str, port: int):
    """Serve the app on a threaded server in the background; say so plainly if the port is taken."""
    from web.oai.server import EndpointServer

    server = EndpointServer()
    try:
        server.start(app, host=host, port=port)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port} ({exc.strerror}); set FEDERATION_PORT or --port"
        ) from None
    return server


def serve_forever(app, host: str, port: int) -> None:
    """Run the app until interrupted."""
    web = start_web(app, host, port)
    click.echo(f"Serving on http://{host}:{port}/ (Ctrl-C to stop)")
    _wait_for_interrupt()
    web.stop()


def _wait_for_interrupt() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("Stopping.")


def _self_check(alliance: Alliance, home_url: str) -> list[str]:
    """Ask every endpoint for Identify and the home page for itself; return what failed."""
    from harvesters.check import check_endpoint

    problems = []
    for m in alliance.members:
        report = check_endpoint(m.oai.base_url, m.oai.metadata_prefix, timeout=10)
        problems += [f"{m.code}: {p}" for p in report.problems]
    resp = requests.get(home_url, timeout=10)
    if resp.status_code != 200:
        problems.append(f"home page answered HTTP {resp.status_code}")
    return problems


def run_demo(ctx, port: int, seed: int, check_only: bool) -> None:
    """Set up the instance, serve the demo alliance and print what to open."""
    from federation.accounts.demo import seed_demo_accounts
    from federation.demo.corpus import build_corpus, corpus_summary
    from federation.members import import_alliance
    from web import create_app

    settings = ctx.settings
    alliance = ctx.alliance()
    click.echo(f"Instance folder: {settings['INSTANCE_PATH']}")
    ctx.db.upgrade()
    with ctx.db.session() as session:
        _, members = import_alliance(session, alliance)
    with ctx.db.session() as session:
        accounts = seed_demo_accounts(session, settings)
    click.echo(
        f"Alliance: {alliance.name_en} — {len(alliance.members)} members ({members.summary()})."
    )
    started = time.perf_counter()
    corpus = build_corpus(member_profiles(alliance), seed=seed)
    summary = corpus_summary(corpus)
    click.echo(
        f"Corpus: {summary['records']} records generated in {time.perf_counter() - started:.1f} s "
        f"(seed {seed}); truth written to {_write_truth(corpus, settings)}"
    )
    endpoints = start_member_endpoints(alliance, corpus)
    try:
        from harvesters.services import harvest_demo

        click.echo("Harvesting every member over OAI-PMH:")
        harvest_demo(ctx, echo=click.echo)
        _index_demo(ctx)
        _simulate_ill(ctx, alliance, seed)
        _simulate_readers(ctx, alliance, seed)
        _rollup_usage(ctx, alliance)
    except BaseException:
        endpoints.stop()
        raise
    web = start_web(create_app({"PORT": port}), settings["HOST"], port)
    home = f"http://{settings['HOST']}:{port}/"
    try:
        _print_what_to_open(alliance, home, check_only, accounts)
        if check_only:
            problems = _self_check(alliance, home)
            for p in problems:
                click.echo(f"FAIL  {p}")
            if problems:
                raise click.ClickException(f"{len(problems)} problem(s) in the demo")
            click.echo("Demo check passed: every endpoint and the home page answer.")
            return
        _wait_for_interrupt()
    finally:
        web.stop()
        endpoints.stop()


def _index_demo(ctx) -> None:
    """Cluster the harvested records and build the search index from the store."""
    from search.backends import backend_from_settings
    from search.indexing import rebuild_index

    started = time.perf_counter()
    backend = backend_from_settings(ctx.settings)
    try:
        written = rebuild_index(ctx.db, backend, recluster=True)  # records regenerated each start
    finally:
        backend.close()
    click.echo(
        f"Indexed {written} clusters (one per edition across members) "
        f"in {time.perf_counter() - started:.1f} s."
    )


def _simulate_ill(ctx, alliance: Alliance, seed: int) -> None:
    """Seed a simulated year of ILL traffic (once per instance; labelled simulated)."""
    from ill.context import context_from_settings
    from ill.simulate import already_simulated, simulate_year

    with ctx.db.session() as session:
        simulated = already_simulated(session)
    if not simulated:
        started = time.perf_counter()
        made = simulate_year(ctx.db, context_from_settings(ctx.settings, alliance), seed=seed)
        click.echo(
            f"Simulated a year of ILL traffic: {made} requests, labelled simulated "
            f"({time.perf_counter() - started:.1f} s)."
        )


def _simulate_readers(ctx, alliance: Alliance, seed: int) -> None:
    """Seed a simulated year of reader searches (once per instance; labelled simulated)."""
    from federation.stats.readers import already_simulated, simulate_reader_year

    with ctx.db.session() as session:
        if already_simulated(session):
            return
    started = time.perf_counter()
    searches = simulate_reader_year(ctx.db, alliance, seed=seed)
    click.echo(
        f"Simulated a year of reader searches: {searches} searches with their record views, "
        f"labelled simulated ({time.perf_counter() - started:.1f} s)."
    )


def _rollup_usage(ctx, alliance: Alliance) -> None:
    """Roll the usage events up so the statistics pages show the simulated year at once."""
    from federation.stats.rollup import rollup, utc_offset_minutes

    with ctx.db.session() as session:
        result = rollup(session, offset_minutes=utc_offset_minutes(alliance.time_zone))
    if result.events:
        click.echo(f"Rolled up {result.events} usage events for the statistics pages.")


def _write_truth(corpus, settings) -> str:
    from pathlib import Path

    path = Path(settings["INSTANCE_PATH"]) / "demo" / "ground_truth.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    corpus.truth.write(path)
    return str(path)


def _print_sign_ins(home: str, accounts) -> None:
    click.echo(f"  Demo sign-ins at {home}sign-in (DEMO ONLY: new passwords at every start):")
    for a in accounts:
        where = f" of {a.member_code}" if a.member_code else ""
        click.echo(f"    {a.username:<12} {a.password:<14} {a.role.value}{where}: {a.purpose}")


def _print_what_to_open(alliance: Alliance, home: str, check_only: bool, accounts=()) -> None:
    click.echo("")
    click.echo(f"  Open the alliance in your browser:  {home}")
    _print_sign_ins(home, accounts)
    click.echo("  Member OAI-PMH endpoints (real HTTP on loopback):")
    for m in alliance.members:
        click.echo(f"    {m.code:<14} {m.oai.base_url}?verb=Identify   ({m.oai.metadata_prefix})")
    click.echo("")
    if not check_only:
        click.echo("  Press Ctrl-C to stop.")
