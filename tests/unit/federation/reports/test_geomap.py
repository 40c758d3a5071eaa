"""The district map: drawn from the shipped GeoJSON, filled by value, escaped, marked schematic."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from federation.alliance import load_alliance
from federation.reports.geomap import PALETTE, MapError, choropleth_svg, load_boundaries
from tests.conftest import DEMO_ALLIANCE

GEOJSON = Path(DEMO_ALLIANCE).parent / "districts.geojson"


def inside(point, ring) -> bool:
    """Ray casting: is (lon, lat) inside the ring?"""
    x, y, hit = point[0], point[1], False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


def draw(values, names=None, schematic=True):
    b = load_boundaries(GEOJSON)
    names = names or {code: code for code in b.shapes}
    return choropleth_svg(
        b,
        values,
        names,
        lambda v: "–" if v is None else f"{v:g}",
        "Map <title>",
        "schematic, not surveyed",
        "no data",
    )


def test_every_district_of_the_demo_has_a_shape_and_holds_its_libraries():
    alliance = load_alliance(DEMO_ALLIANCE)
    shapes = load_boundaries(GEOJSON).shapes
    leaves = {r.code for r in alliance.regions if r.level in ("district", "county")}
    assert set(shapes) == leaves
    for member in alliance.members:
        assert inside((member.longitude, member.latitude), shapes[member.region][0]), member.code


def test_the_highest_value_gets_the_darkest_colour_and_no_data_is_grey():
    svg = draw({"zhifu": 10.0, "muping": 1.0, "qixia": None})
    fills = dict(re.findall(r'data-district="(\w+)".*?fill="(#\w+)"', svg))
    assert fills["zhifu"] == PALETTE[-1] and fills["muping"] == PALETTE[0]
    assert fills["qixia"] == "#e5e7eb"


def test_names_and_titles_are_escaped():
    svg = draw({"zhifu": 1.0}, names={"zhifu": "<script>alert(1)</script>"})
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "Map &lt;title&gt;" in svg


def test_a_schematic_map_says_so():
    assert "schematic, not surveyed" in draw({})


def test_a_broken_boundary_file_is_one_clear_error(tmp_path):
    bad = tmp_path / "districts.geojson"
    bad.write_text(json.dumps({"features": [{"geometry": {"type": "Point"}}]}))
    with pytest.raises(MapError, match="not a GeoJSON FeatureCollection of districts"):
        load_boundaries(bad)
    assert load_boundaries(tmp_path / "none.geojson") is None
