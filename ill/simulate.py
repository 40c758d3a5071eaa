"""A simulated year of ILL traffic for the demo: seeded, labelled simulated everywhere.

Requests are placed at random working hours over the past year by the members' staff and
driven through the real services with a clock set to each step's moment, so the queues,
timelines, lender statistics and usage events look like a year of real work. Requests whose
next step lies in the future stay open, with their timers running.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from federation.models import ClusterRecord, Record
from federation.roles import SYSTEM, Actor, Role
from ill import services
from ill import states as S
from ill.context import IllContext, as_utc
from ill.lenders import refresh_stats
from ill.models import IllNotification, IllRequest

BATCH = 25


class SimClock:
    """A clock the simulation sets to each step's moment."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def already_simulated(session: Session) -> int:
    """Return how many simulated requests the database holds."""
    return session.scalar(select(func.count()).where(IllRequest.simulated.is_(True))) or 0


def clusters_with_holders(session: Session, minimum: int = 2) -> dict[str, set[str]]:
    """Return clusters held by at least ``minimum`` members, with their holders."""
    holders: dict[str, set[str]] = {}
    rows = session.execute(
        select(ClusterRecord.cluster_id, Record.member_code)
        .join(Record, Record.id == ClusterRecord.record_id)
        .where(Record.status == "active")
    )
    for cluster_id, member in rows:
        holders.setdefault(cluster_id, set()).add(member)
    return {c: m for c, m in holders.items() if len(m) >= minimum}


def simulate_year(
    db: Any, ctx: IllContext, *, requests: int = 300, seed: int = 18626,
    now: dt.datetime | None = None,
) -> int:  # fmt: skip
    """Place and drive ``requests`` simulated requests over the year before ``now``."""
    rng = random.Random(seed)
    clock = SimClock()
    sim = dataclasses.replace(ctx, clock=clock, mailer=None, listeners=[], rng=rng)
    end = now or dt.datetime.now(dt.UTC)
    with db.session() as session:
        clusters = sorted(clusters_with_holders(session).items())
    if not clusters:
        return 0
    starts = sorted(end - dt.timedelta(days=365 * rng.random()) for _ in range(requests))
    members = [m.code for m in ctx.alliance.members]
    done = 0
    for i in range(0, len(starts), BATCH):
        with db.session() as session:
            for start in starts[i : i + BATCH]:
                cluster_id, holders = clusters[rng.randrange(len(clusters))]
                borrower = rng.choice([m for m in members if m not in holders] or members)
                clock.now = _working_time(start, rng)
                _one(session, sim, clock, rng, end, borrower, cluster_id)
                done += 1
            _quiet_notices(session)
    with db.session() as session:
        refresh_stats(session)  # the statistics the live rota ranks by
    return done


def _working_time(moment: dt.datetime, rng: random.Random) -> dt.datetime:
    """Move a moment to a weekday between 09:00 and 16:00 Beijing time (01:00-08:00 UTC)."""
    day = moment.date()
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(1 + rng.randrange(7), rng.randrange(60)), dt.UTC)


def _one(session, ctx, clock, rng, end, borrower: str, cluster_id: str) -> None:
    staff = Actor(Role.ILL_STAFF, borrower, name="simulated staff")
    n = rng.randrange(1, 10_000)
    req = services.create_request(
        session, staff, ctx=ctx, simulated=True, cluster_id=cluster_id,
        service_type=rng.choices(S.SERVICE_TYPES, (70, 20, 10))[0],
        service_level=rng.choices(S.SERVICE_LEVELS, (5, 15, 80))[0],
        patron_name=f"模拟读者 {n:04d}", patron_card=f"SIM-{n:06d}",
        pickup_location="总服务台",
    )  # fmt: skip
    if req.status == S.LOCAL_OFFERED:
        services.apply_requester_action(session, staff, req.id, S.ROUTE_ANYWAY, ctx=ctx)
    for _turn in range(6):  # at most six lenders asked
        if req.status != S.REQUEST_RECEIVED or not _advance(clock, rng, end, 2, 30):
            return
        outcome = rng.choices(("supply", "unfilled", "timeout", "cancel"), (76, 13, 8, 3))[0]
        if outcome == "supply":
            _supply(session, ctx, clock, rng, end, req, staff)
            return
        if outcome == "unfilled":
            _lender(session, ctx, req, rng.choice((S.UNFILLED, S.RETRY_POSSIBLE)), "not on shelf")
        elif outcome == "timeout":
            asked = next(
                e for e in req.rota if e.member_code == req.lender_code and e.outcome == "asked"
            )
            clock.now = max(clock.now, as_utc(asked.deadline_at) or clock.now)
            services.time_out(session, SYSTEM, req.id, req.lender_code, ctx=ctx)
        else:
            services.apply_requester_action(
                session, staff, req.id, S.CANCEL, "reader no longer needs it", ctx=ctx
            )
            return


def _advance(clock, rng, end, low_hours: float, high_hours: float) -> bool:
    """Move the clock on by a random while; False if that lies beyond the end."""
    clock.now += dt.timedelta(hours=rng.uniform(low_hours, high_hours))
    return clock.now < end


def _lender(session, ctx, req, status: str, message: str = "") -> None:
    lender = Actor(Role.ILL_STAFF, req.lender_code, name="simulated staff")
    services.apply_supplier_status(session, lender, req.id, status, message, ctx=ctx)


def _supply(session, ctx, clock, rng, end, req, staff) -> None:
    _lender(session, ctx, req, S.WILL_SUPPLY)
    copy = req.service_type == "Copy" or (req.service_type == "CopyOrLoan" and rng.random() < 0.5)
    steps: list[tuple[float, float, Callable[[], Any]]] = [
        (4, 30, lambda: _lender(session, ctx, req, S.COPY_COMPLETED if copy else S.LOANED)),
        (20, 60, lambda: _requester(session, ctx, req, staff, S.RECEIVED)),
    ]
    if not copy:
        steps += [
            (24 * 7, 24 * 35, lambda: _return(session, ctx, clock, req, staff)),
            (24, 96, lambda: _lender(session, ctx, req, S.LOAN_COMPLETED)),
        ]
    for low, high, step in steps:
        if not _advance(clock, rng, end, low, high):
            return
        step()


def _requester(session, ctx, req, staff, action: str) -> None:
    services.apply_requester_action(session, staff, req.id, action, ctx=ctx)


def _return(session, ctx, clock, req, staff) -> None:
    """Ship the loan back; past its due date it went overdue first (the timer's work)."""
    due = (
        req.due_at.replace(tzinfo=dt.UTC)
        if req.due_at and req.due_at.tzinfo is None
        else req.due_at
    )
    if due is not None and clock.now > due and req.status == S.LOANED:
        moment, clock.now = clock.now, due
        services.apply_supplier_status(
            session, SYSTEM, req.id, S.OVERDUE, "due date passed", ctx=ctx
        )
        clock.now = moment
    _requester(session, ctx, req, staff, S.SHIPPED_RETURN)


def _quiet_notices(session: Session) -> None:
    """Mark notices of simulated requests read: the demo's inbox shows only live ones."""
    from sqlalchemy import update

    simulated = select(IllRequest.id).where(IllRequest.simulated.is_(True))
    session.execute(
        update(IllNotification)
        .where(IllNotification.request_id.in_(simulated), IllNotification.read_at.is_(None))
        .values(read_at=func.now())
    )
