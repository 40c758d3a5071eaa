"""Tables of the ILL broker: requests, their rota, event log, timers, lender statistics, notices.

Reader data (name, card number) lives only on the borrowing library's request, sealed with
``federation.privacy``; ``patron_digest`` is a keyed hash of the card number so the same reader
asking twice can be noticed without storing the number in clear. All three are erased by the
retention job. Migration 0008.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from federation.db import Base
from federation.models import utcnow

TZ = DateTime(timezone=True)


class IllRequest(Base):
    """One interlibrary-loan request of a borrowing member, wherever it is in its life."""

    __tablename__ = "ill_requests"
    __table_args__ = (
        UniqueConstraint("borrower_code", "idempotency_key", name="uq_ill_requests_idempotency"),
        Index("ix_ill_requests_borrower_status", "borrower_code", "status"),
        Index("ix_ill_requests_lender_status", "lender_code", "status"),
        Index("ix_ill_requests_reader", "borrower_code", "reader_user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    borrower_code: Mapped[str] = mapped_column(ForeignKey("members.code", ondelete="RESTRICT"))
    lender_code: Mapped[str | None] = mapped_column(String(32), nullable=True)  # current lender
    cluster_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    citation: Mapped[dict] = mapped_column(JSON, default=dict)  # title, author, journal, pages...
    title: Mapped[str] = mapped_column(String(500))
    service_type: Mapped[str] = mapped_column(String(16))  # Loan | Copy | CopyOrLoan
    service_level: Mapped[str] = mapped_column(String(16), default="Normal")  # Rush|Express|Normal
    needed_by: Mapped[date | None] = mapped_column(Date, nullable=True)
    max_cost: Mapped[float | None] = mapped_column(Numeric(10, 2), nullable=True)
    pickup_location: Mapped[str] = mapped_column(String(200), default="")
    patron_name: Mapped[str | None] = mapped_column(Text, nullable=True)  # sealed
    patron_card: Mapped[str | None] = mapped_column(Text, nullable=True)  # sealed
    patron_digest: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    reader_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mediated: Mapped[bool] = mapped_column(Boolean, default=False)
    duplicate_of: Mapped[int | None] = mapped_column(Integer, nullable=True)
    local_holding: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(32))
    requester_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    rota_seed: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    renewals: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    note: Mapped[str] = mapped_column(String(2000), default="")  # staff note, no reader data
    closed_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    anonymised_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)

    rota: Mapped[list[IllRotaEntry]] = relationship(
        back_populates="request", order_by="IllRotaEntry.position", cascade="all, delete-orphan"
    )
    events: Mapped[list[IllEvent]] = relationship(
        back_populates="request", order_by="IllEvent.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class IllRotaEntry(Base):
    """One candidate lender of a request: filtered out (with the reason) or ranked (with terms)."""

    __tablename__ = "ill_rota_entries"
    __table_args__ = (
        Index("ix_ill_rota_request", "request_id"),
        Index("ix_ill_rota_member_asked", "member_code", "asked_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("ill_requests.id", ondelete="CASCADE"))
    member_code: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)  # order shown: ranked first, then filtered
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: filtered out
    filter_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    terms: Mapped[dict] = mapped_column(JSON, default=dict)  # term -> value, weight, points, why
    tie_break: Mapped[float] = mapped_column(Float, default=0.0)
    outcome: Mapped[str] = mapped_column(String(16), default="waiting")
    asked_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    deadline_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
    hours: Mapped[float | None] = mapped_column(Float, nullable=True)  # asked to supplied
    message: Mapped[str] = mapped_column(String(1000), default="")

    request: Mapped[IllRequest] = relationship(back_populates="rota")


class IllEvent(Base):
    """One line of a request's timeline: who did what, when, and what they said."""

    __tablename__ = "ill_events"
    __table_args__ = (Index("ix_ill_events_request", "request_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("ill_requests.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(16))  # supplier | requester | broker
    event: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    lender_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    message: Mapped[str] = mapped_column(String(2000), default="")

    request: Mapped[IllRequest] = relationship(back_populates="events")


class IllTimer(Base):
    """A moment the broker must act on a request by itself (response deadline, due date...)."""

    __tablename__ = "ill_timers"
    __table_args__ = (UniqueConstraint("request_id", "kind", name="uq_ill_timers_request_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("ill_requests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # response | due | recall
    due_at: Mapped[datetime] = mapped_column(TZ, index=True)
    lender_code: Mapped[str | None] = mapped_column(String(32), nullable=True)


class IllLenderStats(Base):
    """How a member has done as a lender and borrower: the rota's fill rate, speed and balance.

    Summed from the rota entries by the ``ill:stats`` job (``ill.lenders.refresh_stats``)
    rather than counted in each transaction: busy lenders' rows would otherwise serialise
    every worker. ``suspended`` is set by the alliance and kept across refreshes.
    """

    __tablename__ = "ill_lender_stats"

    member_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    asked: Mapped[int] = mapped_column(Integer, default=0)
    filled: Mapped[int] = mapped_column(Integer, default=0)
    unfilled: Mapped[int] = mapped_column(Integer, default=0)
    timeouts: Mapped[int] = mapped_column(Integer, default=0)
    turnaround_hours: Mapped[float] = mapped_column(Float, default=0.0)  # sum over filled
    borrowed: Mapped[int] = mapped_column(Integer, default=0)  # requests it placed and got
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)


class IllNotification(Base):
    """An in-app notice for a member's staff (also sent by e-mail); no reader data."""

    __tablename__ = "ill_notifications"
    __table_args__ = (Index("ix_ill_notifications_member", "member_code", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_code: Mapped[str] = mapped_column(String(32))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("ill_requests.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(String(1000))
    read_at: Mapped[datetime | None] = mapped_column(TZ, nullable=True)
