"""The home page: the alliance at a glance."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

from federation.members import AllianceOverview, alliance_overview
from web import get_db
from web.i18n import select_locale

bp = Blueprint("home", __name__)

TYPE_LABELS = {
    "university": _l("university library"),
    "public": _l("public library"),
    "research": _l("research library"),
    "school": _l("school library"),
    "community": _l("community library"),
}
KIND_LABELS = {"urban": _l("urban"), "rural": _l("rural"), "mixed": _l("urban and rural")}


@dataclass
class MapPoint:
    x: float
    y: float
    label: str
    type: str


@dataclass
class SchematicMap:
    width: int
    height: int
    points: list[MapPoint]


def schematic_map(overview: AllianceOverview, locale: str, width: int = 640,
                  height: int = 360, pad: int = 30) -> SchematicMap:
    """Place every member by its coordinates in an SVG box (equirectangular, north up)."""
    members = [m for d in overview.districts for m in d.members]
    if not members:
        return SchematicMap(width, height, [])
    lats = [m.latitude for m in members]
    lons = [m.longitude for m in members]
    # Longitude degrees shrink with latitude; scale them so the map is not stretched.
    kx = math.cos(math.radians(sum(lats) / len(lats)))
    span_x = max((max(lons) - min(lons)) * kx, 1e-6)
    span_y = max(max(lats) - min(lats), 1e-6)
    scale = min((width - 2 * pad - 160) / span_x, (height - 2 * pad) / span_y)
    points = [
        MapPoint(
            x=round(pad + (m.longitude - min(lons)) * kx * scale, 1),
            y=round(height - pad - (m.latitude - min(lats)) * scale, 1),
            label=m.name(locale),
            type=m.type if m.type in ("university", "public") else "other",
        )
        for m in members
    ]
    return SchematicMap(width, height, points)


@bp.get("/")
def index():
    """Show every member library on a district overview."""
    locale = select_locale()
    with get_db().session() as session:
        overview = alliance_overview(session, locale)
        page = render_template(
            "home.html",
            overview=overview,
            map=schematic_map(overview, locale),
            type_labels=TYPE_LABELS,
            kind_labels=KIND_LABELS,
        )
    return page
