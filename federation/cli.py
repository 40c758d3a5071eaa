"""The `federation` command line: the one entry point for administrators and the demo.

The CLI is the composition root: it is the only place in federation/ that reaches into the
other packages (harvesters, web), and it does so inside commands, never at import time.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

import click

from federation.settings import ConfigError, load_settings


class UserError(click.ClickException):
    """A problem the user can fix; shown as one line, never a traceback."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


@contextmanager
def _plain_errors():
    """Turn configuration and alliance-file errors into one-line messages."""
    from federation.alliance import AllianceFileError

    try:
        yield
    except (ConfigError, AllianceFileError) as exc:
        raise UserError(str(exc)) from None


class Context:
    """Settings and database, built on first use so `--help` needs neither."""

    def __init__(self) -> None:
        self._settings = None
        self._db = None

    @property
    def settings(self) -> dict:
        if self._settings is None:
            with _plain_errors():
                self._settings = load_settings()
        return self._settings

    @property
    def db(self):
        if self._db is None:
            from federation.db import Database

            self._db = Database(self.settings["DATABASE_URL"])
        return self._db

    def alliance(self, path: str | None = None):
        from federation.alliance import load_alliance

        with _plain_errors():
            return load_alliance(path or self.settings["ALLIANCE_FILE"])


pass_ctx = click.make_pass_decorator(Context, ensure=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="library-federation")
def main() -> None:
    """Run a regional library alliance as one library.

    Settings come from FEDERATION_* environment variables or the YAML file named by
    FEDERATION_CONFIG (see README, "Configuration").
    """


@main.group()
def db() -> None:
    """Manage the record store's schema."""


@db.command("upgrade")
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    """Create or migrate the database to the newest schema."""
    ctx.db.upgrade()
    click.echo(f"Database is at revision {ctx.db.current_revision()} ({_safe_url(ctx)}).")


def _safe_url(ctx: Context) -> str:
    from sqlalchemy.engine import make_url

    return make_url(ctx.settings["DATABASE_URL"]).render_as_string(hide_password=True)


@main.group()
def members() -> None:
    """Member libraries: import from the alliance file, list, check endpoints."""


@members.command("import")
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False),
    help="Alliance file (default: setting ALLIANCE_FILE).",
)
@pass_ctx
def members_import(ctx: Context, path: str | None) -> None:
    """Load regions and members from the alliance file (safe to run again)."""
    from federation.members import import_alliance

    alliance = ctx.alliance(path)
    ctx.db.upgrade()
    with ctx.db.session() as session:
        regions, members_report = import_alliance(session, alliance)
    click.echo(f"Regions: {regions.summary()}.")
    click.echo(f"Members: {members_report.summary()}.")


@members.command("list")
@click.option("--all", "include_retired", is_flag=True, help="Include retired members.")
@pass_ctx
def members_list(ctx: Context, include_retired: bool) -> None:
    """List member libraries by district."""
    from federation.members import list_members

    with ctx.db.session() as session:
        rows = list_members(session, include_retired)
        if not rows:
            click.echo("No members yet: run `federation members import`.")
        for m in rows:
            flag = "" if m.active else " (retired)"
            click.echo(
                f"{m.code:<14} {m.type:<11} {m.region_code:<14} {m.oai_metadata_prefix:<8} "
                f"{m.name_zh} / {m.name_en}{flag}"
            )


@members.command("check")
@click.option("--member", "codes", multiple=True, help="Check only this member (repeatable).")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds per request.")
@pass_ctx
def members_check(ctx: Context, codes: tuple[str, ...], timeout: float) -> None:
    """Ask each member's OAI-PMH endpoint for Identify and ListMetadataFormats."""
    from harvesters.check import check_endpoint

    alliance = ctx.alliance()
    chosen = [m for m in alliance.members if not codes or m.code in codes]
    unknown = set(codes) - {m.code for m in alliance.members}
    if unknown:
        raise UserError(f"unknown member code(s): {', '.join(sorted(unknown))}")
    failures = 0
    for member in chosen:
        report = check_endpoint(member.oai.base_url, member.oai.metadata_prefix, timeout)
        if report.ok:
            click.echo(
                f"OK    {member.code}: {report.repository_name or '(no name)'}, "
                f"formats {', '.join(report.formats)}, deleted records {report.deleted_record}"
            )
        else:
            failures += 1
            for problem in report.problems:
                click.echo(f"FAIL  {member.code}: {problem}")
    click.echo(f"{len(chosen) - failures} of {len(chosen)} endpoints OK.")
    if failures:
        sys.exit(1)


@main.command()
@click.option("--host", default=None, help="Address to listen on (setting HOST).")
@click.option("--port", default=None, type=int, help="Port to listen on (setting PORT).")
@pass_ctx
def serve(ctx: Context, host: str | None, port: int | None) -> None:
    """Run the web application (development server; use gunicorn in production)."""
    from web import create_app
    from web.demo import serve_forever

    with _plain_errors():
        app = create_app()
    serve_forever(app, host or ctx.settings["HOST"], port or ctx.settings["PORT"])


@main.command()
@click.option(
    "--list",
    "list_only",
    is_flag=True,
    help="Print the jobs and their next run times, then exit (changes nothing).",
)
@click.option(
    "--workers", default=8, show_default=True, type=click.IntRange(1, 64), help="Jobs at once."
)
@click.option(
    "--reconcile-schedule",
    default=None,
    help="When deletions are reconciled (crontab or 'every 7d', alliance time zone); "
    "default: Sundays 05:00.",
)
@pass_ctx
def scheduler(ctx: Context, list_only: bool, workers: int, reconcile_schedule: str | None) -> None:
    """Run every member's harvests on its schedule (one process; never inside web workers)."""
    import logging

    from federation import scheduler as sched

    alliance = ctx.alliance()
    try:
        schedule = sched.check_schedule(reconcile_schedule or sched.DEFAULT_RECONCILE_SCHEDULE)
        sched.check_database(ctx.db, alliance)
        if list_only:
            for line in sched.list_jobs(ctx.db, alliance, reconcile_schedule=schedule):
                click.echo(line.render())
            click.echo(f"Times are in {alliance.time_zone}.")
            return
        logging.basicConfig(
            level=ctx.settings["LOG_LEVEL"],
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        sched.run_scheduler(
            ctx.db, alliance, reconcile_schedule=schedule, workers=workers, echo=click.echo
        )
    except sched.SchedulerError as exc:
        raise UserError(str(exc)) from None


@main.command()
@click.option("--port", default=None, type=int, help="Port of the web application (setting PORT).")
@click.option("--seed", default=2026, show_default=True, help="Seed of the generated corpus.")
@click.option(
    "--check", "check_only", is_flag=True, help="Start everything, check it answers, then stop."
)
@pass_ctx
def demo(ctx: Context, port: int | None, seed: int, check_only: bool) -> None:
    """Run the demo alliance: member OAI-PMH endpoints on loopback and the web application."""
    from web.demo import run_demo

    with _plain_errors():
        run_demo(ctx, port=port or ctx.settings["PORT"], seed=seed, check_only=check_only)


# -- harvesting (harvesters/) ---------------------------------------------------------------------


def _harvest_members(ctx: Context, codes: tuple[str, ...]) -> list:
    """Return the alliance members named (all without codes), after checking the database."""
    alliance = ctx.alliance()
    unknown = set(codes) - {m.code for m in alliance.members}
    if unknown:
        raise UserError(f"unknown member code(s): {', '.join(sorted(unknown))}")
    if ctx.db.current_revision() is None:
        raise UserError("the database is empty: run `federation members import` first")
    from federation.members import list_members

    with ctx.db.session() as session:
        known = {m.code for m in list_members(session, True)}
    chosen = [m for m in alliance.members if not codes or m.code in codes]
    missing = [m.code for m in chosen if m.code not in known]
    if missing:
        raise UserError(
            f"member(s) {', '.join(missing)} not in the database: run `federation members import`"
        )
    return chosen


@contextmanager
def _progress(label: str):
    """Yield a callback moving a progress bar (only on a terminal), or None."""
    import threading

    if not sys.stdout.isatty():
        yield None
        return
    lock, done, expected = threading.Lock(), {}, {}
    with click.progressbar(length=1, label=label, show_pos=True) as bar:

        def advance(key: str, records: int, total: int | None) -> None:
            with lock:
                done[key], expected[key] = records, max(total or 0, records)
                bar.length = max(1, sum(expected.values()))
                bar.update(sum(done.values()) - bar.pos)

        yield advance


@main.group(invoke_without_command=True)
@click.option("--member", "codes", multiple=True, help="Harvest only this member (repeatable).")
@click.option(
    "--full", is_flag=True, help="Harvest everything, not only changes since the last run."
)
@click.option(
    "--workers",
    default=4,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Members harvested at once (two at most per server).",
)
@click.pass_context
def harvest(click_ctx: click.Context, codes: tuple[str, ...], full: bool, workers: int) -> None:
    """Harvest member catalogues over OAI-PMH: incremental, or full with --full.

    A harvest that was killed resumes where it stopped. `federation harvest status` shows
    how the last runs went.
    """
    if click_ctx.invoked_subcommand is not None:
        return
    from harvesters.services import format_summary, harvest_all

    ctx = click_ctx.ensure_object(Context)
    chosen = _harvest_members(ctx, codes)
    with _progress(f"Harvesting {len(chosen)} member(s)") as progress:
        summaries = harvest_all(
            ctx.db, chosen, workers=workers, full=full, settings=ctx.settings, progress=progress
        )
    for summary in summaries:
        click.echo(format_summary(summary))
    started = [s.started_at for s in summaries if s.started_at is not None]
    if started:
        _index_since(ctx, min(started))
    if any(not s.ok for s in summaries):
        sys.exit(1)


def _index_since(ctx: Context, since) -> None:
    """Re-cluster what the harvest changed and bring the search index up to date."""
    from search.backends import backend_from_settings
    from search.indexing import index_changes_since

    backend = backend_from_settings(ctx.settings)
    try:
        report = index_changes_since(ctx.db, backend, since)
    finally:
        backend.close()
    click.echo(f"Index: {report.upserted} cluster(s) written, {report.deleted} removed.")


@main.group()
def index() -> None:
    """The search index: rebuild it from the record store, or catch up with the queue."""


@index.command("rebuild")
@click.option(
    "--recluster",
    is_flag=True,
    help="Cluster every record again first (after a change to the match rules); slower.",
)
@click.option("--keep-clusters", is_flag=True, hidden=True)  # the default since the fast path
@pass_ctx
def index_rebuild(ctx: Context, recluster: bool, keep_clusters: bool) -> None:
    """Build a new search index from the record store (no network), then swap it in.

    Documents are built from the clusters the store keeps up to date after every harvest
    (staff merges and splits included); records never clustered are clustered first. With
    --recluster every record is clustered again before the index is built.
    """
    from search.backends import backend_from_settings
    from search.indexing import rebuild_index

    if keep_clusters and recluster:
        raise click.UsageError("--keep-clusters and --recluster contradict each other: pick one.")
    if keep_clusters:
        click.echo("Note: --keep-clusters is the default now; --recluster clusters again first.")
    ctx.db.upgrade()
    backend = backend_from_settings(ctx.settings)
    try:
        with _count_progress("Rebuilding the search index") as progress:
            written = rebuild_index(ctx.db, backend, recluster=recluster, progress=progress)
    finally:
        backend.close()
    how = "every record clustered again" if recluster else "from the stored clusters"
    click.echo(f"Search index rebuilt {how}: {written} cluster documents.")


@index.command("update")
@click.option("--batch-size", default=1000, show_default=True, help="Clusters per index commit.")
@pass_ctx
def index_update(ctx: Context, batch_size: int) -> None:
    """Write the queued clusters to the index (after a crash, this makes them agree again).

    Harvest runs whose changes were never re-clustered (a process killed in between) are
    re-clustered and queued first.
    """
    from search.backends import backend_from_settings
    from search.indexing import cluster_harvested, drain_queue

    ctx.db.upgrade()
    cluster_harvested(ctx.db)  # runs whose own index step never ran (a killed process)
    backend = backend_from_settings(ctx.settings)
    try:
        with _count_progress("Updating the search index") as progress:
            report = drain_queue(ctx.db, backend, batch_size=batch_size, progress=progress)
    finally:
        backend.close()
    click.echo(f"Index: {report.upserted} cluster(s) written, {report.deleted} removed.")


@contextmanager
def _count_progress(label: str):
    """Yield a (done, total) callback that moves a progress bar on a terminal, or None."""
    if not sys.stdout.isatty():
        yield None
        return
    with click.progressbar(length=1, label=label, show_pos=True) as bar:

        def advance(done: int, total: int | None) -> None:
            bar.length = max(1, total or done)
            bar.update(done - bar.pos)

        yield advance


@harvest.command("status")
@click.option("--member", "codes", multiple=True, help="Only this member (repeatable).")
@pass_ctx
def harvest_status_command(ctx: Context, codes: tuple[str, ...]) -> None:
    """Show each member's last run and how many records it has (active/deleted/rejected)."""
    from harvesters.services import format_status, harvest_status

    alliance = ctx.alliance()
    chosen = _harvest_members(ctx, codes)
    statuses = harvest_status(ctx.db, [m.code for m in chosen])
    for line in format_status(statuses, alliance.time_zone):
        click.echo(line)


@harvest.command("reconcile")
@click.option("--member", "codes", multiple=True, help="Only this member (repeatable).")
@click.option(
    "--force",
    is_flag=True,
    help="Also for servers that keep deletions, and even if most records vanished.",
)
@pass_ctx
def harvest_reconcile(ctx: Context, codes: tuple[str, ...], force: bool) -> None:
    """Mark as deleted the records a member's server no longer lists (ListIdentifiers)."""
    from harvesters.errors import HarvestLocked
    from harvesters.services import format_summary, reconcile_member

    failed = False
    for member in _harvest_members(ctx, codes):
        try:
            summary = reconcile_member(ctx.db, member, force=force, settings=ctx.settings)
        except HarvestLocked as exc:
            raise UserError(str(exc)) from None
        click.echo(format_summary(summary))
        failed = failed or not summary.ok
    if failed:
        sys.exit(1)


@main.command()
@click.option("--member", "codes", multiple=True, help="Only this member (repeatable).")
@pass_ctx
def reparse(ctx: Context, codes: tuple[str, ...]) -> None:
    """Parse the stored raw records again (after a parser improved); no harvesting."""
    from harvesters.errors import HarvestLocked
    from harvesters.services import reparse as reparse_records

    chosen = _harvest_members(ctx, codes)
    with _progress("Reparsing") as progress:
        advance = (lambda done, total: progress("all", done, total)) if progress else None
        try:
            summary = reparse_records(ctx.db, chosen, progress=advance)
        except HarvestLocked as exc:
            raise UserError(str(exc)) from None
    click.echo(
        f"Reparsed {summary.records} records: {summary.changed} changed; now {summary.active} "
        f"active, {summary.rejected} rejected, {summary.deleted} deleted"
        + (f"; {summary.skipped} in formats no parser reads" if summary.skipped else "")
        + "."
    )


@main.group()
def report() -> None:
    """Service-gap reports for coordinators (aggregates only)."""


@report.command("rollup")
@click.option(
    "--period", required=True, help="A year (2026), quarter (2026-Q2) or month (2026-03)."
)
@pass_ctx
def report_rollup(ctx: Context, period: str) -> None:
    """Fold the period's usage events into the report roll-up (run nightly; safe to repeat)."""
    from federation.reports import PeriodError, period_months, refresh_rollups

    try:
        months = period_months(period)
    except PeriodError as exc:
        raise UserError(str(exc)) from None
    alliance = ctx.alliance()
    with ctx.db.session() as session:
        summary = refresh_rollups(session, alliance, months)
    click.echo(
        f"Rolled up {summary.events:,} events of {period} "
        f"({len(months)} month{'' if len(months) == 1 else 's'}) into "
        f"{summary.rows:,} rows, with the titles-held snapshot."
    )


@report.command("gaps")
@click.option(
    "--period", required=True, help="A year (2026), quarter (2026-Q2) or month (2026-03)."
)
@click.option(
    "--format", "fmt", type=click.Choice(["pdf", "csv", "html", "xlsx", "json"]), default="html",
    show_default=True, help="html is the print layout; csv lists every table in long form.",
)  # fmt: skip
@click.option("--district", help="Only this district (region code).")
@click.option("--type", "library_type", help="Only this library type (university, public, ...).")
@click.option("--lang", type=click.Choice(["zh_CN", "en"]), help="Language of the report.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    help="File to write (default service-gaps-PERIOD.FORMAT; - for the terminal).",
)
@pass_ctx
def report_gaps(ctx: Context, period, fmt, district, library_type, lang, output) -> None:
    """Build the service-gap report of a period and write it as PDF, CSV, HTML, XLSX or JSON."""
    from urllib.parse import urlencode

    from web import create_app
    from web.views.reports import ReportRequestError, render_export

    with _plain_errors():
        app = create_app()
    query = {"period": period, "district": district, "type": library_type, "lang": lang}
    url = "/reports/gaps?" + urlencode({k: v for k, v in query.items() if v})
    with app.test_request_context(url):
        try:
            body, _mimetype, name = render_export(fmt)
        except ReportRequestError as exc:
            raise UserError(str(exc)) from None
    data = body.encode("utf-8") if isinstance(body, str) else body
    if output == "-":
        click.echo(data, nl=False)
        return
    target = output or name
    with open(target, "wb") as fh:
        fh.write(data)
    click.echo(f"Wrote the {period} service-gap report to {target} ({len(data):,} bytes).")


# -- accounts, API tokens, backup and restore (federation/accounts, federation/backup.py) ----------

CLI_ACTOR = "cli"  # recorded as the creator of accounts and tokens made here


@contextmanager
def _account_errors():
    """Turn account and backup errors into one-line messages."""
    from federation.accounts import AccountError
    from federation.backup import BackupError

    try:
        yield
    except (AccountError, BackupError) as exc:
        raise UserError(str(exc)) from None


def _user_or_fail(session, username: str):
    from federation.accounts import find_user

    user = find_user(session, username)
    if user is None:
        raise UserError(f"no account named {username!r} (see: federation users list)")
    return user


@main.group()
def users() -> None:
    """Accounts: readers, member staff, coordinators, alliance administrators."""


@users.command("create")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["reader", "ill_staff", "member_admin", "coordinator", "alliance_admin"]),
)
@click.option("--member", "member_code", help="Member code (readers and member staff).")
@click.option("--name", "display_name", default="", help="Name shown to colleagues.")
@click.option(
    "--generate-password", is_flag=True, help="Make a password and print it once (no prompt)."
)
@pass_ctx
def users_create(
    ctx: Context,
    username: str,
    role: str,
    member_code: str | None,
    display_name: str,
    generate_password: bool,
) -> None:
    """Create an account; the password is asked twice (or generated and printed once)."""
    import secrets

    from federation.accounts import create_user

    ctx.db.upgrade()
    if generate_password:
        password = secrets.token_urlsafe(12)
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _account_errors(), ctx.db.session() as s:
        user = create_user(
            s, username, password, role, member_code, display_name, created_by=CLI_ACTOR
        )
        click.echo(
            f"Created {user.role} account {user.username}"
            + (f" of {user.member_code}." if user.member_code else ".")
        )
    if generate_password:
        click.echo(f"Password (shown only now): {password}")


@users.command("list")
@click.option("--member", "member_code", help="Only this member's accounts.")
@pass_ctx
def users_list(ctx: Context, member_code: str | None) -> None:
    """List the accounts: user name, role, member, state, last sign-in."""
    from federation.accounts import list_users

    with ctx.db.session() as s:
        rows = list_users(s, member_code)
        if not rows:
            click.echo("No accounts.")
        for u in rows:
            last = u.last_sign_in_at.strftime("%Y-%m-%d %H:%M UTC") if u.last_sign_in_at else "-"
            state = "active" if u.active else "disabled"
            click.echo(
                f"{u.username:<24} {u.role:<15} {u.member_code or '-':<14} {state:<9} {last}"
            )


@users.command("reset-password")
@click.argument("username")
@pass_ctx
def users_reset_password(ctx: Context, username: str) -> None:
    """Give an account a one-time password (printed once) to change at next sign-in."""
    from federation.accounts import reset_password

    with ctx.db.session() as s:
        temporary = reset_password(s, _user_or_fail(s, username))
    click.echo(f"One-time password for {username} (shown only now): {temporary}")
    click.echo("Its sessions have ended; it must choose a new password at next sign-in.")


@users.command("disable")
@click.argument("username")
@pass_ctx
def users_disable(ctx: Context, username: str) -> None:
    """Stop an account from signing in and end its sessions."""
    from federation.accounts import disable_user

    with ctx.db.session() as s:
        disable_user(s, _user_or_fail(s, username))
    click.echo(f"Disabled {username}.")


@users.command("enable")
@click.argument("username")
@pass_ctx
def users_enable(ctx: Context, username: str) -> None:
    """Let a disabled account sign in again."""
    from federation.accounts import enable_user

    with ctx.db.session() as s:
        enable_user(s, _user_or_fail(s, username))
    click.echo(f"Enabled {username}.")


@main.group()
def tokens() -> None:
    """API tokens for member systems: one member, read or write, shown once, revocable."""


@tokens.command("create")
@click.option("--member", "member_code", required=True, help="Member whose system uses it.")
@click.option("--name", required=True, help="What system uses it (e.g. 'ILS at ytu').")
@click.option("--scope", type=click.Choice(["read", "write"]), default="read", show_default=True)
@pass_ctx
def tokens_create(ctx: Context, member_code: str, name: str, scope: str) -> None:
    """Create a token and print it once (only its hash is kept)."""
    from federation.accounts import create_token

    ctx.db.upgrade()
    with _account_errors(), ctx.db.session() as s:
        issued = create_token(s, member_code, name, scope, created_by=CLI_ACTOR)
    click.echo(f"Token {issued.prefix} for {member_code} ({scope}); shown only now:")
    click.echo(issued.secret)


@tokens.command("list")
@click.option("--member", "member_code", help="Only this member's tokens.")
@pass_ctx
def tokens_list(ctx: Context, member_code: str | None) -> None:
    """List the tokens: prefix, member, scope, state, last use (never the token itself)."""
    from federation.accounts import list_tokens

    with ctx.db.session() as s:
        rows = list_tokens(s, member_code)
        if not rows:
            click.echo("No tokens.")
        for t in rows:
            used = t.last_used_at.strftime("%Y-%m-%d %H:%M UTC") if t.last_used_at else "never"
            state = "revoked" if t.revoked_at else "active"
            line = f"{t.prefix:<14} {t.member_code:<14} {t.scope:<6} {state:<8} {used:<21}"
            click.echo(f"{line} {t.name}")


@tokens.command("revoke")
@click.argument("prefix")
@pass_ctx
def tokens_revoke(ctx: Context, prefix: str) -> None:
    """Revoke the token whose prefix (from `tokens list`) is PREFIX."""
    from sqlalchemy import select

    from federation.accounts import ApiToken, revoke_token

    prefix = prefix.removeprefix("fed_").split("_", 1)[0]
    with ctx.db.session() as s:
        token = s.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
        if token is None:
            raise UserError(f"no token with prefix {prefix!r} (see: federation tokens list)")
        changed = revoke_token(s, token)
    click.echo(f"Revoked token {prefix}." if changed else f"Token {prefix} was already revoked.")


def _print_rows(rows: dict[str, int]) -> None:
    shown = {k: v for k, v in rows.items() if v}
    click.echo("  " + ", ".join(f"{name} {n}" for name, n in shown.items()))


@main.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@pass_ctx
def backup_command(ctx: Context, path: str) -> None:
    """Write a consistent copy of the whole database to PATH (SQLite copy or pg_dump file)."""
    from federation.backup import backup

    with _account_errors():
        report = backup(ctx.db, path)
    click.echo(
        f"Backup of the {report.engine} database (schema {report.revision}) written to "
        f"{report.path} ({report.size:,} bytes). Rows per table:"
    )
    _print_rows(report.rows)
    click.echo(
        "Reader data in it stays encrypted: keep READER_DATA_KEY (instance/reader_data.key) "
        "safe and apart from the backup, or it cannot be read after a restore."
    )


@main.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Replace the current database without asking.")
@pass_ctx
def restore_command(ctx: Context, path: str, yes: bool) -> None:
    """Replace the whole database with the backup at PATH, then rebuild the search index."""
    from federation.backup import has_tables, restore
    from search.backends import backend_from_settings
    from search.indexing import rebuild_index

    if has_tables(ctx.db) and not yes:
        click.confirm(f"Replace everything in {_safe_url(ctx)} with {path}?", abort=True)
    with _account_errors():
        report = restore(ctx.db, path)
    click.echo(f"Restored {report.path} (schema {report.revision}). Rows per table:")
    _print_rows(report.rows)
    backend = backend_from_settings(ctx.settings)
    try:
        written = rebuild_index(ctx.db, backend, recluster=False)
    finally:
        backend.close()
    click.echo(f"Search index rebuilt: {written} cluster documents.")


if __name__ != "__main__":
    from federation.cli_stats import costs, stats  # noqa: E402  (they need the group above)

    main.add_command(stats)
    main.add_command(costs)

if __name__ == "__main__":  # pragma: no cover
    # Run the package module, not this __main__ copy: the command modules above import
    # federation.cli, and two copies of it would import each other half-built.
    from federation.cli import main as package_main

    package_main()
