"""Tables of the usage roll-ups: monthly counts, the high-water mark, late events (issue 7)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base
from federation.models import utcnow


class UsageRollup(Base):
    """Usage events of one month, kind, member, partner and reader region, summed.

    ``month`` is the month the events are *counted* in ("2026-07", alliance time zone): an
    event that arrives for a locked period is counted in the next open month and ``late``.
    Empty strings stand for "none" so the key can be a primary key on every database.
    """

    __tablename__ = "usage_rollups"
    __table_args__ = (Index("ix_usage_rollups_member_month", "member_code", "month"),)

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    partner_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(32), primary_key=True)  # reader's region
    clc: Mapped[str] = mapped_column(String(1), primary_key=True)  # top CLC class letter
    simulated: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    late: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger, default=0)
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    value_sum: Mapped[float] = mapped_column(Float, default=0.0)
    value_count: Mapped[int] = mapped_column(BigInteger, default=0)


class RollupState(Base):
    """How far the roll-up has read usage_events: the high-water mark on usage_events.id."""

    __tablename__ = "stats_rollup_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LateEvent(Base):
    """An event that arrived for a locked month, and the open month it was counted in."""

    __tablename__ = "stats_late_events"
    __table_args__ = (Index("ix_stats_late_events_counted", "counted_month"),)

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_month: Mapped[str] = mapped_column(String(7))
    counted_month: Mapped[str] = mapped_column(String(7))


class LockedMonth(Base):
    """A month whose figures are final (its settlement period is locked): never recounted."""

    __tablename__ = "stats_locked_months"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    period: Mapped[str] = mapped_column(String(16))  # the settlement period that locked it
    locked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
