"""Tables of the alliance itself: regions and member libraries."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String
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
