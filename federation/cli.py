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


if __name__ == "__main__":  # pragma: no cover
    main()
