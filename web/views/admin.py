"""Administration pages: how the harvests went, member by member (alliance administrators)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from federation.models import HarvestRun, Member, Record
from federation.policy import Permission
from web import get_db
from web.i18n import select_locale
from web.identity import requires

bp = Blueprint("admin", __name__)

RUNS_SHOWN = 10  # newest runs listed per member

KIND_LABELS = {
    "full": _l("full"),
    "incremental": _l("incremental"),
    "reconcile": _l("reconciliation"),
    "record": _l("single record"),
}
STATUS_LABELS = {
    "running": _l("running"),
    "completed": _l("completed"),
    "failed": _l("failed"),
}
RECORD_STATUSES = ("active", "deleted", "rejected")


@dataclass
class RunRow:
    """One harvest run as the page shows it."""

    kind: str
    status: str
    started: datetime  # in the alliance's time zone
    duration: str  # h:mm:ss, or "" while running
    new: int
    updated: int
    deleted: int
    rejected: int
    pages: int
    error: str | None


@dataclass
class MemberHarvests:
    """A member's newest runs and its records by status."""

    code: str
    name: str
    in_alliance: bool
    runs: list[RunRow] = field(default_factory=list)
    records: dict[str, int] = field(default_factory=dict)


def _aware(value: datetime) -> datetime:
    # SQLite returns stored timestamps without their zone; storage is always UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def format_duration(started: datetime, finished: datetime | None) -> str:
    """Say how long a run took as h:mm:ss ("" while it runs)."""
    if finished is None:
        return ""
    seconds = max(0, round((_aware(finished) - _aware(started)).total_seconds()))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _run_row(run: HarvestRun, tz: ZoneInfo) -> RunRow:
    return RunRow(
        kind=run.kind,
        status=run.status,
        started=_aware(run.started_at).astimezone(tz),
        duration=format_duration(run.started_at, run.finished_at),
        new=run.new,
        updated=run.updated,
        deleted=run.deleted,
        rejected=run.rejected,
        pages=run.pages,
        error=run.error,
    )


def _recent_runs(session, limit: int) -> dict[str, list[HarvestRun]]:
    """Return each member's newest runs, newest first (one query, a window function)."""
    rank = (
        func.row_number()
        .over(
            partition_by=HarvestRun.member_code,
            order_by=(HarvestRun.started_at.desc(), HarvestRun.id.desc()),
        )
        .label("rank")
    )
    ranked = select(HarvestRun.id, rank).subquery()
    query = (
        select(HarvestRun)
        .join(ranked, ranked.c.id == HarvestRun.id)
        .where(ranked.c.rank <= limit)
        .order_by(HarvestRun.member_code, ranked.c.rank)
    )
    runs: dict[str, list[HarvestRun]] = {}
    for run in session.scalars(query):
        runs.setdefault(run.member_code, []).append(run)
    return runs


def _record_counts(session) -> dict[str, dict[str, int]]:
    query = select(Record.member_code, Record.status, func.count()).group_by(
        Record.member_code, Record.status
    )
    counts: dict[str, dict[str, int]] = {}
    for code, status, n in session.execute(query):
        counts.setdefault(code, {})[status] = n
    return counts


def member_harvests(session, alliance, locale: str) -> list[MemberHarvests]:
    """Return every alliance member, then any former member with runs or records."""
    tz = ZoneInfo(alliance.time_zone)
    runs = _recent_runs(session, RUNS_SHOWN)
    counts = _record_counts(session)
    out = [MemberHarvests(m.code, m.name(locale), True) for m in alliance.members]
    known = {m.code for m in alliance.members}
    former = sorted((set(runs) | set(counts)) - known)
    names = {m.code: m.name(locale) for m in session.scalars(select(Member))}
    out += [MemberHarvests(code, names.get(code, code), False) for code in former]
    for entry in out:
        entry.runs = [_run_row(run, tz) for run in runs.get(entry.code, [])]
        entry.records = {s: counts.get(entry.code, {}).get(s, 0) for s in RECORD_STATUSES}
    return out


@bp.get("/harvests")
@requires(Permission.ALLIANCE_ADMIN)
def harvests():
    """Show each member's last harvest runs and its records by status."""
    alliance = current_app.extensions["federation.alliance"]
    with get_db().session() as session:
        members = member_harvests(session, alliance, select_locale())
    return render_template(
        "admin/harvests.html",
        members=members,
        time_zone=alliance.time_zone,
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        runs_shown=RUNS_SHOWN,
    )
