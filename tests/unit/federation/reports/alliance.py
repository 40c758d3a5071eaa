"""A small alliance built by hand: three districts, four libraries, counted holdings and events.

north (10,000 people): uni (university), npl (public)
south (20,000 people): spl (public)
east  (5,000 people):  no library
"""

from __future__ import annotations

from federation.reports import facts as f
from federation.reports.facts import ALL_TYPES, District, Facts, Library


def small_alliance() -> Facts:
    """Return the hand-built alliance with holdings and March 2026 events."""
    facts = Facts(
        districts=[
            District("north", "北区", "North", 10_000),
            District("south", "南区", "South", 20_000),
            District("east", "东区", "East", 5_000),
        ],
        libraries=[
            Library("uni", "大学", "Uni", "university", "north", 37.50, 121.40),
            Library("npl", "北馆", "North PL", "public", "north", 37.51, 121.41),
            Library("spl", "南馆", "South PL", "public", "south", 37.30, 121.40),
        ],
    )
    h = facts.holdings
    h.titles.update(
        {
            ("north", ALL_TYPES): 900,
            ("north", "university"): 800,
            ("north", "public"): 300,
            ("south", ALL_TYPES): 100,
            ("south", "public"): 100,
        }
    )
    h.alliance_titles = 950
    h.class_titles.update(
        {("north", "TP"): 190, ("north", "I"): 18, ("south", "TP"): 10, ("south", "I"): 60}
    )
    h.alliance_class_titles.update({"TP": 200, "I": 80})
    r, mar = facts.rollup, "2026-03"
    # South: 40 requests (8 held in the district), 30 filled by the university, 4 cancelled.
    r.add(mar, f.REQUESTED, "south", "public", "TP", 30)
    r.add(mar, f.REQUESTED, "south", "public", "I", 10)
    r.add(mar, f.REQUESTED_HELD_LOCALLY, "south", "public", n=8)
    r.add(mar, f.FILLED, "south", "public", "TP", 30)
    r.add(mar, f.CANCELLED, "south", "public", "TP", 4)  # so 6 are unmet
    r.add(mar, f.LENT, "north", "university", n=30)
    r.add(mar, f.UNIVERSITY_TO_PUBLIC, "south", "public", n=30)
    for hours, n in ((10, 10), (20, 10), (50, 7), (100, 3)):
        r.add_hours(mar, "south", "public", hours, n)
    r.add_km(mar, "south", "public", 22.4, 40)
    # North: 20 requests, all held locally, 19 filled from the south within 5 hours.
    r.add(mar, f.REQUESTED, "north", "public", "I", 20)
    r.add(mar, f.REQUESTED_HELD_LOCALLY, "north", "public", n=20)
    r.add(mar, f.FILLED, "north", "public", "I", 19)
    r.add(mar, f.LENT, "south", "public", n=19)
    r.add_hours(mar, "north", "public", 5, 19)
    r.add_km(mar, "north", "public", 1.4, 20)
    # Searches: east searches a lot in TP and finds little.
    r.add(mar, f.SEARCHES, "east", "", "TP", 100)
    r.add(mar, f.ZERO_SEARCHES, "east", "", "TP", 40)
    r.add(mar, f.SEARCHES, "north", "public", "I", 200)
    r.add(mar, f.ZERO_SEARCHES, "north", "public", "I", 10)
    r.add(mar, f.SEARCHES, "south", "public", "TP", 50)
    r.add(mar, f.ZERO_SEARCHES, "south", "public", "TP", 5)
    return facts
