"""`federation stats ...` and `federation costs ...`: roll-ups, checks, statements, approval."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from federation.roles import Actor, Role

# federation.cli imports this module at its end; importing it back here at import time would be
# circular (and `python -m federation.cli` runs it as __main__, a second copy). The commands
# therefore reach the CLI's Context and UserError when they run.


def _context():
    from federation.cli import Context

    return click.get_current_context().ensure_object(Context)


def _user_error(message: str) -> click.ClickException:
    from federation.cli import UserError

    return UserError(message)


def pass_ctx(command):
    """Pass the CLI's Context (settings and database, built on first use) as first argument."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        return command(_context(), *args, **kwargs)

    return run


@click.group()
def stats() -> None:
    """Usage statistics: roll up usage events, check the roll-ups."""


@stats.command("rollup")
@pass_ctx
def stats_rollup(ctx) -> None:
    """Add the usage events recorded since the last run to the monthly roll-ups."""
    from federation.stats.rollup import rollup, utc_offset_minutes

    offset = utc_offset_minutes(ctx.alliance().time_zone)
    with ctx.db.session() as session:
        result = rollup(session, offset_minutes=offset)
    if not result.events:
        click.echo("Rolled up 0 events: nothing new since the last run.")
        return
    late = f", {result.late} late (counted in the next open month)" if result.late else ""
    click.echo(f"Rolled up {result.events} events (ids {result.from_id + 1}–{result.to_id}){late}.")


@stats.command("check")
@pass_ctx
def stats_check(ctx) -> None:
    """Count the events directly and compare with the roll-ups; exit 1 on any difference."""
    from federation.stats.rollup import utc_offset_minutes
    from federation.stats.services import check_rollups

    offset = utc_offset_minutes(ctx.alliance().time_zone)
    with ctx.db.session() as session:
        problems = check_rollups(session, offset_minutes=offset)
    for line in problems[:50]:
        click.echo(line)
    if problems:
        click.echo(
            f"{len(problems)} differences between the roll-ups and a direct count.", err=True
        )
        sys.exit(1)
    click.echo("Roll-ups equal a direct count of the events.")


@click.group()
def costs() -> None:
    """Cost sharing: settlement statements, approval and locking of periods."""


def _costs_call(fn, *args):
    from federation.costs.errors import CostError

    try:
        return fn(*args)
    except CostError as exc:
        raise _user_error(str(exc)) from None


@costs.command("statement")
@click.option("--period", required=True, help="2026-07, 2026-Q3 or 2026.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "pdf"]), default="csv")
@click.option("--member", help="One member's statement (default: the whole settlement).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="File to write.")
@click.option("--include-simulated", is_flag=True, help="Count simulated (demo) activity too.")
@pass_ctx
def costs_statement(
    ctx,
    period: str,
    fmt: str,
    member: str | None,
    output: str | None,
    include_simulated: bool,
) -> None:
    """Write a period's settlement statement (CSV to stdout unless --output names a file)."""
    from federation.costs.exports import statement_tables
    from federation.costs.services import statement
    from federation.stats.export import render

    alliance = ctx.alliance()
    if member and member not in {m.code for m in alliance.members}:
        raise _user_error(f"unknown member {member!r}; see `federation members list`")
    with ctx.db.session() as session:
        st = _costs_call(statement, session, alliance, period, include_simulated)
    data = render(statement_tables(st.settlement, st.status, member, st.simulated), fmt)
    if output is None and fmt == "csv":
        click.echo(data.decode("utf-8-sig"), nl=False)
        return
    target = Path(
        output or f"statement-{st.settlement.period}{'-' + member if member else ''}.{fmt}"
    )
    target.write_bytes(data)
    click.echo(f"Wrote {target} ({st.status}, {len(st.settlement.lines)} lines).")


def _admin() -> Actor:
    return Actor(Role.ALLIANCE_ADMIN, name="cli")


@costs.command("approve")
@click.option("--period", required=True)
@click.option("--include-simulated", is_flag=True)
@pass_ctx
def costs_approve(ctx, period: str, include_simulated: bool) -> None:
    """Roll up, compute and store a period's lines (an alliance administrator's act)."""
    from federation.costs.services import approve_period

    with ctx.db.session() as session:
        st = _costs_call(
            approve_period, session, ctx.alliance(), _admin(), period, include_simulated
        )
    click.echo(f"{st.settlement.period} approved: {len(st.settlement.lines)} lines, balance 0.00.")


@costs.command("lock")
@click.option("--period", required=True)
@pass_ctx
def costs_lock(ctx, period: str) -> None:
    """Lock an approved period: it never changes; later events count in the next period."""
    from federation.costs.services import lock_period

    with ctx.db.session() as session:
        _costs_call(lock_period, session, ctx.alliance(), _admin(), period)
    click.echo(f"{period} locked.")
