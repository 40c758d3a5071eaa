"""A district choropleth drawn as SVG from GeoJSON boundaries: no map tiles, no script.

The GeoJSON file sits beside the alliance file (``districts.geojson``); each feature's
``code`` property is a region code of the alliance file. Shapes are projected equirectangularly
around the city's mean latitude, which is close enough at the scale of one city.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from markupsafe import escape

WIDTH, HEIGHT, PAD = 640, 420, 16
# Five steps of one hue (light: short of the others, dark: well served), colour-blind safe.
PALETTE = ("#fde0c5", "#facba6", "#f8b58b", "#f59e72", "#f2855d")
NO_DATA = "#e5e7eb"


class MapError(ValueError):
    """A boundary file that cannot be drawn; the message names the file and the problem."""


@dataclass(frozen=True)
class Boundaries:
    """District outlines (rings of lon/lat points) by region code; schematic or surveyed."""

    shapes: dict[str, list[list[tuple[float, float]]]]
    schematic: bool


def load_boundaries(path: Path) -> Boundaries | None:
    """Read a GeoJSON FeatureCollection of districts; None when the alliance ships none."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
        shapes = {str(f["properties"]["code"]): _rings(f["geometry"]) for f in data["features"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise MapError(f"{path}: not a GeoJSON FeatureCollection of districts ({exc})") from exc
    return Boundaries(shapes, bool(data.get("schematic")))


def _rings(geometry: dict) -> list[list[tuple[float, float]]]:
    polygons = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        polygons = [polygons]
    elif geometry["type"] != "MultiPolygon":
        raise ValueError(f"geometry {geometry['type']!r} is not a Polygon or MultiPolygon")
    return [[(float(x), float(y)) for x, y, *_ in poly[0]] for poly in polygons]


def _projector(b: Boundaries) -> Callable[[float, float], tuple[float, float]]:
    points = [p for rings in b.shapes.values() for ring in rings for p in ring]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    squash = math.cos(math.radians((min(ys) + max(ys)) / 2))
    span_x, span_y = (max(xs) - min(xs)) * squash or 1, (max(ys) - min(ys)) or 1
    scale = min((WIDTH - 2 * PAD) / span_x, (HEIGHT - 2 * PAD) / span_y)

    def project(lon: float, lat: float) -> tuple[float, float]:
        return (PAD + (lon - min(xs)) * squash * scale, PAD + (max(ys) - lat) * scale)

    return project


def _step(value: float | None, low: float, high: float) -> str:
    if value is None:
        return NO_DATA
    if high <= low:
        return PALETTE[-1]
    index = int((value - low) / (high - low) * len(PALETTE))
    return PALETTE[min(max(index, 0), len(PALETTE) - 1)]


def choropleth_svg(
    b: Boundaries,
    values: Mapping[str, float | None],
    names: Mapping[str, str],
    show: Callable[[float | None], str],
    title: str,
    schematic_label: str,
    no_data_label: str,
) -> str:
    """Return an SVG map: each district filled by its value, named, with its figure."""
    project = _projector(b)
    present = [v for v in values.values() if v is not None]
    low, high = (min(present), max(present)) if present else (0.0, 0.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT + 40}" '
        f'role="img" aria-label="{escape(title)}" class="district-map">',
        f"<title>{escape(title)}</title>",
    ]
    for code, rings in b.shapes.items():
        if code not in names:
            continue
        parts.append(
            _district(code, rings, values.get(code), names[code], show, project, low, high)
        )
    if b.schematic:
        parts.append(
            f'<text x="{WIDTH - PAD}" y="{HEIGHT + 30}" text-anchor="end" class="map-note">'
            f"{escape(schematic_label)}</text>"
        )
    parts.append(_legend(low, high, show, no_data_label))
    parts.append("</svg>")
    return "".join(parts)


def _district(code, rings, value, name, show, project, low, high) -> str:
    d = " ".join(
        "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in (project(*p) for p in ring)) + " Z"
        for ring in rings
    )
    biggest = max(rings, key=len)
    cx = sum(project(*p)[0] for p in biggest[:-1]) / max(1, len(biggest) - 1)
    cy = sum(project(*p)[1] for p in biggest[:-1]) / max(1, len(biggest) - 1)
    label = f"{escape(name)}: {escape(show(value))}"
    return (
        f'<g class="district" data-district="{escape(code)}"><title>{label}</title>'
        f'<path d="{d}" fill="{_step(value, low, high)}" stroke="#374151" stroke-width="1"/>'
        f'<text x="{cx:.1f}" y="{cy:.1f}" text-anchor="middle" class="map-label">{escape(name)}'
        f'<tspan x="{cx:.1f}" dy="1.2em">{escape(show(value))}</tspan></text></g>'
    )


def _legend(low: float, high: float, show: Callable[[float | None], str], no_data: str) -> str:
    swatches = "".join(
        f'<rect x="{PAD + i * 28}" y="{HEIGHT + 8}" width="28" height="12" fill="{colour}"/>'
        for i, colour in enumerate(PALETTE)
    )
    return (
        f'<g class="legend">{swatches}'
        f'<text x="{PAD}" y="{HEIGHT + 34}" class="map-note">{escape(show(low))}</text>'
        f'<text x="{PAD + 28 * len(PALETTE)}" y="{HEIGHT + 34}" text-anchor="end" '
        f'class="map-note">{escape(show(high))}</text>'
        f'<rect x="{PAD + 28 * len(PALETTE) + 12}" y="{HEIGHT + 8}" width="12" height="12" '
        f'fill="{NO_DATA}"/>'
        f'<text x="{PAD + 28 * len(PALETTE) + 28}" y="{HEIGHT + 19}" class="map-note">'
        f"{escape(no_data)}</text></g>"
    )
