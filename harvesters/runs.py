"""Harvest runs: start, checkpoint fields, finish, and plain summaries for callers.

Every harvest, reconciliation and single-record refresh is one ``harvest_runs`` row: what it
asked, what it found and, while it runs, where it stands (the checkpoint is written with each
page by ``store.save_page``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from federation.db import Database
from federation.models import HarvestRun, UsageEvent, utcnow
from federation.usage import RECORDS_CONTRIBUTED, usage_row
from harvesters.errors import UnknownMember
from harvesters.store import MAX_ERROR, RUNS, cut


def check_member(db: Database, member_code: str) -> None:
    """Raise UnknownMember unless the member has been imported (runs refer to it)."""
    from federation.models import Member

    with db.session() as session:
        if session.get(Member, member_code) is None:
            raise UnknownMember(
                f"member {member_code} is not in the database: run `federation members import`"
            )


def start_run(
    db: Database,
    member_code: str,
    kind: str,
    prefix: str,
    *,
    set_spec: str | None = None,
    from_date: str | None = None,
    until_date: str | None = None,
) -> int:
    """Record the start of a run; return its id."""
    with db.engine.begin() as conn:
        result = conn.execute(
            RUNS.insert().values(
                member_code=member_code,
                kind=kind,
                status="running",
                metadata_prefix=prefix,
                set_spec=set_spec,
                from_date=from_date,
                until_date=until_date,
                started_at=utcnow(),
                pages=0,
                new=0,
                updated=0,
                deleted=0,
                rejected=0,
                illegal_chars=0,
                retries=0,
                cursor=0,
            )
        )
        return int(result.inserted_primary_key[0])


def finish_run(
    db: Database, run_id: int, status: str, error: str | None = None, **values: Any
) -> None:
    """Close a run as completed or failed (the checkpoint token is dropped once completed).

    The records the run added to the store are counted for the member's statistics and cost
    share (usage event ``records_contributed``), in the same transaction: a failed run's pages
    committed before the failure count too, and no run is counted twice.
    """
    if status == "completed":
        values["resumption_token"] = None
    with db.engine.begin() as conn:
        conn.execute(
            RUNS.update()
            .where(RUNS.c.id == run_id)
            .values(status=status, finished_at=utcnow(), error=cut(error, MAX_ERROR), **values)
        )
        run = conn.execute(
            select(RUNS.c.member_code, RUNS.c.new).where(RUNS.c.id == run_id)
        ).one_or_none()
        if run is not None and run.new:
            conn.execute(
                UsageEvent.__table__.insert(),
                usage_row(RECORDS_CONTRIBUTED, member_code=run.member_code, quantity=run.new,
                          ref=f"harvest_run:{run_id}"),  # fmt: skip
            )


def get_run(db: Database, run_id: int) -> HarvestRun:
    """Return the run row (detached, read-only use)."""
    with db.session() as session:
        run = session.get(HarvestRun, run_id)
        if run is None:
            raise LookupError(f"no harvest run {run_id}")
        session.expunge(run)
        return run


def latest_run(
    db: Database, member_code: str, kinds: Iterable[str] = (), status: str | None = None
) -> HarvestRun | None:
    """Return the member's newest run, optionally of some kinds and one status."""
    query = select(HarvestRun).where(HarvestRun.member_code == member_code)
    if kinds:
        query = query.where(HarvestRun.kind.in_(tuple(kinds)))
    if status:
        query = query.where(HarvestRun.status == status)
    query = query.order_by(HarvestRun.started_at.desc(), HarvestRun.id.desc()).limit(1)
    with db.session() as session:
        run = session.scalars(query).first()
        if run is not None:
            session.expunge(run)
        return run


@dataclass(frozen=True)
class RunSummary:
    """What a run did, for the CLI, the scheduler and tests (a plain copy of its row)."""

    run_id: int | None
    member_code: str
    kind: str
    status: str  # running | completed | failed | skipped (locked: nothing was recorded)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    pages: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0  # not stored on the row: known to the process that ran it
    deleted: int = 0
    rejected: int = 0
    illegal_chars: int = 0
    retries: int = 0
    error: str | None = None
    from_date: str | None = None
    response_date: str | None = None

    @property
    def ok(self) -> bool:
        """Tell whether the run completed."""
        return self.status == "completed"

    @property
    def duration(self) -> float | None:
        """Return the run's length in seconds (None while it runs)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (_aware(self.finished_at) - _aware(self.started_at)).total_seconds()


def summarise(run: HarvestRun, unchanged: int = 0) -> RunSummary:
    """Copy a run row into a RunSummary."""
    return RunSummary(
        run_id=run.id,
        member_code=run.member_code,
        kind=run.kind,
        status=run.status,
        started_at=run.started_at,
        finished_at=run.finished_at,
        pages=run.pages,
        new=run.new,
        updated=run.updated,
        unchanged=unchanged,
        deleted=run.deleted,
        rejected=run.rejected,
        illegal_chars=run.illegal_chars,
        retries=run.retries,
        error=run.error,
        from_date=run.from_date,
        response_date=run.response_date,
    )


def _aware(value: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; storage is always UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def update_run(db: Database, run_id: int, **values: Any) -> None:
    """Set fields of a run (e.g. the ``from`` date once Identify told the granularity)."""
    with db.engine.begin() as conn:
        conn.execute(RUNS.update().where(RUNS.c.id == run_id).values(**values))


def fail_stale_runs(
    db: Database, member_code: str, kinds: Iterable[str] = (), keep: int | None = None
) -> None:
    """Mark the member's runs still 'running' as failed (call with the member lock held)."""
    query = RUNS.update().where(RUNS.c.member_code == member_code, RUNS.c.status == "running")
    if kinds:
        query = query.where(RUNS.c.kind.in_(tuple(kinds)))
    if keep is not None:
        query = query.where(RUNS.c.id != keep)
    with db.engine.begin() as conn:
        conn.execute(
            query.values(
                status="failed",
                finished_at=utcnow(),
                error="interrupted: the process running it stopped",
            )
        )
