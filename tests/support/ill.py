"""Helpers for ILL tests: a controllable clock and clusters with real-looking holdings."""

from __future__ import annotations

import datetime as dt

from federation.models import Cluster, ClusterRecord, Record


class Clock:
    """A clock the test moves by hand (UTC)."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start.astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        """Move the clock forward by ``timedelta(**delta)``."""
        self.now += dt.timedelta(**delta)
        return self.now

    def set_local(self, *args: int, utc_offset: int = 8) -> dt.datetime:
        """Set the clock to a wall-clock time in a given UTC offset (default Beijing time)."""
        local = dt.datetime(*args, tzinfo=dt.timezone(dt.timedelta(hours=utc_offset)))
        self.now = local.astimezone(dt.UTC)
        return self.now


def add_cluster(db, cluster_id: str, title: str, holders: dict[str, list[str]]) -> str:
    """Store one record per holder (copies with the given availability) in one cluster."""
    with db.session() as session:
        session.add(Cluster(id=cluster_id, size=len(holders)))
        session.flush()
        for code, copies in holders.items():
            record = Record(
                member_code=code,
                oai_identifier=f"oai:{code}:{cluster_id}",
                datestamp="2026-01-01T00:00:00Z",
                status="active",
                metadata_prefix="marc21",
                normalised={
                    "title": title,
                    "holdings": [
                        {"member": code, "location": "main", "availability": a, "item_count": 1}
                        for a in copies
                    ],
                },
            )
            session.add(record)
            session.flush()
            session.add(ClusterRecord(record_id=record.id, cluster_id=cluster_id, rule="isbn"))
    return cluster_id


def staff(member: str, name: str = "staff"):
    """Return an ILL staff actor of ``member``."""
    from federation.roles import Actor, Role

    return Actor(Role.ILL_STAFF, member, user_id=1, name=name)


def place(db, ctx, borrower: str = "zhifu-pl", **fields) -> int:
    """Place a request as ``borrower``'s staff; return its id."""
    from ill import services

    fields.setdefault("patron_name", "王小明")
    fields.setdefault("patron_card", "20260001")
    with db.session() as session:
        return services.create_request(session, staff(borrower), ctx=ctx, **fields).id


def answer(db, ctx, rid: int, status: str, who: str | None = None, **kw) -> str:
    """Send a lender's status (as the current lender's staff unless ``who``); return the status."""
    from ill import services
    from ill.models import IllRequest

    with db.session() as session:
        actor = staff(who or session.get(IllRequest, rid).lender_code)
        return services.apply_supplier_status(session, actor, rid, status, ctx=ctx, **kw).status


def act(db, ctx, rid: int, action: str, who: str = "zhifu-pl", **kw):
    """Take a borrower's action; return the request."""
    from ill import services

    with db.session() as session:
        return services.apply_requester_action(session, staff(who), rid, action, ctx=ctx, **kw)


def load(db, rid: int):
    """Return the request with its rota and events loaded."""
    from ill.models import IllRequest

    with db.session() as session:
        request = session.get(IllRequest, rid)
        request.rota, request.events  # noqa: B018 - load them before the session closes
        return request
