"""Tables of cost sharing: adopted model versions, settlement periods and their frozen lines."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from federation.db import Base
from federation.models import utcnow


class CostModelVersion(Base):
    """A cost-sharing model adopted from one period on (the alliance file's is the first)."""

    __tablename__ = "cost_model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    valid_from: Mapped[str] = mapped_column(String(16), index=True)  # first period, "2026-Q3"
    params: Mapped[dict] = mapped_column(JSON)  # the cost_sharing mapping, as in the file
    adopted_by: Mapped[str] = mapped_column(String(200))
    adopted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str] = mapped_column(String(500), default="")


class CostPeriod(Base):
    """A settlement period (month, quarter or year) and how far it is: open, approved, locked."""

    __tablename__ = "cost_periods"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)  # 2026-07 | 2026-Q3 | 2026
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|approved|locked
    model_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The roll-up's high-water mark when approved: newer events mean the approval is stale.
    approved_through: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    model_params: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # as approved
    locked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    locked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SettlementLine(Base):
    """One line of a period's settlement: who pays whom, how much, why, from which events."""

    __tablename__ = "settlement_lines"
    __table_args__ = (Index("ix_settlement_lines_period", "period", "line_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(16))
    line_no: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # share | ill_fee | pool | subsidy
    payer: Mapped[str] = mapped_column(String(32))
    payee: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    basis: Mapped[str] = mapped_column(String(500), default="")  # the arithmetic, in words
    refs: Mapped[list] = mapped_column(JSON, default=list)  # usage_events.ref values behind it
