"""Harvesting services: what the CLI, the scheduler and the demo call.

- :func:`harvest_member` runs one member's full or incremental ListRecords harvest (or resumes
  a killed one) and records it as a run; :func:`harvest_all` runs several in parallel.
- :func:`reconcile_member` finds records a server dropped without reporting the deletion.
- :func:`refresh_record` fetches one record again with GetRecord.
- :func:`reparse` re-runs the metadata parsers over stored payloads (see ``reparse.py``).
- :func:`harvest_status` says how each member's last run went; :func:`harvest_demo` harvests
  the demo alliance once its endpoints are up.

Failures of the endpoint are recorded on the run and returned as a failed RunSummary. Only
``HarvestLocked`` and ``UnknownMember`` are raised: then no run could be recorded.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from federation.db import Database
from federation.models import utcnow
from harvesters.client import OAIClient, server_key, server_slot
from harvesters.errors import HarvestError, HarvestLocked, OAIError, UnknownMember
from harvesters.harvest import (
    Progress,
    holdings_config,
    run_harvest,
    to_granularity,
    to_records,
)
from harvesters.locks import member_lock
from harvesters.pipeline import prefetch
from harvesters.reparse import ReparseSummary, reparse
from harvesters.reports import format_status, format_summary
from harvesters.runs import (
    RunSummary,
    check_member,
    fail_stale_runs,
    finish_run,
    get_run,
    latest_run,
    start_run,
    summarise,
)
from harvesters.store import Checkpoint, live_identifiers, mark_deleted, save_page

__all__ = [
    "ReparseSummary",
    "RunSummary",
    "format_status",
    "format_summary",
    "harvest_all",
    "harvest_demo",
    "harvest_member",
    "harvest_status",
    "reconcile_member",
    "refresh_record",
    "reparse",
]

log = logging.getLogger(__name__)


@dataclass
class _Tools:
    """What every service needs besides the database: settings, sleep and randomness."""

    settings: dict[str, Any]
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random | None = None

    def client(self, base_url: str) -> OAIClient:
        return OAIClient.from_settings(base_url, self.settings, sleep=self.sleep, rng=self.rng)


def _tools(settings, sleep, rng) -> _Tools:
    if settings is None:
        from federation.settings import load_settings

        settings = load_settings()
    return _Tools(settings, sleep, rng)


def harvest_member(
    db: Database,
    member,
    *,
    full: bool = False,
    settings: dict[str, Any] | None = None,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> RunSummary:
    """Harvest one member (an alliance Member): resume a killed run, else full or incremental.

    Incremental runs ask ``from`` = the server's responseDate of the member's last completed
    run, at the server's granularity; ``full`` (or no completed run) asks for everything.
    Raise HarvestLocked when another harvest of the member runs.
    """
    tools = _tools(settings, sleep, rng)
    with (
        member_lock(db, member.code),
        server_slot(member.oai.base_url),
        tools.client(member.oai.base_url) as client,
    ):
        return run_harvest(db, client, member, full=full, progress=progress)


def harvest_all(
    db: Database,
    members: Iterable,
    *,
    workers: int = 4,
    full: bool = False,
    settings: dict[str, Any] | None = None,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> list[RunSummary]:
    """Harvest members in parallel (``workers`` threads, two streams per server at most)."""
    tools = _tools(settings, sleep, rng)
    members = list(members)
    ordered = _interleave_servers(members)

    def one(member) -> RunSummary:
        kind = "full" if full else "incremental"
        try:
            return harvest_member(
                db,
                member,
                full=full,
                settings=tools.settings,
                progress=progress,
                sleep=sleep,
                rng=rng,
            )
        except (HarvestLocked, UnknownMember) as exc:
            return RunSummary(None, member.code, kind, "skipped", error=str(exc))
        except Exception as exc:  # one member's failure must not stop the others
            log.exception("%s: harvest failed with an internal error", member.code)
            error = f"internal error: {type(exc).__name__}: {exc}"
            return RunSummary(None, member.code, kind, "failed", error=error)

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="harvest") as pool:
        futures = {id(m): pool.submit(one, m) for m in ordered}
        return [futures[id(m)].result() for m in members]


def _interleave_servers(members: list) -> list:
    """Order members round-robin by server so busy servers do not hold every worker."""
    queues: dict[str, list] = {}
    for member in members:
        queues.setdefault(server_key(member.oai.base_url), []).append(member)
    ordered = []
    while any(queues.values()):
        for queue in queues.values():
            if queue:
                ordered.append(queue.pop(0))
    return ordered


@dataclass
class MemberStatus:
    """A member's last run and how many records it has, by status."""

    member_code: str
    last_run: RunSummary | None
    records: dict[str, int] = field(default_factory=dict)


def harvest_status(db: Database, member_codes: Iterable[str] | None = None) -> list[MemberStatus]:
    """Return each member's newest run and record counts (all members with either)."""
    from sqlalchemy import func, select

    from federation.models import Record

    counts: dict[str, dict[str, int]] = {}
    query = select(Record.member_code, Record.status, func.count()).group_by(
        Record.member_code, Record.status
    )
    with db.engine.connect() as conn:
        for code, status, n in conn.execute(query):
            counts.setdefault(code, {})[status] = n
    codes = (
        list(member_codes)
        if member_codes is not None
        else sorted(set(counts) | _members_with_runs(db))
    )
    out = []
    for code in codes:
        run = latest_run(db, code)
        out.append(MemberStatus(code, summarise(run) if run else None, counts.get(code, {})))
    return out


def _members_with_runs(db: Database) -> set[str]:
    from sqlalchemy import select

    from federation.models import HarvestRun

    with db.engine.connect() as conn:
        return set(conn.execute(select(HarvestRun.member_code).distinct()).scalars())


# -- reconciliation and single records -------------------------------------------------------------

SINGLE_KINDS = ("reconcile", "record")


def reconcile_member(
    db: Database,
    member,
    *,
    force: bool = False,
    settings: dict[str, Any] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> RunSummary:
    """Mark as deleted the member's records its server no longer lists (ListIdentifiers).

    Only servers whose deletedRecord is "no" or "transient" need it; for "persistent" ones it
    does nothing unless ``force``. As a guard against a broken endpoint it refuses, unless
    ``force``, to delete every record or more than half of them.
    """
    tools = _tools(settings, sleep, rng)
    with (
        member_lock(db, member.code),
        server_slot(member.oai.base_url),
        tools.client(member.oai.base_url) as client,
    ):
        check_member(db, member.code)
        fail_stale_runs(db, member.code, SINGLE_KINDS)
        run_id = start_run(db, member.code, "reconcile", member.oai.metadata_prefix)
        return _recorded(db, run_id, client, lambda: _reconcile(db, client, member, run_id, force))


def _recorded(db: Database, run_id: int, client: OAIClient, work: Callable[[], dict]) -> RunSummary:
    """Run ``work`` and close the run: completed with its values, or failed with the reason."""
    try:
        values = work()
    except HarvestError as exc:
        log.warning("run %d failed: %s", run_id, exc)
        finish_run(db, run_id, "failed", str(exc), retries=client.retries)
        return summarise(get_run(db, run_id))
    except Exception as exc:  # a bug or a database failure: record it, then let it surface
        finish_run(db, run_id, "failed", f"internal error: {type(exc).__name__}: {exc}")
        raise
    finish_run(db, run_id, "completed", **values)
    return summarise(get_run(db, run_id))


def _reconcile(db: Database, client: OAIClient, member, run_id: int, force: bool) -> dict:
    identity = client.identify()
    if identity.deleted_record == "persistent" and not force:
        log.info(
            "%s reports deletions itself (deletedRecord persistent): nothing to reconcile",
            member.oai.base_url,
        )
        return {"retries": client.retries, "response_date": identity.response_date}
    listed: set[int] = set()  # hashes, not strings: a million identifiers stay small
    pages = 0
    for set_spec in list(member.oai.sets) or [None]:
        params = {"metadataPrefix": member.oai.metadata_prefix}
        if set_spec:
            params["set"] = set_spec
        for page in prefetch(client.list_pages("ListIdentifiers", **params)):
            pages += 1
            listed.update(hash(i.header.identifier) for i in page.items if not i.header.deleted)
    ours, vanished = 0, []
    for identifier in live_identifiers(db, member.code):
        ours += 1
        if hash(identifier) not in listed:
            vanished.append(identifier)
    if not force and vanished and (not listed or len(vanished) * 2 > ours):
        raise HarvestError(
            f"{member.oai.base_url} lists {len(listed)} records while the store holds {ours} "
            f"for {member.code}; refusing to mark {len(vanished)} as deleted. Check the "
            "endpoint, or reconcile with --force"
        )
    stamp = to_granularity(identity.response_date, identity.granularity)
    deleted = mark_deleted(db, member.code, vanished, run_id, stamp)
    return {
        "deleted": deleted,
        "pages": pages,
        "retries": client.retries,
        "response_date": identity.response_date,
    }


def refresh_record(
    db: Database,
    member,
    identifier: str,
    *,
    settings: dict[str, Any] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> RunSummary:
    """Fetch one record again with GetRecord and store it (idDoesNotExist makes a tombstone)."""
    tools = _tools(settings, sleep, rng)
    with member_lock(db, member.code), tools.client(member.oai.base_url) as client:
        check_member(db, member.code)
        fail_stale_runs(db, member.code, SINGLE_KINDS)
        run_id = start_run(db, member.code, "record", member.oai.metadata_prefix)
        return _recorded(
            db, run_id, client, lambda: _refresh(db, client, member, identifier, run_id)
        )


def _refresh(db: Database, client: OAIClient, member, identifier: str, run_id: int) -> dict:
    try:
        page = client.get_record(identifier, member.oai.metadata_prefix)
    except OAIError as exc:
        if exc.code != "idDoesNotExist":
            raise
        stamp = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "deleted": mark_deleted(db, member.code, [identifier], run_id, stamp),
            "retries": client.retries,
        }
    records, errors = to_records(
        page.items,
        member.oai.record_format,
        member.oai.metadata_prefix,
        member.code,
        holdings_config(member),
    )
    checkpoint = Checkpoint(
        None,
        len(page.items),
        max((r.datestamp for r in records), default=None),
        response_date=page.response_date,
        illegal_chars=page.illegal_chars,
        retries=client.retries,
        errors=errors,
    )
    save_page(db, run_id, member.code, records, checkpoint)
    return {}


# -- the demo --------------------------------------------------------------------------------------


def harvest_demo(ctx, *, echo: Callable[[str], None] = print) -> list[RunSummary]:
    """Harvest every demo member (full) once its endpoint answers; echo one line per member.

    ``ctx`` is the CLI context (``ctx.db``, ``ctx.settings``, ``ctx.alliance()``); the members
    must already be imported. A full harvest each time keeps the store equal to the endpoints,
    whose records the demo regenerates on every start.
    """
    alliance = ctx.alliance()
    started = time.perf_counter()
    summaries = harvest_all(ctx.db, alliance.members, full=True, settings=ctx.settings)
    for summary in summaries:
        echo("  " + format_summary(summary))
    stored = sum(s.new + s.updated + s.unchanged + s.deleted + s.rejected for s in summaries)
    failed = sum(1 for s in summaries if not s.ok)
    echo(
        f"Harvested {stored} records from {len(summaries) - failed} of {len(summaries)} "
        f"members in {time.perf_counter() - started:.1f} s."
    )
    return summaries
