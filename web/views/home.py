"""The home page: the alliance at a glance."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from federation.members import AllianceOverview, alliance_overview
from federation.models import HarvestRun
from web import get_db
from web.i18n import select_locale
from web.identity import public

bp = Blueprint("home", __name__)

TYPE_LABELS = {
    "university": _l("university library"),
    "public": _l("public library"),
    "research": _l("research library"),
    "school": _l("school library"),
    "community": _l("community library"),
}


def type_count_label(kind: str, count: int) -> str:
    """Say "3 university libraries" in the reader's language."""
    forms = {
        "university": ngettext("%(num)d university library", "%(num)d university libraries", count),
        "public": ngettext("%(num)d public library", "%(num)d public libraries", count),
        "research": ngettext("%(num)d research library", "%(num)d research libraries", count),
        "school": ngettext("%(num)d school library", "%(num)d school libraries", count),
        "community": ngettext("%(num)d community library", "%(num)d community libraries", count),
    }
    return forms.get(kind, f"{count} {kind}")


KIND_LABELS = {"urban": _l("urban"), "rural": _l("rural"), "mixed": _l("urban and rural")}


@dataclass
class MapPoint:
    x: float
    y: float
    number: int
    label: str
    type: str


@dataclass
class MapLabel:
    x: float
    y: float
    text: str


@dataclass
class SchematicMap:
    width: int
    height: int
    points: list[MapPoint]
    districts: list[MapLabel]
    numbers: dict[str, int]  # member code -> the number drawn on its dot


def schematic_map(
    overview: AllianceOverview, locale: str, width: int = 640, pad: int = 40
) -> SchematicMap:
    """Place every member by its coordinates on a numbered SVG sketch (north up)."""
    members = [m for d in overview.districts for m in d.members]
    if not members:
        return SchematicMap(width, 0, [], [], {})
    lats = [m.latitude for m in members]
    lons = [m.longitude for m in members]
    # Longitude degrees shrink with latitude; scale them so the map is not stretched.
    kx = math.cos(math.radians(sum(lats) / len(lats)))
    span_x = max((max(lons) - min(lons)) * kx, 1e-6)
    span_y = max(max(lats) - min(lats), 1e-6)
    scale = min((width - 2 * pad - 40) / span_x, 420 / span_y)
    height = round(span_y * scale + 2 * pad)

    def project(lat: float, lon: float) -> tuple[float, float]:
        return (
            round(pad + (lon - min(lons)) * kx * scale, 1),
            round(height - pad - (lat - min(lats)) * scale, 1),
        )

    numbers = {m.code: i for i, m in enumerate(members, start=1)}
    points: list[MapPoint] = []
    for m in members:
        x, y = project(m.latitude, m.longitude)
        # Libraries a few hundred metres apart would hide each other: nudge the later one.
        while any(abs(p.x - x) < 19 and abs(p.y - y) < 19 for p in points):
            x += 19
        points.append(
            MapPoint(
                x,
                y,
                numbers[m.code],
                m.name(locale),
                m.type if m.type in ("university", "public") else "other",
            )
        )
    labels = []
    for district in overview.districts:
        xs, ys = zip(*(project(m.latitude, m.longitude) for m in district.members), strict=True)
        labels.append(MapLabel(round(sum(xs) / len(xs), 1), round(min(ys) - 16, 1), district.name))
    return SchematicMap(width, height, points, labels, numbers)


def last_harvests(session: Session, time_zone: str) -> dict[str, str]:
    """Return when each member's catalogue was last harvested completely, in local time."""
    query = (
        select(HarvestRun.member_code, func.max(HarvestRun.finished_at))
        .where(HarvestRun.status == "completed", HarvestRun.finished_at.is_not(None))
        .group_by(HarvestRun.member_code)
    )
    zone = ZoneInfo(time_zone)
    found = {}
    for code, finished in session.execute(query):
        if finished.tzinfo is None:  # SQLite returns naive datetimes; they are stored in UTC
            finished = finished.replace(tzinfo=UTC)
        found[code] = finished.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return found


@bp.get("/")
@public
def index():
    """Show every member library on a district overview, with when each was last harvested."""
    locale = select_locale()
    alliance = current_app.extensions["federation.alliance"]
    with get_db().session() as session:
        overview = alliance_overview(session, locale)
        harvested = last_harvests(session, alliance.time_zone)
        page = render_template(
            "home.html",
            overview=overview,
            map=schematic_map(overview, locale),
            type_labels=TYPE_LABELS,
            kind_labels=KIND_LABELS,
            type_count_label=type_count_label,
            harvested=harvested,
            newest_harvest=max(harvested.values(), default=None),
        )
    return page
