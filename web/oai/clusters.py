"""The union catalogue as an OAI-PMH repository: one record per cluster, from the store.

Datestamps are the clusters' ``updated_at``; records are Dublin Core or MARCXML built from
the cluster's index document. Clusters that disappear leave no tombstone, so the repository
declares ``deletedRecord = no``: a harvester learns of removals only by a full re-harvest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree
from sqlalchemy import and_, func, or_, select

from federation.db import Database
from federation.models import Cluster
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
    """One cluster as an OAI-PMH record."""

    identifier: str
    datestamp: datetime
    doc: ClusterDoc
    record_url: str | None = None
    deleted: bool = False
    sets: tuple[str, ...] = ()

    def metadata(self, prefix: str) -> bytes | None:
        """Return the record in ``prefix`` as UTF-8 XML without declaration."""
        if prefix == "oai_dc":
            return etree.tostring(dublin_core(self.doc, self.record_url), encoding="UTF-8")
        if prefix == "marcxml":
            return etree.tostring(marcxml(self.doc), encoding="UTF-8")
        return None


class ClusterRepository:
    """Repository (web.oai.repository) over the clusters table of the record store."""

    granularity = SECONDS
    deleted_record = "no"

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
        """Return no sets: the union catalogue is harvested whole."""
        return []

    def get(self, identifier: str) -> ClusterRecord | None:
        """Return the cluster's record, or None."""
        if not identifier.startswith(PREFIX):
            return None
        with self.db.session() as session:
            row = session.get(Cluster, identifier.removeprefix(PREFIX))
            found = self._records(session, [(row.id, row.updated_at)]) if row else []
        return found[0] if found else None

    def list(self, prefix, from_, until, set_spec, after: Key | None, limit: int):
        """Return up to ``limit`` cluster records after ``after``, by (datestamp, id)."""
        query = self._select(prefix, from_, until, set_spec)
        if query is None:
            return []
        if after is not None:
            stamp, cluster_id = to_utc(after[0]), after[1].removeprefix(PREFIX)
            query = query.where(
                or_(Cluster.updated_at > stamp,
                    and_(Cluster.updated_at == stamp, Cluster.id > cluster_id))
            )  # fmt: skip
        query = query.order_by(Cluster.updated_at, Cluster.id).limit(limit)
        with self.db.session() as session:
            rows = session.execute(query).all()
            return self._records(session, [(r.id, r.updated_at) for r in rows])

    def count(self, prefix, from_, until, set_spec) -> int:
        """Return how many clusters ``list`` would return in all."""
        query = self._select(prefix, from_, until, set_spec)
        if query is None:
            return 0
        with self.db.session() as session:
            return session.scalar(select(func.count()).select_from(query.subquery())) or 0

    def _select(self, prefix, from_, until, set_spec):
        if prefix not in {f.prefix for f in FORMATS} or set_spec is not None:
            return None
        query = select(Cluster.id, Cluster.updated_at)
        if from_ is not None:
            query = query.where(Cluster.updated_at >= to_utc(from_))
        if until is not None:
            query = query.where(Cluster.updated_at <= to_utc(until))
        return query

    def _records(self, session, rows: list[tuple[str, datetime]]) -> list[ClusterRecord]:
        docs = {d["cluster_id"]: d for d in cluster_documents(session, [i for i, _ in rows])}
        url = self.record_url
        return [
            ClusterRecord(PREFIX + cid, to_utc(stamp), docs[cid], url.format(cid) if url else None)
            for cid, stamp in rows
            if cid in docs
        ]
