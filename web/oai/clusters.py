"""The union catalogue as an OAI-PMH repository: one record per cluster, from the store.

Datestamps are the clusters' ``updated_at``; records are Dublin Core or MARCXML built from
the cluster's index document. Sets: ``member:<code>`` (clusters holding a record of that
library) and ``district:<code>`` (of any library in that district), under ``member`` and
``district``.

Deletions are ``transient``: there is no tombstone table for clusters. A cluster keeps its id
while any of its records lives; when all are withdrawn the id ``c<record id>`` of each
withdrawn record that names no live cluster is reported deleted (datestamp: when the
withdrawal was harvested). Not reported: a cluster whose id disappeared because it was merged
into another one; a harvester learns of those by a full re-harvest. A few deleted headers may
name identifiers that were never exposed (records that never led a cluster); harvesters
ignore unknown identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree
from sqlalchemy import (
    String,
    and_,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)

from federation.db import Database
from federation.members import list_members
from federation.models import Cluster, Member, Record
from federation.models import ClusterRecord as ClusterMember
from search.dedup.services import cluster_documents
from search.documents import ClusterDoc
from web.oai.dates import SECONDS, to_utc
from web.oai.repository import Key, MetadataFormat, SetSpec
from web.records_xml import MARC_NS, OAI_DC_NS, dublin_core, marcxml

FORMATS = (
    MetadataFormat("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC_NS),
    MetadataFormat(
        "marcxml", "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd", MARC_NS
    ),
)
PREFIX = "oai:union:"


@dataclass(frozen=True)
class ClusterRecord:
    """One cluster as an OAI-PMH record (``doc`` is None for a deleted one)."""

    identifier: str
    datestamp: datetime
    doc: ClusterDoc | None
    record_url: str | None = None
    deleted: bool = False
    sets: tuple[str, ...] = ()

    def metadata(self, prefix: str) -> bytes | None:
        """Return the record in ``prefix`` as UTF-8 XML without declaration."""
        if self.doc is None:
            return None
        if prefix == "oai_dc":
            return etree.tostring(dublin_core(self.doc, self.record_url), encoding="UTF-8")
        if prefix == "marcxml":
            return etree.tostring(marcxml(self.doc), encoding="UTF-8")
        return None


def _set_names(member: Member) -> tuple[SetSpec, SetSpec]:
    region = member.region
    return (
        SetSpec(f"member:{member.code}", f"{member.name_zh} ({member.name_en})"),
        SetSpec(f"district:{region.code}", f"{region.name_zh} ({region.name_en})"),
    )


def _record_filter(set_spec: str | None):
    """Return (records condition or None for all, known): what a set asks of member records."""
    if set_spec is None:
        return None, True
    kind, _, code = set_spec.partition(":")
    if kind not in ("member", "district") or ":" in code:
        return None, False
    if not code:
        return None, True
    if kind == "member":
        return Record.member_code == code, True
    return Record.member_code.in_(select(Member.code).where(Member.region_code == code)), True


def _live(set_spec: str | None):
    """Select (id, stamp, deleted) of the clusters in ``set_spec``."""
    query = select(Cluster.id.label("id"), Cluster.updated_at.label("stamp"),
                   false().label("deleted"))  # fmt: skip
    condition, _known = _record_filter(set_spec)
    if condition is not None:
        holders = (
            select(ClusterMember.cluster_id)
            .join(Record, Record.id == ClusterMember.record_id)
            .where(condition, Record.status == "active")
        )
        query = query.where(Cluster.id.in_(holders))
    return query


def _gone(set_spec: str | None):
    """Select (id, stamp, deleted) of the withdrawn records' ids that name no live cluster."""
    cluster_id = literal("c", String) + cast(Record.id, String)
    query = select(cluster_id.label("id"), Record.harvested_at.label("stamp"),
                   true().label("deleted")).where(
        Record.status == "deleted", ~exists().where(Cluster.id == cluster_id)
    )  # fmt: skip
    condition, _known = _record_filter(set_spec)
    return query if condition is None else query.where(condition)


class ClusterRepository:
    """Repository (web.oai.repository) over the clusters table of the record store."""

    granularity = SECONDS
    deleted_record = "transient"

    def __init__(
        self, db: Database, name: str, base_url: str, admin_emails: tuple[str, ...],
        record_url: str | None = None,
    ) -> None:  # fmt: skip
        self.db = db
        self.name = name
        self.base_url = base_url
        self.admin_emails = admin_emails
        self.record_url = record_url  # "{}" stands for the cluster id

    def earliest_datestamp(self) -> datetime:
        """Return the oldest cluster's datestamp (now when there are none)."""
        with self.db.session() as session:
            oldest = session.scalar(select(func.min(Cluster.updated_at)))
        return to_utc(oldest) if oldest else datetime.now(UTC).replace(microsecond=0)

    def metadata_formats(self, identifier: str | None = None) -> list[MetadataFormat]:
        """Return both formats (every cluster has both); none for an unknown item."""
        if identifier is not None and self.get(identifier) is None:
            return []
        return list(FORMATS)

    def sets(self) -> list[SetSpec]:
        """Return a set per member library and per district, under "member" and "district"."""
        with self.db.session() as session:
            members = list_members(session)
            found = {spec for m in members for spec in _set_names(m)}
        tops = [SetSpec("member", "成员馆 (Member libraries)"),
                SetSpec("district", "区县 (Districts)")]  # fmt: skip
        return tops + sorted(found, key=lambda s: s.spec) if found else []

    def get(self, identifier: str) -> ClusterRecord | None:
        """Return the cluster's record (or its deletion), or None."""
        if not identifier.startswith(PREFIX):
            return None
        cluster_id = identifier.removeprefix(PREFIX)
        with self.db.session() as session:
            row = session.get(Cluster, cluster_id)
            if row is not None:
                found = self._records(session, [(row.id, row.updated_at, False)])
                return found[0] if found else None
            record_id = cluster_id.removeprefix("c")
            if not (cluster_id.startswith("c") and record_id.isdecimal() and record_id.isascii()):
                return None
            gone = session.get(Record, int(record_id))
            if gone is None or gone.status != "deleted":
                return None
            return self._records(session, [(cluster_id, gone.harvested_at, True)])[0]

    def list(self, prefix, from_, until, set_spec, after: Key | None, limit: int):
        """Return up to ``limit`` records (live and deleted) after ``after``, by (datestamp, id)."""
        union = self._select(prefix, from_, until, set_spec)
        if union is None:
            return []
        query = select(union.c.id, union.c.stamp, union.c.deleted)
        if after is not None:
            stamp, cluster_id = to_utc(after[0]), after[1].removeprefix(PREFIX)
            query = query.where(
                or_(union.c.stamp > stamp, and_(union.c.stamp == stamp, union.c.id > cluster_id))
            )
        query = query.order_by(union.c.stamp, union.c.id).limit(limit)
        with self.db.session() as session:
            rows = session.execute(query).all()
            return self._records(session, [(r.id, r.stamp, bool(r.deleted)) for r in rows])

    def count(self, prefix, from_, until, set_spec) -> int:
        """Return how many records ``list`` would return in all."""
        union = self._select(prefix, from_, until, set_spec)
        if union is None:
            return 0
        with self.db.session() as session:
            return session.scalar(select(func.count()).select_from(union)) or 0

    def _select(self, prefix, from_, until, set_spec):
        """Return the live and deleted records as one subquery (id, stamp, deleted), or None."""
        if prefix not in {f.prefix for f in FORMATS} or not _record_filter(set_spec)[1]:
            return None
        parts = []
        for part, stamp in ((_live(set_spec), Cluster.updated_at),
                            (_gone(set_spec), Record.harvested_at)):  # fmt: skip
            if from_ is not None:
                part = part.where(stamp >= to_utc(from_))
            if until is not None:
                part = part.where(stamp <= to_utc(until))
            parts.append(part)
        return union_all(*parts).subquery()

    def _records(self, session, rows: list[tuple[str, datetime, bool]]) -> list[ClusterRecord]:
        live = [cid for cid, _stamp, deleted in rows if not deleted]
        docs = {d["cluster_id"]: d for d in cluster_documents(session, live)}
        places = self._withdrawn_places(session, [cid for cid, _s, deleted in rows if deleted])
        url = self.record_url
        found = []
        for cid, stamp, deleted in rows:
            if deleted:
                found.append(ClusterRecord(PREFIX + cid, to_utc(stamp), None, None, True,
                                           places.get(cid, ())))  # fmt: skip
            elif cid in docs:
                doc = docs[cid]
                sets = tuple(f"member:{m}" for m in doc.get("members") or ()) + tuple(
                    f"district:{r}" for r in doc.get("regions") or ()
                )
                link = url.format(cid) if url else None
                found.append(ClusterRecord(PREFIX + cid, to_utc(stamp), doc, link, False, sets))
        return found

    @staticmethod
    def _withdrawn_places(session, cluster_ids: list[str]) -> dict[str, tuple[str, ...]]:
        """Return the member and district sets of each withdrawn record, by its cluster id."""
        if not cluster_ids:
            return {}
        ids = [int(c.removeprefix("c")) for c in cluster_ids]
        rows = session.execute(
            select(Record.id, Record.member_code, Member.region_code)
            .join(Member, Member.code == Record.member_code)
            .where(Record.id.in_(ids))
        )
        return {f"c{r.id}": (f"member:{r.member_code}", f"district:{r.region_code}") for r in rows}
