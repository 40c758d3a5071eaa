"""Tables of the record store: regions, member libraries, harvested records and harvest runs."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from federation.db import Base


def utcnow() -> datetime:
    """Return the current time in UTC (storage is always UTC)."""
    return datetime.now(UTC)


class Region(Base):
    """An administrative area: province, city, district or county, with its population."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("regions.code", ondelete="RESTRICT"), nullable=True
    )
    level: Mapped[str | None] = mapped_column(String(16), nullable=True)
    population: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str | None] = mapped_column(String(16), nullable=True)

    members: Mapped[list[Member]] = relationship(back_populates="region")

    def name(self, locale: str) -> str:
        """Return the name in the reader's language."""
        return self.name_en if locale.startswith("en") else self.name_zh


class Member(Base):
    """A library of the alliance, with where and how its catalogue is harvested."""

    __tablename__ = "members"
    __table_args__ = (Index("ix_members_region_code", "region_code"),)

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code", ondelete="RESTRICT"))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    oai_base_url: Mapped[str] = mapped_column(String(500))
    oai_metadata_prefix: Mapped[str] = mapped_column(String(64))
    oai_sets: Mapped[list] = mapped_column(JSON, default=list)
    harvest_schedule: Mapped[str | None] = mapped_column(String(100), nullable=True)
    ill_policy: Mapped[dict] = mapped_column(JSON, default=dict)
    liaison: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    region: Mapped[Region] = relationship(back_populates="members")

    def name(self, locale: str) -> str:
        """Return the name in the reader's language."""
        return self.name_en if locale.startswith("en") else self.name_zh


class HarvestRun(Base):
    """One harvest of one member: what it asked, what it found, where it stopped."""

    __tablename__ = "harvest_runs"
    __table_args__ = (Index("ix_harvest_runs_member_started", "member_code", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_code: Mapped[str] = mapped_column(ForeignKey("members.code", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # full | incremental | reconcile | record
    status: Mapped[str] = mapped_column(
        String(16), default="running"
    )  # running | completed | failed
    metadata_prefix: Mapped[str] = mapped_column(String(64))
    set_spec: Mapped[str | None] = mapped_column(String(200), nullable=True)
    from_date: Mapped[str | None] = mapped_column(String(32), nullable=True)  # as sent
    until_date: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The server's responseDate of the run's first page: the next incremental run's `from`.
    response_date: Mapped[str | None] = mapped_column(String(32), nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # When the records this run changed were re-clustered and queued for the index (NULL:
    # not yet; search.indexing.index_changes_since catches such runs up).
    clustered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    illegal_chars: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    # Checkpoint, committed with each page's records: a killed run resumes from here.
    resumption_token: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    checkpoint_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Newest record datestamp committed so far: where a badResumptionToken restart begins.
    last_datestamp: Mapped[str | None] = mapped_column(String(32), nullable=True)

    member: Mapped[Member] = relationship()


class Record(Base):
    """One member's catalogue record as harvested: the system of record for every index."""

    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("member_code", "oai_identifier", name="uq_records_member_oai"),
        Index("ix_records_member_status", "member_code", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_code: Mapped[str] = mapped_column(ForeignKey("members.code", ondelete="CASCADE"))
    oai_identifier: Mapped[str] = mapped_column(String(500))
    datestamp: Mapped[str] = mapped_column(String(32))  # as the server gave it (UTC)
    status: Mapped[str] = mapped_column(String(16))  # active | deleted | rejected
    metadata_prefix: Mapped[str] = mapped_column(String(64))
    reject_reason: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # zlib-compressed payload
    normalised: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # BibRecord as JSON
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    harvested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# -- search/dedup (issue 4): clusters, their records with evidence, work links, staff decisions --
# Owned by search/dedup; migration 0004_clusters. Every table here is derived from `records`
# (and rebuilt by re-clustering), except dedup_overrides and staff rows of dedup_blocklist,
# which are staff decisions that later harvests and re-clusterings must respect.


class Cluster(Base):
    """One manifestation across members: the unit of search results."""

    __tablename__ = "clusters"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # "c" + first record id
    size: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ClusterRecord(Base):
    """A record's place in its cluster, and why it is there (rule, values, matched record)."""

    __tablename__ = "cluster_records"
    __table_args__ = (Index("ix_cluster_records_cluster", "cluster_id"),)

    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    cluster_id: Mapped[str] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(32))  # seed | isbn | issn | oclc | lccn | nbn | ...
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    matched_record_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class WorkLink(Base):
    """A cluster linked to other editions of its work ("other editions"), and why."""

    __tablename__ = "work_links"
    __table_args__ = (Index("ix_work_links_work", "work_id"),)

    cluster_id: Mapped[str] = mapped_column(
        ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True
    )
    work_id: Mapped[str] = mapped_column(String(40))  # "w" + the work's first cluster id
    rule: Mapped[str | None] = mapped_column(String(32), nullable=True)  # None: leads the work
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)


class DedupKey(Base):
    """A match key of a record (identifier, title block, work key): finds its neighbours."""

    __tablename__ = "dedup_keys"
    __table_args__ = (Index("ix_dedup_keys_key", "key"),)

    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(300), primary_key=True)


class DedupOverride(Base):
    """A staff decision: two records are (merge) or are not (split) one manifestation."""

    __tablename__ = "dedup_overrides"
    __table_args__ = (
        Index("ix_dedup_overrides_a", "record_a"),
        Index("ix_dedup_overrides_b", "record_b"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))  # merge | split
    record_a: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    record_b: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    created_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DedupBlock(Base):
    """An identifier that is no evidence: set by staff, or found shared by unrelated titles."""

    __tablename__ = "dedup_blocklist"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # "isbn:9787..."
    source: Mapped[str] = mapped_column(String(8))  # staff | auto
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# -- end of search/dedup tables --


# --- index queue (search/indexing.py) ----------------------------------------------------------


class IndexQueue(Base):
    """Clusters whose index documents must be written or deleted.

    Filled in the same transaction as the re-clustering that changed them, emptied only after
    the search backend has committed them: after a crash, store and index converge again.
    """

    __tablename__ = "index_queue"

    cluster_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    op: Mapped[str] = mapped_column(String(8))  # upsert | delete
    enqueued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEvent(Base):
    """One read or change of reader data (or another sensitive act): who, what, when."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_subject", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(32))
    member_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(120))
    detail: Mapped[str] = mapped_column(String(500), default="")


class UsageEvent(Base):
    """One countable use of the platform; never carries a reader identifier.

    ``member_code`` is the member the event counts for (the reader's home library, the
    borrower, the contributing library); ``partner_code`` the other side (the lender).
    ``ref`` points at what caused it ("ill_request:42", "harvest_run:7") so every figure of a
    statement can be traced back.
    """

    __tablename__ = "usage_events"
    __table_args__ = (Index("ix_usage_events_kind_occurred", "kind", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    member_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    partner_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    region_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    cluster_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    clc_class: Mapped[str | None] = mapped_column(String(8), nullable=True)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)


class ReaderFeedback(Base):
    """A reader's note about the service, kept without any identity of the reader."""

    __tablename__ = "reader_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    member_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    region_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    category: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(String(2000))
    page: Mapped[str] = mapped_column(String(300), default="")
    locale: Mapped[str] = mapped_column(String(8), default="")
    status: Mapped[str] = mapped_column(String(16), default="new")


# -- service-gap reports (federation/reports): monthly roll-ups the report reads ------------------


class ReportRollup(Base):
    """One count of the service-gap roll-up: a month, a measure, a district, a type, a class.

    ``month`` is "YYYY-MM" (alliance time zone), or "holdings" for the titles-held snapshot;
    ``bucket`` is the hour or km of a histogram row (turnaround, distance) and -1 otherwise.
    Nothing here names a reader or a single request.
    """

    __tablename__ = "report_rollups"

    month: Mapped[str] = mapped_column(String(8), primary_key=True)
    measure: Mapped[str] = mapped_column(String(32), primary_key=True)
    district: Mapped[str] = mapped_column(String(32), primary_key=True)
    library_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    clc: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)


class ReportRollupMonth(Base):
    """A month (or the holdings snapshot) whose roll-up is built, and when."""

    __tablename__ = "report_rollup_months"

    month: Mapped[str] = mapped_column(String(8), primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger, default=0)
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
