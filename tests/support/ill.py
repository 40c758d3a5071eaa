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
