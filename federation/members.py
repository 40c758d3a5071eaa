"""Members and regions: import from the alliance file, list, and the overview by district."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from federation.models import Member, Region


@dataclass
class ImportReport:
    """What `members import` changed: codes created, updated, unchanged and retired."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.retired)} retired"
        )


def _upsert(session: Session, model, key: str, values: dict[str, Any]) -> str:
    """Insert or update one row by primary key; return created, updated or unchanged."""
    row = session.get(model, key)
    if row is None:
        session.add(model(**values))
        return "created"
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return "updated" if changed else "unchanged"


def import_alliance(session: Session, alliance) -> tuple[ImportReport, ImportReport]:
    """Load regions and members from the alliance into the database, idempotently.

    Members missing from the file are retired (inactive), not deleted: their records,
    requests and statistics still refer to them.
    """
    regions, members = ImportReport(), ImportReport()
    for region in _parents_first(alliance.regions):
        outcome = _upsert(session, Region, region.code, region_values(region))
        getattr(regions, outcome).append(region.code)
        session.flush()
    in_file = set()
    for member in alliance.members:
        in_file.add(member.code)
        outcome = _upsert(session, Member, member.code, member_values(member))
        getattr(members, outcome).append(member.code)
    for row in session.scalars(select(Member).where(Member.active.is_(True))):
        if row.code not in in_file:
            row.active = False
            members.retired.append(row.code)
    return regions, members


def _parents_first(regions) -> list:
    """Order regions so that every parent comes before its children (foreign keys)."""
    by_code = {r.code: r for r in regions}
    ordered, seen = [], set()

    def visit(region) -> None:
        if region.code in seen:
            return
        seen.add(region.code)
        if region.parent and region.parent in by_code:
            visit(by_code[region.parent])
        ordered.append(region)

    for region in regions:
        visit(region)
    return ordered


def region_values(region) -> dict[str, Any]:
    """Map an alliance-file region to the columns of the regions table."""
    return {
        "code": region.code,
        "name_zh": region.name_zh,
        "name_en": region.name_en,
        "parent_code": region.parent,
        "level": region.level,
        "population": region.population,
        "kind": region.kind,
    }


def as_plain(value: Any) -> Any:
    """Turn an alliance dataclass tree into JSON values (dates, times, decimals as text)."""
    if dataclasses.is_dataclass(value):
        return {f.name: as_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): as_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_plain(v) for v in value]
    if isinstance(value, Decimal | dt.date | dt.time):
        return value.isoformat() if not isinstance(value, Decimal) else str(value)
    return value


def member_values(member) -> dict[str, Any]:
    """Map an alliance-file member to the columns of the members table."""
    return {
        "code": member.code,
        "name_zh": member.name_zh,
        "name_en": member.name_en,
        "type": member.type,
        "region_code": member.region,
        "latitude": member.latitude,
        "longitude": member.longitude,
        "oai_base_url": member.oai.base_url,
        "oai_metadata_prefix": member.oai.metadata_prefix,
        "oai_sets": list(member.oai.sets),
        "harvest_schedule": member.oai.schedule,
        "ill_policy": as_plain(member.ill),
        "liaison": as_plain(member.liaison),
        "active": True,
    }


def list_members(session: Session, include_retired: bool = False) -> list[Member]:
    """Return the members ordered by district and code."""
    query = select(Member).options(selectinload(Member.region))
    if not include_retired:
        query = query.where(Member.active.is_(True))
    return list(session.scalars(query.order_by(Member.region_code, Member.code)))


@dataclass
class DistrictOverview:
    """A district with its member libraries, for the home page and the API."""

    region: Region
    members: list[Member]
    locale: str = "zh_CN"

    @property
    def name(self) -> str:
        return self.region.name(self.locale)

    def region_fields(self) -> dict[str, Any]:
        r = self.region
        return {
            "code": r.code,
            "name_zh": r.name_zh,
            "name_en": r.name_en,
            "population": r.population,
            "kind": r.kind,
        }


@dataclass
class AllianceOverview:
    """Every district that has members, and the totals a reader sees first."""

    districts: list[DistrictOverview]

    @property
    def member_count(self) -> int:
        return sum(len(d.members) for d in self.districts)

    @property
    def population(self) -> int:
        return sum(d.region.population or 0 for d in self.districts)

    def count_by_type(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for district in self.districts:
            for member in district.members:
                counts[member.type] = counts.get(member.type, 0) + 1
        return counts


def alliance_overview(session: Session, locale: str = "zh_CN") -> AllianceOverview:
    """Group the active members by district (regions that hold at least one member)."""
    districts: dict[str, DistrictOverview] = {}
    for member in list_members(session):
        entry = districts.get(member.region_code)
        if entry is None:
            entry = districts[member.region_code] = DistrictOverview(member.region, [], locale)
        entry.members.append(member)
    return AllianceOverview(list(districts.values()))
